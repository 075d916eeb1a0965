import { setMaxListeners } from 'node:events';
import type { RetryPolicy, RunError } from '@loom/shared';
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
}

/** What the loop asks of whoever owns the attempts (a run for nodes, a task scope for tasks). */
export interface AttemptHost<T, R> {
  readonly clock: Clock;
  /** The run's signal: waits end when it aborts. */
  readonly signal: AbortSignal;
  /** True once the run has ended: stop attempting. */
  ended(): boolean;
  /** Logs the attempt's start; returns the time it started (what expressions see as now). */
  attemptStarted(target: T, attempt: number): number;
  /** Runs one attempt; `signal` aborts when the run ends or the attempt times out. */
  attempt(target: T, attempt: number, now: number, signal: AbortSignal): R | Promise<R>;
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
          ? await host.attempt(target, attempt, now, host.signal)
          : await withTimeout(host, target, attempt, now, policy.timeoutMs, policy.retry.maxAttempts);
      return { ok: true, value, attempt };
    } catch (error) {
      if (host.ended()) return null;
      const runError = toRunError(error, nodeId);
      if (runError.retryable === false || attempt >= policy.retry.maxAttempts) return { ok: false, error: runError, attempt };
      const wait = retryDelay(policy.retry, attempt, `${id}/${attempt}`);
      host.attemptFailed(target, attempt, runError, wait);
      try {
        await host.clock.sleep(wait, host.signal);
      } catch {
        return null;
      }
    }
  }
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
