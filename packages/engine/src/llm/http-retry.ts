import type { Clock } from '../context/context.js';
import { NodeError } from '../errors.js';
import { retryDelay } from '../scheduler/plan.js';

/**
 * Errors of a model call. `retryAfterMs` carries what the server asked for (429, 503);
 * `retryable` says whether trying again could help at all.
 *
 * Codes: `llm_auth` (401/403), `llm_unknown_model` (404, or a 400 naming the model),
 * `llm_rate_limited` (429), `llm_server_error` (5xx), `llm_timeout` (request or stream
 * stalled), `llm_network` (no connection), `llm_bad_request` (other 4xx),
 * `llm_invalid_response` (an answer that is not the protocol).
 */
export class LlmError extends NodeError {
  constructor(
    message: string,
    code: string,
    retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message, code, retryable);
    this.name = 'LlmError';
  }
}

export interface LlmRetrySettings {
  /** HTTP requests per call, the first included; 1 means no retry. */
  maxAttempts: number;
  /** Wait before the second request when the server names none; later waits double. */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * The longest `Retry-After` honoured. A server asking for more ends the call with its
   * error instead: waiting less than it asked would only be refused again.
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: LlmRetrySettings = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 20_000, maxRetryAfterMs: 60_000 };

/**
 * The wait a response asks for, in ms: `retry-after-ms` (OpenAI), then `Retry-After` as
 * seconds or as an HTTP date (relative to `now`, the run's clock). Undefined when absent
 * or unreadable.
 */
export function parseRetryAfter(headers: Record<string, string>, now: number): number | undefined {
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const value = headers['retry-after']?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** How long to wait before request `attempt + 1` after `error`, or why not to retry. */
export function retryDecision(error: unknown, attempt: number, settings: LlmRetrySettings, id: string): { waitMs: number } | { stop: string | undefined } {
  const retryable = typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
  if (!retryable) return { stop: undefined };
  if (attempt >= settings.maxAttempts) return { stop: settings.maxAttempts > 1 ? `after ${attempt} attempts` : undefined };
  const asked = error instanceof LlmError ? error.retryAfterMs : undefined;
  if (asked !== undefined) {
    if (asked > settings.maxRetryAfterMs) {
      return { stop: `the server asked to retry after ${Math.ceil(asked / 1000)} s, longer than the ${Math.ceil(settings.maxRetryAfterMs / 1000)} s this provider waits` };
    }
    return { waitMs: asked };
  }
  // Jitter spreads callers that failed together; derived from the call id, so a replay
  // of the decision is the same wait.
  return { waitMs: retryDelay({ backoffMs: settings.baseDelayMs, factor: 2, maxBackoffMs: settings.maxDelayMs, jitter: 0.5 }, attempt, `${id}#${attempt}`) };
}

/**
 * Runs `request` until it succeeds, fails for good, or runs out of attempts, waiting on
 * `clock` between tries. The last error is thrown with why the retries stopped.
 */
export async function withRetries<T>(
  request: (attempt: number) => Promise<T>,
  options: { clock: Clock; signal: AbortSignal; settings: LlmRetrySettings; id: string },
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await request(attempt), attempts: attempt };
    } catch (error) {
      if (options.signal.aborted) throw error;
      const decision = retryDecision(error, attempt, options.settings, options.id);
      if ('stop' in decision) {
        if (decision.stop !== undefined && error instanceof NodeError) throw new LlmError(`${error.message} (${decision.stop})`, error.code, error.retryable);
        throw error;
      }
      await options.clock.sleep(decision.waitMs, options.signal);
    }
  }
}
