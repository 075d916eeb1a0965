import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RunEvent } from '@loom/shared';
import { bwrapAvailable, gvisorAvailable } from '@loom/server';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function flow(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [MAIN, ...args], { cwd: ROOT, env: { ...process.env, INIT_CWD: ROOT, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const file = join(mkdtempSync(join(tmpdir(), 'loom-cli-code-')), 'code.json');
writeFileSync(
  file,
  JSON.stringify({
    version: 1,
    id: 'code',
    name: 'Code',
    nodes: [
      { id: 'in', kind: 'input', config: { fields: { n: { type: 'number', required: true } } } },
      { id: 'double', kind: 'skill', config: { skill: 'code', params: { code: 'console.log("doubling", input.n); return { n: input.n * 2 }', outputSchema: { type: 'object', required: ['n'] } } } },
      { id: 'out', kind: 'output' },
    ],
    edges: [
      { from: 'in', to: 'double' },
      { from: 'double', to: 'out' },
    ],
  }),
);

const gvisor = gvisorAvailable();
const bwrap = bwrapAvailable();
const skip = !gvisor.ok && !bwrap.ok ? `no sandbox here (gvisor: ${gvisor.reason}; bwrap: ${bwrap.reason})` : undefined;
if (skip) console.warn(`CLI code-node tests skipped: ${skip}`);

describe('pnpm flow run with a code node', () => {
  it.skipIf(skip)('runs the code in the strongest sandbox and logs its audit trail', { timeout: 60_000 }, async () => {
    const result = await flow({}, 'run', file, '--input', '{"n":21}', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const events = result.stdout.trimEnd().split('\n').map((line) => RunEvent.parse(JSON.parse(line)));
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded', output: { n: 42 } });
    expect(events.find((e) => e.type === 'sandbox.created')).toMatchObject({ nodeId: 'double', sandboxId: 'double/1/code-1', driver: gvisor.ok ? 'gvisor' : 'bwrap', runtime: 'javascript' });
    expect(events.find((e) => e.type === 'sandbox.output')).toMatchObject({ stream: 'stdout', text: 'doubling 21\n' });
    expect(events.find((e) => e.type === 'sandbox.cleaned')).toMatchObject({ ok: true, leftovers: [], exitCode: 0 });
  });

  it('with LOOM_SANDBOX=none refuses the code node with what to install, exit 1', { timeout: 60_000 }, async () => {
    const result = await flow({ LOOM_SANDBOX: 'none' }, 'run', file, '--input', '{"n":1}');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ double.*untrusted code cannot run: .*Install gVisor \(Debian package runsc\)/);
  });
});
