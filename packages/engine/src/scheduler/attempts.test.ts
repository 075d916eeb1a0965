import { describe, expect, it } from 'vitest';
import type { RetryPolicy } from '@loom/shared';
import { Cancellation } from '../context/cancellation.js';
import { followAttempts, runAttempts, type AttemptFollower, type AttemptPolicy } from './attempts.js';

const once: AttemptPolicy = { retry: { maxAttempts: 1, backoffMs: 0, factor: 2, maxBackoffMs: 0, jitter: 0 } satisfies RetryPolicy, timeoutMs: undefined };
const twice: AttemptPolicy = { ...once, retry: { ...once.retry, maxAttempts: 2 } };

interface HostOptions {
  /** Makes one attempt; called afresh for every run of a scenario. */
  attempt: () => unknown;
  ended?: boolean;
  /** The attempt's `running` event cannot be logged. */
  logFails?: boolean;
}

/** A host whose outcome (or failure to log) goes to `report`. */
function fakeHost(options: HostOptions, report: (what: unknown) => void): AttemptFollower<string, unknown> {
  return {
    clock: { now: () => 0, sleep: () => Promise.resolve() },
    signal: new AbortController().signal,
    cancellation: new Cancellation(),
    ended: () => options.ended ?? false,
    attemptStarted: () => {
      if (options.logFails) throw new Error('event store is full');
      return 0;
    },
    attempt: () => options.attempt(),
    attemptFailed: () => undefined,
    settled: (_target, result) => report(result),
    loggingFailed: (error) => report({ threw: error }),
  };
}

/**
 * What `start` reports, and at which microtask: counted by a promise chain that starts
 * just before it, so two ways of reporting that take different numbers of promise
 * reactions see different counts.
 */
async function reportedAt(start: (report: (what: unknown) => void) => void): Promise<{ tick: number; what: unknown }> {
  let tick = 0;
  let reported: { tick: number; what: unknown } | undefined;
  const step = (): void => {
    tick++;
    if (!reported && tick < 100) void Promise.resolve().then(step);
  };
  void Promise.resolve().then(step);
  start((what) => (reported ??= { tick, what }));
  for (let i = 0; i < 100 && !reported; i++) await new Promise((resolve) => setImmediate(resolve));
  return reported!;
}

/** Resolves with `value` after `hops` promise reactions. */
function after<T>(hops: number, value: () => T): Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < hops; i++) chain = chain.then(() => undefined);
  return chain.then(value);
}

const scenarios: [string, () => HostOptions, AttemptPolicy][] = [
  ['a plain value', () => ({ attempt: () => 'value' }), once],
  ['a resolved promise', () => ({ attempt: () => Promise.resolve('value') }), once],
  ['a promise that settles later', () => ({ attempt: () => after(3, () => 'value') }), once],
  ['a thenable', () => ({ attempt: () => ({ then: (resolve: (v: string) => void) => resolve('value') }) }), once],
  ['a rejected promise', () => ({ attempt: () => Promise.reject(new Error('no')) }), once],
  [
    'a promise that rejects later',
    () => ({
      attempt: () =>
        after(2, () => {
          throw new Error('no');
        }),
    }),
    once,
  ],
  [
    'a synchronous throw',
    () => ({
      attempt: () => {
        throw new Error('no');
      },
    }),
    once,
  ],
  ['a run that has ended', () => ({ attempt: () => 'value', ended: true }), once],
  ['an attempt that cannot be logged', () => ({ attempt: () => 'value', logFails: true }), once],
  [
    'a retried attempt',
    () => {
      let calls = 0;
      return { attempt: () => (++calls === 1 ? Promise.reject(new Error('flaky')) : 'value') };
    },
    twice,
  ],
];

describe('followAttempts', () => {
  it.each(scenarios)('reports %s at the microtask where `await runAttempts(...)` resumes, with its outcome', async (_label, options, policy) => {
    const awaited = await reportedAt((report) => {
      const host = fakeHost(options(), report);
      void (async () => {
        try {
          report(await runAttempts(host, 'node', policy, 'node', 'node'));
        } catch (error) {
          report({ threw: error });
        }
      })();
    });
    const followed = await reportedAt((report) => followAttempts(fakeHost(options(), report), 'node', policy, 'node', 'node'));
    expect(followed).toEqual(awaited);
  });

  it('gives the outcome of the attempt', async () => {
    const { what } = await reportedAt((report) => followAttempts(fakeHost({ attempt: () => after(1, () => 42) }, report), 'node', once, 'node', 'node'));
    expect(what).toEqual({ ok: true, value: 42, attempt: 1 });
  });
});
