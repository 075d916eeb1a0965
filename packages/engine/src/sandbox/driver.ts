import type { Readable, Writable } from 'node:stream';

/**
 * Where untrusted code runs: code skills, stdio MCP servers. Never the engine's own
 * process. The server provides the drivers (`gvisor`, `bwrap`, `none`); the engine only
 * sees this interface, through `EngineContext.sandbox`.
 *
 * The one primitive is `spawn`: a process in a fresh sandbox of its own, with streams,
 * an exit promise, and `kill` with verified cleanup. A code call and an MCP server are
 * both built on it.
 *
 * @example
 * ```ts
 * const proc = await driver.spawn({
 *   command: '/usr/bin/node',               // absolute host path; the driver maps it (and its libraries) in read-only
 *   args: ['/srv/mcp/server.js', '--stdio'],
 *   mounts: [{ source: '/srv/mcp' }],        // read-only; same path inside unless `target` is given
 *   env: { NODE_ENV: 'production' },         // the whole environment: nothing of the server's is inherited
 *   limits: { memoryMb: 256, wallClockMs: 0 }, // 0: no wall-clock limit (a long-lived server)
 *   onAudit: (record) => log(record),        // created, violation, killed, cleaned
 * });
 * proc.stdin.write('{"jsonrpc":"2.0",...}\n');
 * proc.stdout.on('data', (chunk) => ...);
 * const exit = await proc.kill('server closed'); // resolves once processes, mounts and directories are gone
 * exit.cleanup.ok;                               // false lists what was left behind in exit.cleanup.leftovers
 * ```
 */
export interface SandboxDriver {
  /** `gvisor`, `bwrap` or `none`. */
  readonly name: string;
  /** How far the sandbox can be trusted: `strong` (gVisor), `weak` (namespaces only), `none` (refuses to run). */
  readonly isolation: SandboxIsolation;
  /** One sentence for people: what this driver is and, when weaker, why. */
  readonly description: string;
  /**
   * Starts `spec.command` in a new sandbox. Rejects with a `SandboxError` when the
   * sandbox cannot be made (code `sandbox_unavailable` for the `none` driver).
   */
  spawn(spec: SandboxSpawnSpec): Promise<SandboxProcess>;
  /** Stops warm sandboxes and anything still running; the driver is unusable afterwards. */
  close?(): Promise<void>;
}

export type SandboxIsolation = 'strong' | 'weak' | 'none';

export interface SandboxSpawnSpec {
  /** Absolute path of the program on the host (e.g. `/usr/bin/node`); mapped in read-only with its shared libraries. */
  command: string;
  args?: readonly string[];
  /** The process's whole environment. Nothing is inherited from the server. */
  env?: Readonly<Record<string, string>>;
  /** Working directory inside the sandbox; default `/tmp` (the scratch directory). */
  cwd?: string;
  /** Host paths to show inside, always read-only. */
  mounts?: readonly SandboxMount[];
  limits?: Partial<SandboxLimits>;
  /** Short label for ids and diagnostics (e.g. the node id). Letters, digits, `-`, `_`, `.`. */
  label?: string;
  /** Receives the sandbox's audit trail as it happens. */
  onAudit?: (record: SandboxAudit) => void;
}

export interface SandboxMount {
  source: string;
  /** Path inside the sandbox; default: the same as `source`. */
  target?: string;
}

export interface SandboxLimits {
  /** Memory of everything in the sandbox; exceeding it kills the sandbox. */
  memoryMb: number;
  /** Share of one CPU core (0.5 = half a core). */
  cpus: number;
  /** Processes and threads. */
  pids: number;
  /** Killed after this long; 0 means no limit (long-lived servers). */
  wallClockMs: number;
  /** Size of the writable scratch directory (`/tmp`, also `HOME`). */
  scratchMb: number;
  /** Bytes of stdout + stderr before the sandbox is killed; 0 means no limit. */
  outputBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = {
  memoryMb: 256,
  cpus: 1,
  pids: 1024,
  wallClockMs: 10_000,
  scratchMb: 64,
  outputBytes: 1_000_000,
};

export interface SandboxProcess {
  /** Unique among this driver's sandboxes, e.g. `loom-<label>-<n>`. */
  readonly id: string;
  readonly driver: string;
  readonly limits: Readonly<SandboxLimits>;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles once the process ended and cleanup was checked. Never rejects. */
  readonly exited: Promise<SandboxExit>;
  /** Kills everything in the sandbox (if still running), then resolves like `exited`. */
  kill(reason?: string): Promise<SandboxExit>;
}

export type SandboxEndReason = 'exited' | 'killed' | 'timeout' | 'memory' | 'output_limit' | 'start_failed';

export interface SandboxExit {
  /** Exit code, or null when ended by a signal. */
  code: number | null;
  signal: string | null;
  /** Why it ended: on its own, or which limit or caller ended it. */
  reason: SandboxEndReason;
  /** Milliseconds from spawn to exit (for metadata and benchmarks; not written to run events). */
  durationMs: number;
  cleanup: SandboxCleanup;
}

export interface SandboxCleanup {
  ok: boolean;
  /** What was found left behind (processes, mounts, directories, cgroups); empty when ok. */
  leftovers: string[];
}

/** The audit trail of one sandbox, in order. The code skill turns these into `sandbox.*` run events. */
export type SandboxAudit =
  | { type: 'created'; sandboxId: string; driver: string; isolation: SandboxIsolation; limits: SandboxLimits; mounts: string[]; network: 'none' }
  | { type: 'violation'; sandboxId: string; kind: SandboxViolationKind; detail: string }
  | { type: 'killed'; sandboxId: string; reason: SandboxEndReason; detail: string }
  | { type: 'cleaned'; sandboxId: string; ok: boolean; leftovers: string[] };

export type SandboxViolationKind = 'memory' | 'timeout' | 'output_limit' | 'network' | 'pids' | 'filesystem' | 'signal';

/** A sandbox could not be made or used. `code` is stable: `sandbox_unavailable`, `sandbox_start_failed`, `sandbox_closed`. */
export class SandboxError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

/** Merges `partial` onto the defaults and checks the numbers, naming the bad field. */
export function resolveSandboxLimits(partial: Partial<SandboxLimits> | undefined, defaults: Readonly<SandboxLimits> = DEFAULT_SANDBOX_LIMITS): SandboxLimits {
  const limits = { ...defaults, ...partial };
  const check = (name: keyof SandboxLimits, min: number, max: number) => {
    const value = limits[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new SandboxError(`sandbox limit ${name} must be a number from ${min} to ${max}, got ${String(value)}`, 'sandbox_invalid_limits');
    }
  };
  check('memoryMb', 16, 65_536);
  check('cpus', 0.05, 64);
  check('pids', 8, 65_536);
  check('wallClockMs', 0, 86_400_000);
  check('scratchMb', 1, 65_536);
  check('outputBytes', 0, 1_000_000_000);
  return limits;
}
