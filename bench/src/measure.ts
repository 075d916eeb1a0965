import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleepPromise } from 'node:timers/promises';

/** Timing, memory sampling and statistics shared by the workloads. */

export const now = (): number => performance.now();

const MB = 1024 * 1024;

/** Runs a full GC when node was started with --expose-gc; a no-op otherwise. */
export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    collect();
    collect();
  }
}

export const gcAvailable = (): boolean => typeof (globalThis as { gc?: unknown }).gc === 'function';

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted sample. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** The machine a result file was measured on; `loadStart` is the 1-minute load average when the bench began. */
/**
 * Call when a benchmark starts; `header(quick)` then gives what every report opens with: the
 * machine (with its load at the start and now), the start date, the mode and the duration.
 */
export function startReport() {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadStart = loadavg()[0]!;
  return {
    loadStart,
    header: (quick: boolean) => ({ machine: machineInfo(loadStart), date: startedAt.toISOString(), quick, durationSec: round((performance.now() - t0) / 1000, 1) }),
  };
}

export function machineInfo(loadStart: number) {
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    platform: platform(),
    arch: arch(),
    totalMemMb: Math.round(totalmem() / 1024 / 1024),
    /** 1-minute load average before and after: other work on the machine makes figures noisy. */
    loadAvgStart: round(loadStart, 2),
    loadAvgEnd: round(loadavg()[0]!, 2),
  };
}

/** Rounds to `digits` decimals; keeps JSON and tables readable. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// --- Resident set size -------------------------------------------------------------

const PROC_STATUS = '/proc/self/status';
const CLEAR_REFS = '/proc/self/clear_refs';

/** Kernel-tracked peak RSS (VmHWM) in bytes, or undefined off Linux. */
function readHighWaterMark(): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(PROC_STATUS, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux >= 4.0: write "5" to clear_refs). */
function resetHighWaterMark(): boolean {
  try {
    writeFileSync(CLEAR_REFS, '5');
    return true;
  } catch {
    return false;
  }
}

export interface RssReport {
  /** RSS when the phase started (after GC), MB. */
  rssBeforeMb: number;
  /** Highest RSS during the phase, MB: max of the interval samples and the kernel's VmHWM. */
  peakRssMb: number;
  /** peakRssMb - rssBeforeMb. */
  rssDeltaMb: number;
  /** Highest of the interval samples alone (they can miss peaks while the event loop is busy). */
  sampledPeakRssMb: number;
  samples: number;
  /** Whether the kernel's peak (VmHWM, reset per phase) was available. */
  kernelPeak: boolean;
}

/**
 * Samples `process.memoryUsage().rss` every `intervalMs` on the event loop. Samples
 * stall while the loop is busy with synchronous work, so the peak also takes the
 * kernel's high-water mark (VmHWM), reset at `start()`, which sees every page.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private max = 0;
  private count = 0;
  private before = 0;
  private kernel = false;

  constructor(private readonly intervalMs = 5) {}

  start(): void {
    this.kernel = resetHighWaterMark();
    this.before = process.memoryUsage.rss();
    this.max = this.before;
    this.count = 1;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const rss = process.memoryUsage.rss();
    this.count++;
    if (rss > this.max) this.max = rss;
  }

  stop(): RssReport {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    const hwm = this.kernel ? readHighWaterMark() : undefined;
    const peak = Math.max(this.max, hwm ?? 0);
    return {
      rssBeforeMb: round(this.before / MB, 1),
      peakRssMb: round(peak / MB, 1),
      rssDeltaMb: round((peak - this.before) / MB, 1),
      sampledPeakRssMb: round(this.max / MB, 1),
      samples: this.count,
      kernelPeak: hwm !== undefined,
    };
  }
}

export interface Phase<T> {
  value: T;
  wallMs: number;
  /** CPU time (user + system) of the whole process during the phase, ms: wall >> cpu means waiting (timers) or a busy machine. */
  cpuMs: number;
  rss: RssReport;
}

/** GC, then times `fn` while sampling RSS. */
export async function measurePhase<T>(fn: () => Promise<T>): Promise<Phase<T>> {
  gc();
  // Let the sampler's first tick and any pending finalisers run outside the clock.
  await sleepPromise(1);
  const sampler = new RssSampler(5);
  sampler.start();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let value: T;
  let wallMs: number;
  let cpuMs: number;
  let rss: RssReport;
  try {
    value = await fn();
    wallMs = now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuMs = (cpu.user + cpu.system) / 1000;
  } finally {
    // Stop even on failure so the interval cannot keep the process alive.
    rss = sampler.stop();
  }
  return { value, wallMs, cpuMs, rss };
}

/** Phases of each repetition: the raw baseline, then the engine, in the same process. */
export interface PairedPhases<B, E> {
  baseline: Phase<B>[];
  engine: Phase<E>[];
}

/** Runs `repetitions` rounds of baseline then engine, each a measured phase. */
export async function measurePairs<B, E>(repetitions: number, baseline: () => Promise<B>, engine: () => Promise<E>): Promise<PairedPhases<B, E>> {
  const phases: PairedPhases<B, E> = { baseline: [], engine: [] };
  for (let rep = 0; rep < repetitions; rep++) {
    phases.baseline.push(await measurePhase(baseline));
    phases.engine.push(await measurePhase(engine));
  }
  return phases;
}

/** The worst (largest) RSS report of several phases. */
export function worstRss(reports: readonly RssReport[]): RssReport {
  return reports.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
}

// --- Raw-Promise baselines --------------------------------------------------------

async function passAlong<T>(value: T): Promise<T> {
  return value;
}

/** W1 baseline: `n` sequential awaits of an async no-op, passing a value along. */
export async function rawChain<T>(n: number, value: T): Promise<T> {
  let v = value;
  for (let i = 0; i < n; i++) v = await passAlong(v);
  return v;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Marks the one stdout line of a workload child that carries its JSON result. */
export const RESULT_PREFIX = '@@bench-result ';

/** Logs progress to stderr (stdout carries the child's JSON result). */
export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

/**
 * Runs a bench's `main` and sets the exit code it returns (1 when it throws). The exit code
 * is set, not forced, so pending writes (the result file, stdout) finish first.
 */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
