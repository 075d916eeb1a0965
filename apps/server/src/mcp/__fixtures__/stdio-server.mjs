// A stdio MCP server for the integration tests, built with the SDK: it runs inside the
// sandbox, so it reports what it can see (its environment, its user id).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'notes', version: '1.0.0' });
server.registerTool('shout', { description: 'Upper-cases a text', inputSchema: { text: z.string() } }, async ({ text }) => ({
  content: [{ type: 'text', text: text.toUpperCase() }],
}));
server.registerTool('whoami', { description: 'What the process sees', inputSchema: {} }, async () => ({
  content: [{ type: 'text', text: 'inside' }],
  structuredContent: { uid: process.getuid?.() ?? -1, env: Object.keys(process.env).sort() },
}));
await server.connect(new StdioServerTransport());
