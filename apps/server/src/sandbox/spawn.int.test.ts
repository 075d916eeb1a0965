import { afterAll, describe, expect, it } from 'vitest';
import type { SandboxAudit, SandboxDriver, SandboxProcess } from '@loom/engine';
import { testDrivers } from './test-drivers.js';
import { leftoverProcesses } from './verify.js';

function collect(proc: SandboxProcess): { text: () => string } {
  let text = '';
  proc.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { text: () => text };
}

for (const candidate of testDrivers()) {
  describe.skipIf(candidate.skip)(`spawn API (${candidate.name})`, () => {
    let driver: SandboxDriver;
    const audits: SandboxAudit[] = [];
    afterAll(() => driver?.close?.());
    const make = () => (driver ??= candidate.make());

    it('talks over stdin/stdout with a long-lived process and cleans up on kill', async () => {
      process.env['LOOM_TEST_SERVER_SECRET'] = 'do-not-leak';
      const proc = await make().spawn({
        command: '/usr/bin/node',
        args: ['-e', 'process.stdin.on("data", (d) => process.stdout.write(JSON.stringify({ echo: String(d).trim(), uid: process.getuid(), env: process.env }) + "\\n"))'],
        env: { GREETING: 'hello' },
        limits: { wallClockMs: 0 },
        label: 'echo',
        onAudit: (record) => audits.push(record),
      });
      const output = collect(proc);
      proc.stdin.write('ping\n');
      await expect.poll(() => output.text(), { timeout: 10_000 }).toContain('"echo":"ping"');
      const answer = JSON.parse(output.text().trim().split('\n')[0]!) as { uid: number; env: Record<string, string> };
      expect(answer.uid).toBe(65534);
      expect(answer.env).toEqual({ GREETING: 'hello', PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', ...(answer.env['PWD'] ? { PWD: '/tmp' } : {}) });
      const exit = await proc.kill('test done');
      expect(exit.reason).toBe('killed');
      expect(exit.cleanup).toEqual({ ok: true, leftovers: [] });
      expect(leftoverProcesses(proc.id)).toEqual([]);
      expect(audits.filter((a) => a.sandboxId === proc.id).map((a) => a.type)).toEqual(['created', 'killed', 'cleaned']);
    });

    it('ends a process that outlives its wall-clock limit', async () => {
      const proc = await make().spawn({ command: '/usr/bin/node', args: ['-e', 'setInterval(() => {}, 1000)'], limits: { wallClockMs: 1500 } });
      const exit = await proc.exited;
      expect(exit.reason).toBe('timeout');
      expect(exit.durationMs).toBeGreaterThanOrEqual(1500);
      expect(exit.cleanup.ok).toBe(true);
    });

    it('refuses a relative command and a mount over /proc', async () => {
      await expect(make().spawn({ command: 'node' })).rejects.toThrow(/absolute path/);
      await expect(make().spawn({ command: '/usr/bin/node', mounts: [{ source: '/etc', target: '/proc/x' }] })).rejects.toThrow(/would cover/);
    });
  });
}
