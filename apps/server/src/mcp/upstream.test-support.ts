// A real upstream MCP server for the server's integration tests: the SDK's McpServer over its
// StreamableHTTPServerTransport on 127.0.0.1, with sessions (one McpServer per session, as the
// SDK's examples do). Tests change its tools' descriptions (a rug pull), forget its sessions
// (a restart) and read the headers it received.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface Upstream {
  url: string;
  /** Headers of every request received, in order. */
  headers: IncomingHttpHeaders[];
  /** Arguments of every forecast call. */
  calls: unknown[];
  /** The forecast tool's description, as new sessions list it. */
  description: string;
  sessions(): number;
  /** Drops every session, as a restarted server would. */
  forgetSessions(): void;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const state: Upstream = {
    url: '',
    headers: [],
    calls: [],
    description: 'Weather forecast for a city',
    sessions: () => transports.size,
    forgetSessions: () => transports.clear(),
    close: async () => {
      for (const transport of transports.values()) await transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  const newServer = () => {
    const server = new McpServer({ name: 'weather', version: '1.0.0' }, { capabilities: { resources: {}, prompts: {} } });
    server.registerTool('forecast', { description: state.description, inputSchema: { city: z.string() } }, async ({ city }) => {
      state.calls.push({ city });
      return { content: [{ type: 'text', text: `sunny in ${city}` }], structuredContent: { city, sky: 'sunny' } };
    });
    server.registerResource('stations', 'weather://stations', { description: 'Weather stations', mimeType: 'application/json' }, async (uri) => ({ contents: [{ uri: uri.href, text: '["Brest"]' }] }));
    server.registerPrompt('ask', { description: 'Ask for a forecast', argsSchema: { city: z.string() } }, ({ city }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Weather in ${city}?` } }] }));
    return server;
  };
  const http: Server = createServer(async (req, res) => {
    state.headers.push(req.headers);
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (typeof sessionId === 'string') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        return;
      }
      const created = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void transports.set(id, created) });
      created.onclose = () => {
        if (created.sessionId) transports.delete(created.sessionId);
      };
      await newServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  return state;
}
