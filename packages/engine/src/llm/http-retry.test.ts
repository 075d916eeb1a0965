import { describe, expect, it } from 'vitest';
import { signalOf, type CancelSource } from '../context/cancellation.js';
import { createVirtualClock } from '../context/defaults.js';
import { NodeError } from '../errors.js';
import { DEFAULT_RETRY, LlmError, parseRetryAfter, retryDecision, withRetries } from './http-retry.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('parseRetryAfter', () => {
  it('reads seconds, fractions, HTTP dates and retry-after-ms', () => {
    expect(parseRetryAfter({ 'retry-after': '20' }, NOW)).toBe(20_000);
    expect(parseRetryAfter({ 'retry-after': '0.5' }, NOW)).toBe(500);
    expect(parseRetryAfter({ 'retry-after': new Date(NOW + 90_000).toUTCString() }, NOW)).toBe(90_000);
    expect(parseRetryAfter({ 'retry-after': new Date(NOW - 5_000).toUTCString() }, NOW)).toBe(0);
    expect(parseRetryAfter({ 'retry-after-ms': '1234.2', 'retry-after': '2' }, NOW)).toBe(1235);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter({}, NOW)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': 'soon' }, NOW)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': '' }, NOW)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after-ms': 'x', 'retry-after': '3' }, NOW)).toBe(3_000);
  });
});

describe('retryDecision', () => {
  const settings = { ...DEFAULT_RETRY, maxAttempts: 4 };

  it('does not retry an error that says a retry cannot help', () => {
    expect(retryDecision(new LlmError('bad key', 'llm_auth', false), 1, settings, 'c')).toEqual({ stop: undefined });
    expect(retryDecision(new Error('plain'), 1, settings, 'c')).toEqual({ stop: undefined });
  });

  it('waits what the server asked, up to maxRetryAfterMs', () => {
    expect(retryDecision(new LlmError('429', 'llm_rate_limited', true, 4_000), 1, settings, 'c')).toEqual({ waitMs: 4_000 });
    expect(retryDecision(new LlmError('429', 'llm_rate_limited', true, 61_000), 1, settings, 'c')).toEqual({
      stop: 'the server asked to retry after 61 s, longer than the 60 s this provider waits',
    });
  });

  it('backs off exponentially with jitter that depends only on the call id and attempt', () => {
    const error = new LlmError('500', 'llm_server_error', true);
    const waits = [1, 2, 3].map((attempt) => (retryDecision(error, attempt, settings, 'agent/1/llm/1') as { waitMs: number }).waitMs);
    expect(waits).toEqual([1, 2, 3].map((attempt) => (retryDecision(error, attempt, settings, 'agent/1/llm/1') as { waitMs: number }).waitMs));
    waits.forEach((wait, i) => {
      const base = 1_000 * 2 ** i;
      expect(wait).toBeGreaterThan(base / 2);
      expect(wait).toBeLessThanOrEqual(base);
    });
    expect(retryDecision(error, 4, settings, 'agent/1/llm/1')).toEqual({ stop: 'after 4 attempts' });
  });
});

describe('withRetries', () => {
  it('stops at once when the call is cancelled during a wait', async () => {
    const controller = new AbortController();
    const waits: number[] = [];
    // A wait that only a cancel ends.
    const clock = {
      now: () => NOW,
      sleep: (ms: number, cancel?: CancelSource) => {
        waits.push(ms);
        setTimeout(() => controller.abort(new Error('cancelled')), 5);
        const signal = signalOf(cancel!);
        return new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      },
    };
    let attempts = 0;
    const pending = withRetries(
      async () => {
        attempts += 1;
        throw new LlmError('busy', 'llm_server_error', true, 30_000);
      },
      { clock, signal: controller.signal, settings: DEFAULT_RETRY, id: 'c' },
    );
    await expect(pending).rejects.toThrow('cancelled');
    expect(attempts).toBe(1);
    expect(waits).toEqual([30_000]);
  });

  it('keeps the code of the last error and adds why it stopped', async () => {
    const pending = withRetries(
      async (attempt) => {
        throw new NodeError(`failure ${attempt}`, 'llm_server_error', true);
      },
      { clock: createVirtualClock(), signal: new AbortController().signal, settings: { ...DEFAULT_RETRY, maxAttempts: 2 }, id: 'c' },
    );
    await expect(pending).rejects.toMatchObject({ message: 'failure 2 (after 2 attempts)', code: 'llm_server_error', retryable: true });
  });
});
