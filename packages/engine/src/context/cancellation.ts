/**
 * What ends a run's waits: an `AbortSignal`'s job, for a fraction of its cost. On Node 20
 * an AbortSignal takes several microseconds and about 1 KB to make (an EventTarget with a
 * hidden class of its own), more than a small run's own work; 10,000 concurrent runs each
 * making one spent more time making and collecting signals than running nodes. A run holds
 * a `Cancellation` instead; its sleeps link into it, and an AbortSignal is made only when
 * something asks for one (`signal`: an HTTP request, a sandbox, a pattern's tasks).
 */
export class Cancellation {
  aborted = false;
  reason: unknown = undefined;
  /** The waits to cancel, as a linked list: adding and removing one allocates nothing. */
  private head: CancellableWait | undefined = undefined;
  private controller: AbortController | undefined = undefined;

  /** An AbortSignal that aborts with this, made on first use (already aborted if this is). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Cancels every wait linked in (and the signal, if one was made); later calls do nothing. */
  cancel(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    let wait = this.head;
    this.head = undefined;
    while (wait) {
      const next = wait.next;
      wait.prev = wait.next = undefined;
      wait.cancel(reason);
      wait = next;
    }
    this.controller?.abort(reason);
  }

  /** Links a wait in, for `cancel` to end. */
  add(wait: CancellableWait): void {
    wait.next = this.head;
    if (this.head) this.head.prev = wait;
    this.head = wait;
  }

  /** Unlinks a wait that ended on its own. */
  remove(wait: CancellableWait): void {
    if (wait.prev) wait.prev.next = wait.next;
    else if (this.head === wait) this.head = wait.next;
    if (wait.next) wait.next.prev = wait.prev;
    wait.prev = wait.next = undefined;
  }
}

/** A wait (a timer, a virtual sleep) a `Cancellation` can end: a link in its list. */
export abstract class CancellableWait {
  prev: CancellableWait | undefined = undefined;
  next: CancellableWait | undefined = undefined;
  abstract cancel(reason: unknown): void;
}

/** What a clock's sleep can be cancelled by. */
export type CancelSource = AbortSignal | Cancellation;

/** Per signal, in a WeakMap: a property on the signal would give it yet another hidden class. */
const OF_SIGNAL = new WeakMap<AbortSignal, Cancellation>();

/**
 * The `Cancellation` a sleep links into: the source itself, or one per AbortSignal with a
 * single abort listener for all its waits (a run with thousands of waiting nodes adds one
 * listener, not thousands; an `{ once }` listener per sleep tripped Node's leak warning).
 */
export function cancellationOf(source: CancelSource): Cancellation {
  if (source instanceof Cancellation) return source;
  let cancellation = OF_SIGNAL.get(source);
  if (!cancellation) {
    const created = new Cancellation();
    cancellation = created;
    OF_SIGNAL.set(source, created);
    if (source.aborted) created.cancel(source.reason);
    else source.addEventListener('abort', () => created.cancel(source.reason), { once: true });
  }
  return cancellation;
}

/** An AbortSignal for a cancel source, for code that needs one (`fetch`, listeners). */
export function signalOf(source: CancelSource): AbortSignal {
  return source instanceof Cancellation ? source.signal : source;
}
