import type { IncomingMessage } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { createFlowToolServer, type FlowToolCatalog } from '@loom/engine';
import type { Auth } from '../security/index.js';
import { SERVER_VERSION } from '../services.js';

export interface McpEndpointOptions {
  catalog: FlowToolCatalog;
  auth: Auth;
  /** Largest request body; a larger one is refused with 413 before it is parsed. */
  maxBodyBytes: number;
  logger: Logger;
}

const jsonRpcError = (code: number, message: string) => ({ jsonrpc: '2.0', id: null, error: { code, message } });

/**
 * `POST /mcp`: the saved flows as MCP tools over Streamable HTTP, stateless: every request
 * gets a server and transport of its own, dropped when it is answered, so no request sees
 * another's state. Mounted after the security middleware (Host check against DNS rebinding,
 * Origin check); here a Bearer token is required (never the browser cookie), the body is
 * bounded and must be JSON. The caller's token stays here: flows call upstream MCP servers
 * with those servers' own registered credentials.
 */
export function mcpEndpoint({ catalog, auth, maxBodyBytes, logger }: McpEndpointOptions): RequestHandler {
  return async (req, res) => {
    if (auth.enabled && !auth.checkBearer(req)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="loom-mcp"').json(jsonRpcError(-32001, 'this endpoint requires Authorization: Bearer <LOOM_ADMIN_TOKEN>'));
      return;
    }
    if (req.method !== 'POST') {
      // Stateless: no session stream to GET, no session to DELETE.
      res.status(405).set('Allow', 'POST').json(jsonRpcError(-32000, `${req.method} is not supported: send MCP requests with POST`));
      return;
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      res.status(415).json(jsonRpcError(-32700, 'the request body must be JSON (Content-Type: application/json)'));
      return;
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === 'too_large') {
      res.status(413).set('Connection', 'close').json(jsonRpcError(-32600, `the request body is over ${maxBodyBytes} bytes`));
      req.resume();
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch (error) {
      res.status(400).json(jsonRpcError(-32700, `parse error: ${(error as Error).message}`));
      return;
    }
    const server = await createFlowToolServer(catalog, { name: 'loom', version: SERVER_VERSION });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, message);
    } catch (error) {
      logger.error({ err: error }, 'MCP request failed');
      if (!res.headersSent) res.status(500).json(jsonRpcError(-32603, 'internal error'));
    }
  };
}

/** The body as text, or `too_large` as soon as it passes `limit` (a declared Content-Length over it is refused unread). */
function readBody(req: IncomingMessage, limit: number): Promise<string | 'too_large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}
