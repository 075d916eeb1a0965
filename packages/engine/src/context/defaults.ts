import { createHash } from 'node:crypto';
import type { RunEvent } from '@loom/shared';
import type { Clock, CredentialSource, EventSink, HttpClient, IdSource } from './context.js';
import { canonicalJson } from '../graph/hash.js';

/**
 * Wall-clock time and real timers. Sleeps that share a signal share one abort listener
 * (see `waitsOf`). Written for 10,000 concurrent runs: no closure per sleep, nothing
 * stored on the signal, no allocation to add or remove a wait.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => {
    if (!signal) return new Promise<void>((resolve) => setTimeout(resolve, ms));
    const waits = waitsOf(signal);
    if (waits.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => waits.add(new TimerWait(waits, resolve, reject, ms)));
  },
};

/** A sleep a signal can cancel: a link in its signal's list of waits. */
abstract class CancellableWait {
  prev: CancellableWait | undefined = undefined;
  next: CancellableWait | undefined = undefined;
  abstract cancel(reason: unknown): void;
}

class TimerWait extends CancellableWait {
  private readonly timer: ReturnType<typeof setTimeout>;
  constructor(
    private readonly waits: Waits,
    private readonly resolve: () => void,
    private readonly reject: (reason: unknown) => void,
    ms: number,
  ) {
    super();
    // The wait as the timer's argument: no closure per sleep.
    this.timer = setTimeout(fireTimer, ms, this);
  }
  fired(): void {
    this.waits.remove(this);
    this.resolve();
  }
  cancel(reason: unknown): void {
    clearTimeout(this.timer);
    this.reject(reason);
  }
}

function fireTimer(wait: TimerWait): void {
  wait.fired();
}

/** The waits a signal cancels, as a linked list: adding and removing allocate nothing. */
class Waits {
  private head: CancellableWait | undefined = undefined;
  /** Mirrors `signal.aborted`, read once: on Node 20 each AbortSignal has its own hidden class, so reading it is slow. */
  constructor(public aborted: boolean) {}
  add(wait: CancellableWait): void {
    wait.next = this.head;
    if (this.head) this.head.prev = wait;
    this.head = wait;
  }
  remove(wait: CancellableWait): void {
    if (wait.prev) wait.prev.next = wait.next;
    else if (this.head === wait) this.head = wait.next;
    if (wait.next) wait.next.prev = wait.prev;
    wait.prev = wait.next = undefined;
  }
  cancelAll(reason: unknown): void {
    this.aborted = true;
    let wait = this.head;
    this.head = undefined;
    while (wait) {
      const next = wait.next;
      wait.prev = wait.next = undefined;
      wait.cancel(reason);
      wait = next;
    }
  }
}

/** Per signal, in a WeakMap: a property on the signal would give it yet another hidden class. */
const WAITS = new WeakMap<AbortSignal, Waits>();

/**
 * One abort listener per signal for all its waits: a run with thousands of waiting nodes
 * adds one listener, not thousands. Adding and removing an `{ once }` listener per sleep
 * was the largest cost of 10,000 concurrent runs, and tripped Node's leak warning.
 */
function waitsOf(signal: AbortSignal): Waits {
  let waits = WAITS.get(signal);
  if (!waits) {
    const created = new Waits(signal.aborted);
    waits = created;
    WAITS.set(signal, created);
    if (!created.aborted) signal.addEventListener('abort', () => created.cancelAll(signal.reason), { once: true });
  }
  return waits;
}

/** A virtual clock's sleep: due at a virtual time, cancelled by its signal like a timer. */
class VirtualWait extends CancellableWait {
  constructor(
    readonly due: number,
    readonly order: number,
    private readonly waits: Waits | undefined,
    private readonly resolveSleep: () => void,
    private readonly reject: (reason: unknown) => void,
    private readonly timers: VirtualWait[],
  ) {
    super();
  }
  resolve(): void {
    this.waits?.remove(this);
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
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        const waits = signal ? waitsOf(signal) : undefined;
        if (waits?.aborted) return reject(signal!.reason);
        const wait = new VirtualWait(now + ms, order++, waits, resolve, reject, timers);
        waits?.add(wait);
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
