import { setMaxListeners } from 'node:events';
import type { RetryPolicy, RunError } from '@loom/shared';
import type { CancelSource } from '../context/cancellation.js';
import type { Clock } from '../context/context.js';
import { NodeError, toRunError } from '../errors.js';
import { retryDelay } from './plan.js';

/**
 * The one attempt loop, shared by a flow's nodes and by the tasks patterns hand out:
 * attempt, and on failure wait (exponential backoff, jitter derived from the id) and
 * attempt again, until success, a non-retryable error, the policy's last attempt, or
 * the end of the run. Per-attempt timeouts race the attempt against the clock.
 */
export interface AttemptPolicy {
  retry: RetryPolicy;
  timeoutMs: number | undefined;
  /** `timeoutMs === undefined && retry.maxAttempts <= 1`, when the caller has it at hand. */
  singleAttempt?: boolean;
}

/** What the loop asks of whoever owns the attempts (a run for nodes, a task scope for tasks). */
export interface AttemptHost<T, R> {
  readonly clock: Clock;
  /** The run's signal (attempts with a timeout listen to it). */
  readonly signal: AbortSignal;
  /** Ends retry waits when the run ends: the run's `Cancellation`, or the signal itself. */
  readonly cancellation: CancelSource;
  /** True once the run has ended: stop attempting. */
  ended(): boolean;
  /** Logs the attempt's start; returns the time it started (what expressions see as now). */
  attemptStarted(target: T, attempt: number): number;
  /**
   * Runs one attempt. `signal` is the attempt's own when it has a timeout (it aborts when
   * the run ends or the attempt times out); undefined stands for the host's `signal`, which
   * the host may then create only if the attempt asks for it.
   */
  attempt(target: T, attempt: number, now: number, signal: AbortSignal | undefined): R | Promise<R>;
  /** Logs a failed attempt that will be retried after `waitMs`. */
  attemptFailed(target: T, attempt: number, error: RunError, waitMs: number): void;
}

export type AttemptsResult<R> = { ok: true; value: R; attempt: number } | { ok: false; error: RunError; attempt: number };

/** `null` when the run ended before an outcome. */
export async function runAttempts<T, R>(host: AttemptHost<T, R>, target: T, policy: AttemptPolicy, id: string, nodeId: string): Promise<AttemptsResult<R> | null> {
  for (let attempt = 1; ; attempt++) {
    if (host.ended()) return null;
    const now = host.attemptStarted(target, attempt);
    try {
      const value =
        policy.timeoutMs === undefined
          ? await host.attempt(target, attempt, now, undefined)
          : await withTimeout(host, target, attempt, now, policy.timeoutMs, policy.retry.maxAttempts);
      return { ok: true, value, attempt };
    } catch (error) {
      if (host.ended()) return null;
      const runError = toRunError(error, nodeId);
      if (runError.retryable === false || attempt >= policy.retry.maxAttempts) return { ok: false, error: runError, attempt };
      const wait = retryDelay(policy.retry, attempt, `${id}/${attempt}`);
      host.attemptFailed(target, attempt, runError, wait);
      try {
        await host.clock.sleep(wait, host.cancellation);
      } catch {
        return null;
      }
    }
  }
}

/** Where `followAttempts` reports: a run following its nodes. */
export interface AttemptFollower<T, R> extends AttemptHost<T, R> {
  /** The outcome (`null` when the run ended first). Must not throw. */
  settled(target: T, result: AttemptsResult<R> | null): void;
  /** What `runAttempts` would have rejected with: logging an attempt failed (the event sink threw). */
  loggingFailed(error: unknown): void;
}

/**
 * `await runAttempts(...)` without an async caller: calls `host.settled` (or
 * `host.loggingFailed`) at the very microtask where such a caller would resume, so event
 * logs keep their order. A target with neither retries nor a timeout (most nodes) takes
 * the same steps as the loop's first and only attempt, but while it runs it is followed
 * by one promise reaction instead of two suspended async functions, which thousands of
 * waiting runs would each keep alive (and the garbage collector copy).
 */
export function followAttempts<T, R>(host: AttemptFollower<T, R>, target: T, policy: AttemptPolicy, id: string, nodeId: string): void {
  if (!(policy.singleAttempt ?? (policy.timeoutMs === undefined && policy.retry.maxAttempts <= 1))) {
    void runAttempts(host, target, policy, id, nodeId).then(
      (result) => host.settled(target, result),
      (error: unknown) => host.loggingFailed(error),
    );
    return;
  }
  // Each step reports where the loop's would have: a sync throw or return settles its
  // promise now (reported one microtask later); `await value` resumes one microtask after
  // `value` settles, and the loop then returns (reported one more microtask later).
  if (host.ended()) return settleLater(host, target, null);
  let value: R | Promise<R>;
  try {
    const now = host.attemptStarted(target, 1);
    try {
      value = host.attempt(target, 1, now, undefined);
    } catch (error) {
      return settleLater(host, target, onlyAttemptFailed(host, error, nodeId));
    }
  } catch (error) {
    void Promise.resolve().then(() => host.loggingFailed(error));
    return;
  }
  void Promise.resolve(value).then(
    (output) => settleLater(host, target, { ok: true, value: output, attempt: 1 }),
    (error: unknown) => settleLater(host, target, onlyAttemptFailed(host, error, nodeId)),
  );
}

/** Reports `result` one microtask from now: where a caller awaiting a promise settled now would resume. */
function settleLater<T, R>(host: AttemptFollower<T, R>, target: T, result: AttemptsResult<R> | null): void {
  void Promise.resolve(result).then((settled) => host.settled(target, settled));
}

/** The outcome of a failed attempt that is not retried, as the loop would give it. */
function onlyAttemptFailed<R>(host: AttemptHost<unknown, R>, error: unknown, nodeId: string): AttemptsResult<R> | null {
  if (host.ended()) return null;
  return { ok: false, error: toRunError(error, nodeId), attempt: 1 };
}

/** Races an attempt with its timeout; the attempt's own signal aborts either way, so it can stop its work. */
async function withTimeout<T, R>(host: AttemptHost<T, R>, target: T, attempt: number, now: number, timeoutMs: number, maxAttempts: number): Promise<R> {
  const controller = new AbortController();
  // Every attempt running with a timeout listens on the run's signal; more than 10 is normal, not a leak.
  setMaxListeners(0, host.signal);
  const forward = () => controller.abort(host.signal.reason);
  host.signal.addEventListener('abort', forward, { once: true });
  const timeout = new NodeError(`timed out after ${timeoutMs} ms (attempt ${attempt} of ${maxAttempts})`, 'timeout', true);
  try {
    return await Promise.race([
      host.attempt(target, attempt, now, controller.signal),
      host.clock.sleep(timeoutMs, controller.signal).then(() => {
        throw timeout;
      }),
    ]);
  } finally {
    host.signal.removeEventListener('abort', forward);
    if (!controller.signal.aborted) controller.abort(timeout);
  }
}
