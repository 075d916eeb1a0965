import { afterAll, describe, expect, it } from 'vitest';
import type { SandboxAudit } from '@loom/engine';
import { testDrivers } from './test-drivers.js';
import type { GvisorDriver } from './gvisor.js';
import { WarmSandboxPool } from './warm-pool.js';

const echo = { command: '/usr/bin/node', args: ['-e', 'process.stdin.once("data", (d) => { process.stdout.write("got " + d); process.exit(0); })'], limits: { memoryMb: 128 } };

for (const candidate of testDrivers()) {
  describe.skipIf(candidate.skip)(`warm pool over ${candidate.name}`, () => {
    let pool: WarmSandboxPool;
    afterAll(() => pool?.close());

    it('hands out a started sandbox once, with its own wall clock and audit trail, and refills after use', { timeout: 60_000 }, async () => {
      pool = new WarmSandboxPool(candidate.make() as GvisorDriver, { size: 1 });
      pool.prewarm(echo);
      await pool.ready();
      expect(pool.warmCount).toBe(1);
      // Idle longer than the wall clock it will be given: the clock starts at hand-out.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const audits: SandboxAudit[] = [];
      const proc = await pool.spawn({ ...echo, limits: { ...echo.limits, wallClockMs: 1_000 }, onAudit: (a) => audits.push(a) });
      expect(pool.warmCount).toBe(0);
      expect(audits[0]).toMatchObject({ type: 'created', sandboxId: proc.id, limits: { wallClockMs: 1_000 } });
      let out = '';
      proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      proc.stdin.write('ping');
      const exit = await proc.exited;
      expect(exit).toMatchObject({ reason: 'exited', code: 0, cleanup: { ok: true, leftovers: [] } });
      expect(out).toBe('got ping');
      expect(audits.map((a) => a.type)).toEqual(['created', 'cleaned']);
      // The replacement starts once the used one has gone; it is a new sandbox.
      await expect.poll(() => pool.warmCount, { timeout: 20_000 }).toBe(1);
      const next = await pool.spawn({ ...echo, limits: { ...echo.limits, wallClockMs: 1_000 } });
      expect(next.id).not.toBe(proc.id);
      const killed = await next.exited;
      expect(killed.reason).toBe('timeout');
      expect(killed.cleanup).toEqual({ ok: true, leftovers: [] });
    });

    it('starts a cold sandbox for a spec it has no warm one for, and kills its idle sandboxes on close', { timeout: 60_000 }, async () => {
      const other = await pool.spawn({ ...echo, limits: { memoryMb: 96, wallClockMs: 20_000 } });
      other.stdin.write('x');
      expect((await other.exited).reason).toBe('exited');
      await expect.poll(() => pool.warmCount, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
      await pool.close();
      expect(pool.warmCount).toBe(0);
      await expect(pool.spawn(echo)).rejects.toThrow(/closed/);
    });
  });
}
