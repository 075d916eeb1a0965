import { createHash } from 'node:crypto';
import type { RunEvent } from '@loom/shared';
import type { Clock, CredentialSource, EventSink, HttpClient, IdSource } from './context.js';
import { canonicalJson } from '../graph/hash.js';

/**
 * Wall-clock time and real timers. Sleeps that share a signal share one abort
 * listener (see `waitersOf`).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => {
    if (!signal) return new Promise<void>((resolve) => setTimeout(resolve, ms));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiters = waitersOf(signal);
      const waiter: Waiter = {
        cancel: (reason) => {
          clearTimeout(timer);
          reject(reason);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        resolve();
      }, ms);
      waiters.add(waiter);
    });
  },
};

interface Waiter {
  cancel(reason: unknown): void;
}

/** The waits cancelled by a signal, kept on the signal itself (cheaper than a WeakMap lookup per wait). */
const WAITERS = Symbol('loom.waiters');
type SignalWithWaiters = AbortSignal & { [WAITERS]?: Set<Waiter> };

/**
 * One abort listener per signal for all its waits: a run with thousands of waiting nodes
 * adds one listener, not thousands. Adding and removing an `{ once }` listener per sleep
 * was the largest cost of 10,000 concurrent runs, and tripped Node's leak warning.
 */
function waitersOf(signal: SignalWithWaiters): Set<Waiter> {
  let waiters = signal[WAITERS];
  if (!waiters) {
    const created = new Set<Waiter>();
    waiters = created;
    signal[WAITERS] = created;
    signal.addEventListener(
      'abort',
      () => {
        for (const waiter of created) waiter.cancel(signal.reason);
        created.clear();
      },
      { once: true },
    );
  }
  return waiters;
}

/**
 * A clock whose time moves only when the run waits: sleeps resolve in order of their
 * due time without real waiting. Golden tests use it so `ts` is reproducible too.
 */
export function createVirtualClock(start = Date.UTC(2026, 0, 1)): Clock & { pending(): number } {
  let now = start;
  let order = 0;
  const timers: { due: number; order: number; resolve: () => void }[] = [];
  let scheduled = false;
  const advance = () => {
    scheduled = false;
    timers.sort((a, b) => a.due - b.due || a.order - b.order);
    const next = timers.shift();
    if (!next) return;
    now = Math.max(now, next.due);
    next.resolve();
    if (timers.length > 0) schedule();
  };
  // setImmediate runs after pending promise callbacks, so every task that could
  // start a sleep at the current time has done so before time moves on.
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(advance);
    }
  };
  return {
    now: () => now,
    pending: () => timers.length,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const waiters = signal ? waitersOf(signal) : undefined;
        const waiter: Waiter = {
          cancel: (reason) => {
            const i = timers.indexOf(timer);
            if (i >= 0) timers.splice(i, 1);
            reject(reason);
          },
        };
        const timer = {
          due: now + ms,
          order: order++,
          resolve: () => {
            waiters?.delete(waiter);
            resolve();
          },
        };
        waiters?.add(waiter);
        timers.push(timer);
        schedule();
      }),
  };
}

/** Run ids derived from the flow and input: the same run gives the same log. */
export const derivedIds: IdSource = {
  runId: (flowHash, input) => 'run-' + createHash('sha256').update(flowHash).update(canonicalJson(input ?? null)).digest('hex').slice(0, 16),
};

/** Refuses every request: the default when a caller grants no network. */
export const noNetwork: HttpClient = async (url) => {
  throw Object.assign(new Error(`network access is not available in this context (request to ${url})`), { code: 'no_network', retryable: false });
};

/** Adapts the platform's `fetch`. */
export const fetchHttpClient: HttpClient = async (url, init) => {
  const response = await fetch(url, { method: init.method, headers: init.headers, body: init.body ?? null, signal: init.signal, redirect: 'manual' });
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  const body = response.body as AsyncIterable<Uint8Array> | null;
  return { status: response.status, headers, text: () => response.text(), ...(body ? { body } : {}) };
};

/** The environment variable `envCredentials` reads credential `name` from: `api.key` → `LOOM_CREDENTIAL_API_KEY`. */
export function credentialEnvName(name: string): string {
  return 'LOOM_CREDENTIAL_' + name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * Credentials from environment variables (see `credentialEnvName`), for runs started
 * from the CLI. An empty variable counts as unset, as a shell's `VAR=` usually means.
 */
export function envCredentials(env: Record<string, string | undefined>): CredentialSource {
  return {
    get: async (name) => {
      const variable = credentialEnvName(name);
      const value = env[variable];
      if (value === undefined || value === '') throw new Error(`credential "${name}" is not set (environment variable ${variable})`);
      return value;
    },
  };
}

/** Keeps every event in memory: for tests, the CLI and small runs. */
export class MemorySink implements EventSink {
  readonly events: RunEvent[] = [];
  append(event: RunEvent): void {
    this.events.push(event);
  }
}

/** Sends each event to every listener; listeners are called synchronously, in order. */
export class FanoutSink implements EventSink {
  constructor(private readonly sinks: EventSink[]) {}
  append(event: RunEvent): void {
    for (const sink of this.sinks) sink.append(event);
  }
}
