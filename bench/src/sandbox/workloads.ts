import { spawn } from 'node:child_process';
import { codeRuntime, resolveSandboxLimits, type SandboxDriver, type SandboxProcess, type SandboxSpawnSpec } from '@loom/engine';
import { percentile, round } from '../measure.js';

const READY = '\u001eLOOM-READY';
const RESULT = '\u001eLOOM-RESULT ';
const REQUEST = JSON.stringify({ code: 'return input.n * 2', input: { n: 21 } }) + '\n';

/** The code skill's JavaScript runner, as the engine starts it (same arguments, same limits). */
export function runnerSpec(): SandboxSpawnSpec {
  const limits = resolveSandboxLimits({ wallClockMs: 60_000 });
  const runtime = codeRuntime('javascript', limits);
  return { command: runtime.command, args: runtime.args, env: runtime.env, mounts: runtime.mounts, limits, label: 'bench' };
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

export function summarise(samples: number[]): Summary {
  return { n: samples.length, p50: round(percentile(samples, 50), 1), p99: round(percentile(samples, 99), 1), min: round(Math.min(...samples), 1), max: round(Math.max(...samples), 1) };
}

/** Resolves with the time (performance.now) at which `mark` first appears on `stream`. */
function waitFor(stream: NodeJS.ReadableStream, mark: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      if (text.includes(mark)) {
        stream.off('data', onData);
        resolve(performance.now());
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended before ${JSON.stringify(mark)}: ${text.slice(-300)}`)));
  });
}

export interface CallTimes {
  /** spawn -> runner ready: the cold start. */
  startMs: number;
  /** request written -> result frame: the call in an already started sandbox. */
  callMs: number;
  /** result -> process gone, cleanup verified. */
  teardownMs: number;
  /** spawn -> cleanup verified. */
  totalMs: number;
}

/** One code call in a new sandbox, timed by phase. Fails unless the answer is right and the cleanup verified. */
export async function timedCall(driver: SandboxDriver): Promise<CallTimes> {
  const t0 = performance.now();
  const proc: SandboxProcess = await driver.spawn(runnerSpec());
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await waitFor(proc.stdout, READY);
  const result = waitFor(proc.stdout, `${RESULT}{"ok":true,"output":42}`);
  const t1 = performance.now();
  proc.stdin.write(REQUEST);
  const t2 = await result;
  const exit = await proc.exited;
  const t3 = performance.now();
  if (!exit.cleanup.ok) throw new Error(`sandbox ${proc.id} was not cleaned up: ${exit.cleanup.leftovers.join(', ')}`);
  if (exit.reason !== 'exited' || exit.code !== 0) throw new Error(`sandbox ${proc.id} ended ${exit.reason} (code ${exit.code}): ${stderr.slice(-500)}`);
  return { startMs: ready - t0, callMs: t2 - t1, teardownMs: t3 - t2, totalMs: t3 - t0 };
}

/**
 * The sandbox's own floor: the same driver and limits starting `/usr/bin/echo` (no
 * interpreter to boot), spawn -> its output. What is left of a cold start once node's
 * own start is taken away; `callMs` is 0.
 */
export async function timedEcho(driver: SandboxDriver): Promise<CallTimes> {
  const spec = runnerSpec();
  const t0 = performance.now();
  const proc: SandboxProcess = await driver.spawn({ command: '/usr/bin/echo', args: [READY], limits: spec.limits, label: 'bench-echo' });
  const ready = await waitFor(proc.stdout, READY);
  const exit = await proc.exited;
  const t3 = performance.now();
  if (!exit.cleanup.ok) throw new Error(`sandbox ${proc.id} was not cleaned up: ${exit.cleanup.leftovers.join(', ')}`);
  if (exit.reason !== 'exited' || exit.code !== 0) throw new Error(`sandbox ${proc.id} ended ${exit.reason} (code ${exit.code})`);
  return { startMs: ready - t0, callMs: 0, teardownMs: t3 - ready, totalMs: t3 - t0 };
}

/**
 * The baseline: the same runner as a plain child process of this one (no sandbox), which
 * is what n8n's code node does. Same phases.
 */
export async function timedNativeCall(): Promise<CallTimes> {
  const spec = runnerSpec();
  const t0 = performance.now();
  const child = spawn(spec.command, [...(spec.args ?? [])], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...spec.env } });
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  const ready = await waitFor(child.stdout, READY);
  const result = waitFor(child.stdout, `${RESULT}{"ok":true,"output":42}`);
  const t1 = performance.now();
  child.stdin.write(REQUEST);
  const t2 = await result;
  const code = await closed;
  const t3 = performance.now();
  if (code !== 0) throw new Error(`native runner exited ${code}`);
  return { startMs: ready - t0, callMs: t2 - t1, teardownMs: t3 - t2, totalMs: t3 - t0 };
}

export async function sequential(times: number, call: () => Promise<CallTimes>, warmUp = 1): Promise<Record<keyof CallTimes, Summary>> {
  for (let i = 0; i < warmUp; i++) await call();
  const samples: CallTimes[] = [];
  for (let i = 0; i < times; i++) samples.push(await call());
  return summariseCalls(samples);
}

export function summariseCalls(samples: CallTimes[]): Record<keyof CallTimes, Summary> {
  return {
    startMs: summarise(samples.map((s) => s.startMs)),
    callMs: summarise(samples.map((s) => s.callMs)),
    teardownMs: summarise(samples.map((s) => s.teardownMs)),
    totalMs: summarise(samples.map((s) => s.totalMs)),
  };
}

/** `count` sandboxes started at once, each answering one call. */
export async function concurrent(driver: SandboxDriver, count: number): Promise<{ wallMs: number; perCall: Record<keyof CallTimes, Summary> }> {
  const t0 = performance.now();
  const samples = await Promise.all(Array.from({ length: count }, () => timedCall(driver)));
  return { wallMs: round(performance.now() - t0, 1), perCall: summariseCalls(samples) };
}
