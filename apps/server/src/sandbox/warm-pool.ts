import { resolveSandboxLimits, SandboxError, type SandboxDriver, type SandboxProcess, type SandboxSpawnSpec } from '@loom/engine';
import type { ManagedSandbox } from './managed.js';

/** A driver that can start a sandbox ahead of use. */
export interface WarmableDriver extends SandboxDriver {
  start(spec: SandboxSpawnSpec, warm: boolean): ManagedSandbox;
}

export interface WarmPoolOptions {
  /** Sandboxes kept started per distinct spec (0 turns the pool off). */
  size?: number;
  /** Distinct specs kept warm at once; the least recently used one is dropped beyond it. */
  maxSpecs?: number;
}

/**
 * Hides a sandbox's cold start (runsc + node: ~0.35 s idle, more under load): for each spec
 * it has been asked for (same program, arguments, environment, mounts and resource
 * limits), it keeps `size` sandboxes started and waiting on stdin. A request takes one,
 * which then gets its own wall-clock and output limits and audit trail, and is never
 * reused: one sandbox per execution. A replacement starts in the background.
 *
 * Code skills fit this well: their program is always the same runner, and the code comes
 * over stdin. Specs differing only in wall-clock or output limits share a pool.
 */
export class WarmSandboxPool implements SandboxDriver {
  readonly name: string;
  readonly isolation: SandboxDriver['isolation'];
  readonly description: string;
  private readonly idle = new Map<string, ManagedSandbox[]>();
  private readonly filling = new Set<string>();
  private readonly specs = new Map<string, SandboxSpawnSpec>();
  private readonly size: number;
  private readonly maxSpecs: number;
  private closed = false;

  constructor(
    private readonly inner: WarmableDriver,
    options: WarmPoolOptions = {},
  ) {
    this.name = inner.name;
    this.isolation = inner.isolation;
    this.size = options.size ?? 2;
    this.maxSpecs = options.maxSpecs ?? 4;
    this.description = `${inner.description}; ${this.size} warm sandbox${this.size === 1 ? '' : 'es'} per code runtime`;
  }

  async spawn(spec: SandboxSpawnSpec): Promise<SandboxProcess> {
    if (this.closed) throw new SandboxError(`the ${this.name} sandbox driver is closed`, 'sandbox_closed');
    if (this.size === 0) return this.inner.spawn(spec);
    const limits = resolveSandboxLimits(spec.limits);
    const key = specKey(spec);
    const waiting = this.idle.get(key);
    let sandbox: ManagedSandbox | undefined;
    while (waiting?.length && !sandbox) {
      const candidate = waiting.shift()!;
      if (candidate.alive) sandbox = candidate;
    }
    this.remember(key, spec);
    // The replacement starts once this sandbox is done: a start competes for the CPU with
    // the call it would serve (measured here: a warm call took 30 ms instead of 5 with a
    // start beside it).
    const refill = () => this.fill(key);
    if (!sandbox) {
      const cold = await this.inner.spawn(spec);
      void cold.exited.then(refill);
      return cold;
    }
    sandbox.arm({ wallClockMs: limits.wallClockMs, outputBytes: limits.outputBytes }, (record) => spec.onAudit?.(record));
    void sandbox.exited.then(refill);
    return sandbox;
  }

  /** The driver behind the pool, for long-lived sandboxes (stdio MCP servers) that must never be started ahead. */
  get unpooled(): SandboxDriver {
    return this.inner;
  }

  /** Sandboxes started and waiting, for tests and `system.info`. */
  get warmCount(): number {
    let count = 0;
    for (const list of this.idle.values()) count += list.filter((sandbox) => sandbox.alive).length;
    return count;
  }

  /** Resolves once every remembered spec has its warm sandboxes (for benchmarks and tests). */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const full = [...this.specs.keys()].every((key) => (this.idle.get(key) ?? []).filter((s) => s.alive).length >= this.size);
      if (full && this.filling.size === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Starts warm sandboxes for `spec` before anyone asks (e.g. the code runtimes at server start). */
  prewarm(spec: SandboxSpawnSpec): void {
    const key = specKey(spec);
    this.remember(key, spec);
    this.fill(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    const waiting = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(waiting.map((sandbox) => sandbox.kill('the sandbox pool is closing')));
    await this.inner.close?.();
  }

  private remember(key: string, spec: SandboxSpawnSpec): void {
    this.specs.delete(key);
    this.specs.set(key, spec);
    while (this.specs.size > this.maxSpecs) {
      const oldest = this.specs.keys().next().value as string;
      this.specs.delete(oldest);
      for (const sandbox of this.idle.get(oldest) ?? []) void sandbox.kill('no longer kept warm');
      this.idle.delete(oldest);
    }
  }

  /** Tops up one spec's pool, one sandbox at a time (a start is CPU-heavy; requests come first). */
  private fill(key: string): void {
    if (this.filling.has(key) || this.closed) return;
    const spec = this.specs.get(key);
    if (!spec) return;
    const list = this.idle.get(key) ?? [];
    this.idle.set(key, list);
    const alive = list.filter((sandbox) => sandbox.alive);
    list.splice(0, list.length, ...alive);
    if (alive.length >= this.size) return;
    this.filling.add(key);
    let sandbox: ManagedSandbox;
    try {
      sandbox = this.inner.start({ ...spec, label: 'warm', onAudit: undefined }, true);
    } catch {
      this.filling.delete(key);
      return;
    }
    list.push(sandbox);
    // The next one once this one has had time to start, so starts do not pile up on the CPU.
    setTimeout(() => {
      this.filling.delete(key);
      this.fill(key);
    }, 150).unref();
    void sandbox.exited.then(() => {
      const current = this.idle.get(key);
      const at = current?.indexOf(sandbox) ?? -1;
      if (at >= 0) current!.splice(at, 1);
    });
  }
}

/** What a warm sandbox must share with a request to stand in for it. */
function specKey(spec: SandboxSpawnSpec): string {
  const { wallClockMs: _wall, outputBytes: _output, ...baked } = resolveSandboxLimits(spec.limits);
  return JSON.stringify([spec.command, spec.args ?? [], spec.env ?? {}, spec.mounts ?? [], spec.cwd ?? '/tmp', baked]);
}
