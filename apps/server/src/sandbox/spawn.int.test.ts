import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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

    // gVisor only: bubblewrap sets its limits before the program starts.
    if (candidate.name === 'gvisor') it('boots with every CPU, and gets its own CPU quota before the first input (or once the boot allowance ends)', async () => {
      // cgroup v1 here (ENVIRONMENT.md); on v2 the same value is `cpu.max`'s first field.
      const quota = (id: string) => {
        const v1 = `/sys/fs/cgroup/cpu/loom/${id}/sandbox/cpu.cfs_quota_us`;
        const file = existsSync(v1) ? v1 : `/sys/fs/cgroup/loom/${id}/sandbox/cpu.max`;
        return Number(readFileSync(file, 'utf8').trim().split(' ')[0]);
      };
      const echo = 'process.stdout.write("up\\n"); process.stdin.on("data", (d) => process.stdout.write("got " + d))';
      const proc = await make().spawn({ command: '/usr/bin/node', args: ['-e', echo], limits: { cpus: 0.5, wallClockMs: 0 } });
      const output = collect(proc);
      await expect.poll(() => output.text(), { timeout: 10_000 }).toContain('up');
      const boot = Math.max(1, availableParallelism()) * 100_000;
      // Unless the boot took longer than the allowance (a very busy machine).
      if (!output.text().includes('got')) expect([boot, 50_000]).toContain(quota(proc.id));
      proc.stdin.write('code\n');
      await expect.poll(() => output.text(), { timeout: 10_000 }).toContain('got code');
      expect(quota(proc.id)).toBe(50_000);
      await proc.kill('test done');

      const idle = await make().spawn({ command: '/usr/bin/node', args: ['-e', echo], limits: { cpus: 0.5, wallClockMs: 0 } });
      const idleOutput = collect(idle);
      await expect.poll(() => idleOutput.text(), { timeout: 10_000 }).toContain('up');
      await expect.poll(() => quota(idle.id), { timeout: 5_000 }).toBe(50_000);
      await idle.kill('test done');
    });

    it('refuses a relative command and a mount over /proc', async () => {
      await expect(make().spawn({ command: 'node' })).rejects.toThrow(/absolute path/);
      await expect(make().spawn({ command: '/usr/bin/node', mounts: [{ source: '/etc', target: '/proc/x' }] })).rejects.toThrow(/would cover/);
    });
  });
}
