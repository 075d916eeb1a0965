import type { ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { PassThrough, Writable as WritableStream } from 'node:stream';
import { checkLabel } from './host-files.js';
import { SandboxError, type SandboxAudit, type SandboxCleanup, type SandboxEndReason, type SandboxExit, type SandboxLimits, type SandboxProcess } from '@loom/engine';

export type SandboxChild = ChildProcessByStdio<Writable, Readable, Readable>;

/** What a driver supplies to turn its launcher process into a `SandboxProcess`. */
export interface ManagedSandboxHooks {
  /** Kills everything inside the sandbox (the launcher process alone is not enough for runsc). */
  killAll(): Promise<void>;
  /** Removes what is left (state, bundle, cgroups) and reports anything that would not go. */
  cleanUp(): Promise<SandboxCleanup>;
  /** Reads why a SIGKILL happened that the driver did not send (e.g. the memory cgroup's counters). */
  diagnoseKill?(): 'memory' | 'pids' | undefined;
  /**
   * Applies limits the driver relaxed while the sandbox boots (gVisor: the CPU quota, as
   * its kernel and the interpreter start several threads at once). Called once, before the
   * first byte written to stdin (the code arrives that way) or when `BOOT_ALLOWANCE_MS`
   * ends, whichever comes first. A throw while the sandbox lives ends it.
   */
  applyRunLimits?(): void;
}

/** How long a sandbox may boot with relaxed limits (see `applyRunLimits`). */
export const BOOT_ALLOWANCE_MS = 2_000;

/**
 * The part every driver shares: the wall-clock limit, the output limit, kill, the audit
 * trail and one `exited` promise that settles after cleanup was checked.
 */
export class ManagedSandbox implements SandboxProcess {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable;
  readonly exited: Promise<SandboxExit>;
  private endReason: SandboxEndReason | undefined;
  private killing: Promise<void> | undefined;
  private outputBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Audit records of a sandbox started ahead of use (warm), kept for whoever takes it. */
  private heldAudit: SandboxAudit[] | undefined;
  private bootTimer: ReturnType<typeof setTimeout> | undefined;
  private audit: (record: SandboxAudit) => void;
  private startedAt: number;
  readonly limits: SandboxLimits;

  constructor(
    readonly id: string,
    readonly driver: string,
    limits: Readonly<SandboxLimits>,
    child: SandboxChild,
    private readonly hooks: ManagedSandboxHooks,
    audit: (record: SandboxAudit) => void,
    startedAt: number,
    /** Started warm: no wall clock and no audit sink until `arm`. */
    warm = false,
  ) {
    this.limits = { ...limits };
    this.startedAt = startedAt;
    if (warm) {
      const held: SandboxAudit[] = [];
      this.heldAudit = held;
      this.audit = (record) => held.push(record);
    } else this.audit = audit;
    this.stdin = hooks.applyRunLimits ? this.limitedOnFirstWrite(child.stdin, hooks.applyRunLimits) : child.stdin;
    // Count bytes on the way through, so a flood is cut off however the reader consumes it.
    this.stdout = this.metered(child.stdout);
    this.stderr = this.metered(child.stderr);
    // A write after the sandbox died must not crash the server.
    child.stdin.on('error', () => {});
    if (!warm) this.startClock();
    this.exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once('error', () => resolve({ code: null, signal: null }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    }).then(async ({ code, signal }) => {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      if (this.bootTimer) clearTimeout(this.bootTimer);
      await this.killing;
      let reason: SandboxEndReason = this.endReason ?? 'exited';
      if (!this.endReason && (signal === 'SIGKILL' || code === 137 || code === 128 + 9)) {
        const diagnosed = hooks.diagnoseKill?.();
        if (diagnosed === 'memory') {
          reason = 'memory';
          this.audit({ type: 'violation', sandboxId: id, kind: 'memory', detail: `memory limit of ${limits.memoryMb} MB reached` });
          this.audit({ type: 'killed', sandboxId: id, reason, detail: `killed for using more than ${limits.memoryMb} MB` });
        }
      }
      const cleanUp = () => hooks.cleanUp().catch((error: unknown): SandboxCleanup => ({ ok: false, leftovers: [`cleanup failed: ${(error as Error).message}`] }));
      let cleanup = await cleanUp();
      if (!cleanup.ok) {
        // Something outlived a launcher that exited on its own: kill it all, then check again.
        await this.hooks.killAll().catch(() => {});
        cleanup = await cleanUp();
      }
      this.audit({ type: 'cleaned', sandboxId: id, ok: cleanup.ok, leftovers: cleanup.leftovers });
      return { code, signal, reason, durationMs: Date.now() - this.startedAt, cleanup };
    });
  }

  /**
   * Hands a warm sandbox to its user: its own wall-clock and output limits start now, and
   * its audit sink receives what happened so far (its `created` record).
   */
  arm(limits: Pick<SandboxLimits, 'wallClockMs' | 'outputBytes'>, audit: (record: SandboxAudit) => void): void {
    this.limits.wallClockMs = limits.wallClockMs;
    this.limits.outputBytes = limits.outputBytes;
    this.startedAt = Date.now();
    const held = this.heldAudit ?? [];
    this.heldAudit = undefined;
    this.audit = audit;
    for (const record of held) {
      audit(record.type === 'created' ? { ...record, limits: { ...this.limits } } : record);
    }
    this.startClock();
  }

  /** Adds a record to the sandbox's audit trail (held for its user while warm). */
  record(record: SandboxAudit): void {
    this.audit(record);
  }

  /** Still usable: not ended, not being killed. */
  get alive(): boolean {
    return !this.endReason && !this.killing && !this.closed;
  }

  private closed = false;

  private startClock(): void {
    const { wallClockMs } = this.limits;
    if (wallClockMs > 0) {
      this.timer = setTimeout(() => this.end('timeout', `wall-clock limit of ${wallClockMs} ms reached`), wallClockMs);
      this.timer.unref();
    }
  }

  kill(reason = 'killed by its owner'): Promise<SandboxExit> {
    this.end('killed', reason);
    return this.exited;
  }

  private end(reason: SandboxEndReason, detail: string): void {
    if (this.endReason || this.killing) return;
    this.endReason = reason;
    if (reason === 'timeout' || reason === 'output_limit') {
      this.audit({ type: 'violation', sandboxId: this.id, kind: reason, detail });
    }
    this.audit({ type: 'killed', sandboxId: this.id, reason, detail });
    this.killing = this.hooks.killAll().catch(() => {});
  }

  /**
   * `target`, with the run limits applied before its first byte, or when the boot
   * allowance ends. Its errors are dropped like `target`'s: writing to a sandbox that died
   * must not crash the server (the caller learns from `exited`).
   */
  private limitedOnFirstWrite(target: Writable, applyRunLimits: () => void): Writable {
    let applied = false;
    const apply = () => {
      if (applied) return;
      applied = true;
      if (this.bootTimer) clearTimeout(this.bootTimer);
      try {
        applyRunLimits();
      } catch (error) {
        if (this.alive) this.end('killed', `its run limits could not be applied: ${(error as Error).message}`);
      }
    };
    this.bootTimer = setTimeout(apply, BOOT_ALLOWANCE_MS);
    this.bootTimer.unref();
    const stream = new WritableStream({
      write: (chunk: Buffer, _encoding, callback) => {
        apply();
        target.write(chunk, (error) => callback(error ?? null));
      },
      final: (callback) => target.end(() => callback()),
      destroy: (error, callback) => {
        target.destroy();
        callback(error);
      },
    });
    stream.on('error', () => {});
    return stream;
  }

  private metered(source: Readable): Readable {
    const out = new PassThrough();
    source.on('data', (chunk: Buffer) => {
      // Read on each chunk: a warm sandbox gets its limit when it is handed out.
      const limit = this.limits.outputBytes;
      if (limit === 0) {
        out.write(chunk);
        return;
      }
      if (this.endReason === 'output_limit') return;
      this.outputBytes += chunk.length;
      if (this.outputBytes > limit) {
        const allowed = chunk.length - (this.outputBytes - limit);
        if (allowed > 0) out.write(chunk.subarray(0, allowed));
        this.end('output_limit', `output limit of ${limit} bytes reached`);
        return;
      }
      out.write(chunk);
    });
    source.once('end', () => out.end());
    source.once('error', () => out.end());
    return out;
  }
}

/**
 * A driver's sandboxes still running: closing the driver kills them all, and a closed
 * driver starts no more.
 */
export class LiveSandboxes {
  private readonly live = new Set<ManagedSandbox>();
  private closed = false;
  /** Distinguishes this process's sandboxes from another server's sharing the machine. */
  private readonly instance = randomBytes(3).toString('hex');
  private counter = 0;

  constructor(private readonly driverName: string) {}

  /** A new sandbox's id: `loom-<label>-<instance>-<n>`, unique on this machine. */
  nextId(label: string | undefined): string {
    return `loom-${checkLabel(label)}-${this.instance}-${++this.counter}`;
  }

  /** Throws when the driver was closed. */
  assertOpen(): void {
    if (this.closed) throw new SandboxError(`the ${this.driverName} sandbox driver is closed`, 'sandbox_closed');
  }

  /** Tracks `sandbox` until it has exited; returns it. */
  track(sandbox: ManagedSandbox): ManagedSandbox {
    this.live.add(sandbox);
    void sandbox.exited.then(() => this.live.delete(sandbox));
    return sandbox;
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.live].map((sandbox) => sandbox.kill('the sandbox driver is closing')));
  }
}
