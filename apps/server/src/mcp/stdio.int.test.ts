import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FlowInput } from '@loom/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gvisorAvailable } from '../sandbox/index.js';
import { allEvents, callerError, REPO_ROOT, startServer, waitFor, type TestServer } from '../test-support.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./__fixtures__/stdio-server.mjs', import.meta.url));

const notesFlow: FlowInput = {
  version: 1,
  id: 'notes',
  name: 'Notes',
  nodes: [
    { id: 'in', kind: 'input', config: { fields: { text: { type: 'string', required: true } } } },
    { id: 'shout', kind: 'mcp', config: { server: 'notes', tool: 'shout' } },
    { id: 'who', kind: 'mcp', config: { server: 'notes', tool: 'whoami', arguments: '{}' } },
    { id: 'both', kind: 'merge' },
    { id: 'out', kind: 'output' },
  ],
  edges: [
    { from: 'in', to: 'shout' },
    { from: 'in', to: 'who' },
    { from: 'shout', to: 'both', toPort: 'shout' },
    { from: 'who', to: 'both', toPort: 'who' },
    { from: 'both', to: 'out' },
  ],
};

const stdioConfig = { transport: 'stdio' as const, command: process.execPath, args: [SERVER_SCRIPT], env: { NOTES_MODE: 'test' }, mounts: [REPO_ROOT], allowCommand: true as const };

/** Host processes of sandboxes started for MCP servers (gVisor's runsc, or bwrap), by their label. */
const sandboxProcesses = () =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('mcp-notes') || line.includes(SERVER_SCRIPT)).length;

describe.skipIf(!gvisorAvailable().ok)('stdio MCP servers in the sandbox (gVisor, the strongest driver here)', () => {
  let loom: TestServer;
  beforeAll(async () => {
    loom = await startServer({ env: { LOOM_SANDBOX_WARM: '0', LOOM_MCP_IDLE_MS: '1500' } });
    await loom.caller.flows.create({ definition: notesFlow });
  });
  afterAll(() => loom?.close());

  it('registers a stdio server only with allowCommand: true', async () => {
    const { allowCommand: _consent, ...withoutConsent } = stdioConfig;
    const refused = await callerError(loom.caller.mcp.servers.register({ name: 'notes', config: withoutConsent as never }));
    expect(refused.message).toContain('allowCommand');
    const server = await loom.caller.mcp.servers.register({ name: 'notes', config: stdioConfig });
    expect(server.tools.map((t) => [t.name, t.state])).toEqual([
      ['shout', 'approved'],
      ['whoami', 'approved'],
    ]);
  }, 60_000);

  it('runs a flow calling its tools inside the sandbox: no server environment, not root; the process ends when idle', async () => {
    process.env['LOOM_TEST_SERVER_SECRET'] = 'must-not-leak';
    const run = await loom.caller.runs.start({ flowId: 'notes', input: { text: 'tide' }, wait: true });
    expect(run.error).toBeUndefined();
    const output = run.output as { shout: string; who: { uid: number; env: string[] } };
    expect(output.shout).toBe('TIDE');
    expect(output.who.uid).not.toBe(0);
    expect(output.who.env).toContain('NOTES_MODE');
    expect(output.who.env).not.toContain('LOOM_TEST_SERVER_SECRET');
    const events = await allEvents(loom.caller, run.id);
    expect(events.filter((e) => e.type === 'mcp.call').map((e) => (e as { tool: string }).tool).sort()).toEqual(['shout', 'whoami']);
    expect(loom.server.services.mcp.connectedNames()).toEqual(['notes']);
    expect(sandboxProcesses()).toBeGreaterThan(0);
    await waitFor('the idle stdio server to be stopped', () => loom.server.services.mcp.connectedNames().length === 0 && sandboxProcesses() === 0, 20_000, 100);
    delete process.env['LOOM_TEST_SERVER_SECRET'];
  }, 60_000);

  it('stops the server process when the server is removed', async () => {
    await loom.caller.mcp.servers.refresh({ name: 'notes' });
    expect(sandboxProcesses()).toBeGreaterThan(0);
    await loom.caller.mcp.servers.remove({ name: 'notes' });
    await waitFor('the removed server\'s process to end', () => sandboxProcesses() === 0, 10_000, 100);
  }, 60_000);
});

describe('stdio MCP servers without a sandbox driver', () => {
  let loom: TestServer;
  beforeAll(async () => {
    loom = await startServer({ env: { LOOM_SANDBOX: 'none' } });
  });
  afterAll(() => loom?.close());

  it('refuses to register one, saying it needs a sandbox driver', async () => {
    const error = await callerError(loom.caller.mcp.servers.register({ name: 'notes', config: stdioConfig }));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe('MCP server "notes" is a stdio server: its command needs a sandbox driver (gvisor or bwrap) to run in, and this server has none');
    expect(await loom.caller.mcp.servers.list()).toEqual([]);
  });
});
