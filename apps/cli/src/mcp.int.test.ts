import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');

const dir = mkdtempSync(join(tmpdir(), 'loom-cli-mcp-'));
const greetFile = join(dir, 'greet.json');
writeFileSync(
  greetFile,
  JSON.stringify({
    version: 1,
    id: 'greet',
    name: 'Greet',
    description: 'Greets someone by name',
    nodes: [
      { id: 'in', kind: 'input', config: { fields: { name: { type: 'string', required: true, description: 'Who to greet' } } } },
      { id: 'greet', kind: 'skill', config: { skill: 'template', params: { template: 'Hello, {{ name }}!' } } },
      { id: 'out', kind: 'output' },
    ],
    edges: [
      { from: 'in', to: 'greet' },
      { from: 'greet', to: 'out' },
    ],
  }),
);

let client: Client;
let transport: StdioClientTransport;
const stderr: string[] = [];

beforeAll(async () => {
  // The SDK's own client spawns `pnpm flow mcp` (tsx main.ts mcp) and speaks MCP on its stdio.
  transport = new StdioClientTransport({ command: TSX, args: [MAIN, 'mcp', greetFile, join(ROOT, 'examples/hello.json')], cwd: ROOT, env: { ...(process.env as Record<string, string>), INIT_CWD: ROOT }, stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  client = new Client({ name: 'cli-test', version: '1.0.0' });
  await client.connect(transport);
}, 60_000);

afterAll(async () => {
  await client?.close();
});

describe('pnpm flow mcp (stdio)', () => {
  it('lists each flow file as a tool with its input schema', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['greet', 'hello']);
    expect(tools.find((t) => t.name === 'greet')).toMatchObject({
      title: 'Greet',
      description: 'Greets someone by name',
      inputSchema: { type: 'object', properties: { name: { type: 'string', description: 'Who to greet' } }, required: ['name'] },
    });
    expect(stderr.join('')).toContain('serving 2 flows as MCP tools on stdio');
  });

  it('runs a flow per call and answers with the output and the run metadata', async () => {
    const result = await client.callTool({ name: 'greet', arguments: { name: 'Ada' } });
    expect(result.content).toEqual([{ type: 'text', text: 'Hello, Ada!' }]);
    const meta = (result._meta as Record<string, { runId: string; status: string; durationMs: number; resources: { events: number } }>)['dev.loom/run']!;
    expect(meta.status).toBe('succeeded');
    expect(meta.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.resources.events).toBeGreaterThan(4);
    const again = await client.callTool({ name: 'greet', arguments: { name: 'Ada' } });
    expect((again._meta as Record<string, { runId: string }>)['dev.loom/run']!.runId).not.toBe(meta.runId);
  });

  it('refuses bad arguments and unknown tools without running anything', async () => {
    const bad = await client.callTool({ name: 'greet', arguments: {} });
    expect(bad).toMatchObject({ isError: true, _meta: { 'dev.loom/run': { refused: 'invalid_arguments' } } });
    expect((bad.content as { text: string }[])[0]!.text).toContain('missing required input "name"');
    await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toThrow(/no tool "nope"/);
  });

  it('exits when the client closes its stdin (no process left behind)', async () => {
    const pid = transport.pid!;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await client.close();
    const deadline = Date.now() + 10_000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  });
});
