import { createHash } from 'node:crypto';
import type { RunEvent } from '@loom/shared';
import type { Clock, CredentialSource, EventSink, HttpClient, IdSource } from './context.js';
import { canonicalJson } from '../graph/hash.js';
import { CancellableWait, cancellationOf, type Cancellation } from './cancellation.js';
import { TimerQueue, type QueuedTimer } from './timer-queue.js';

/** Every real sleep of this process, on one queue (see `TimerQueue`). */
const timers = new TimerQueue();

/**
 * Wall-clock time and real timers. Sleeps link into their cancel source's `Cancellation`
 * (see `cancellationOf`) and wait on a shared `TimerQueue`. Written for 10,000 concurrent
 * runs: no closure or Node timer per sleep, nothing stored on a signal, no allocation to
 * add or remove a wait.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, cancel) => {
    const cancellation = cancel ? cancellationOf(cancel) : undefined;
    if (cancellation?.aborted) return Promise.reject(cancellation.reason);
    return new Promise<void>((resolve, reject) => {
      const wait = new TimerWait(cancellation, resolve, reject);
      cancellation?.add(wait);
      timers.add(wait, ms);
    });
  },
};

class TimerWait extends CancellableWait implements QueuedTimer {
  timerPrev: QueuedTimer | undefined = undefined;
  timerNext: QueuedTimer | undefined = undefined;
  dueAt = -1;
  constructor(
    private readonly cancellation: Cancellation | undefined,
    private readonly resolve: () => void,
    private readonly reject: (reason: unknown) => void,
  ) {
    super();
  }
  fire(): void {
    this.cancellation?.remove(this);
    this.resolve();
  }
  cancel(reason: unknown): void {
    timers.remove(this);
    this.reject(reason);
  }
}

/** A virtual clock's sleep: due at a virtual time, cancelled like a timer. */
class VirtualWait extends CancellableWait {
  constructor(
    readonly due: number,
    readonly order: number,
    private readonly cancellation: Cancellation | undefined,
    private readonly resolveSleep: () => void,
    private readonly reject: (reason: unknown) => void,
    private readonly timers: VirtualWait[],
  ) {
    super();
  }
  resolve(): void {
    this.cancellation?.remove(this);
    this.resolveSleep();
  }
  cancel(reason: unknown): void {
    const i = this.timers.indexOf(this);
    if (i >= 0) this.timers.splice(i, 1);
    this.reject(reason);
  }
}

/**
 * A clock whose time moves only when the run waits: sleeps resolve in order of their
 * due time without real waiting. Golden tests use it so `ts` is reproducible too.
 */
export function createVirtualClock(start = Date.UTC(2026, 0, 1)): Clock & { pending(): number } {
  let now = start;
  let order = 0;
  const timers: VirtualWait[] = [];
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
    sleep: (ms, cancel) =>
      new Promise<void>((resolve, reject) => {
        const cancellation = cancel ? cancellationOf(cancel) : undefined;
        if (cancellation?.aborted) return reject(cancellation.reason);
        const wait = new VirtualWait(now + ms, order++, cancellation, resolve, reject, timers);
        cancellation?.add(wait);
        timers.push(wait);
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
