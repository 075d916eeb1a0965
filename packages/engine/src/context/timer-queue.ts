/**
 * Real timers for many sleeps at once. Sleeps due in the same millisecond share one list,
 * and one Node timer is armed for the earliest list. Node's own `setTimeout` makes a
 * `Timeout` (about 150 bytes, with its arguments array) per call and keeps it until due; 10,000
 * concurrent runs each sleeping kept 10,000 of them alive through every garbage collection.
 * A due list is resolved in one go, in the order its sleeps were added.
 */
export interface QueuedTimer {
  /** Neighbours in its due list (start both as undefined). */
  timerPrev: QueuedTimer | undefined;
  timerNext: QueuedTimer | undefined;
  /** The millisecond (of `performance.now()`) it is due at; -1 before it is added and once it fired or was removed. */
  dueAt: number;
  fire(): void;
}

interface DueList {
  head: QueuedTimer | undefined;
  tail: QueuedTimer | undefined;
}

export class TimerQueue {
  private readonly lists = new Map<number, DueList>();
  /** Due times with a list, as a binary min-heap. */
  private readonly heap: number[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private armedFor = Infinity;
  private readonly onTimer = () => this.fireDue();

  /** Fires `entry` once `ms` have passed. */
  add(entry: QueuedTimer, ms: number): void {
    // Never early: the list is due at the first whole millisecond at or after now + ms.
    const dueAt = Math.ceil(performance.now() + Math.max(0, ms));
    entry.dueAt = dueAt;
    let list = this.lists.get(dueAt);
    if (!list) {
      list = { head: undefined, tail: undefined };
      this.lists.set(dueAt, list);
      heapPush(this.heap, dueAt);
    }
    entry.timerPrev = list.tail;
    entry.timerNext = undefined;
    if (list.tail) list.tail.timerNext = entry;
    else list.head = entry;
    list.tail = entry;
    if (dueAt < this.armedFor) this.arm(dueAt);
  }

  /** Takes `entry` out before it fires (a cancelled sleep). Its list's Node timer may still fire, finding less. */
  remove(entry: QueuedTimer): void {
    const dueAt = entry.dueAt;
    if (dueAt < 0) return;
    const list = this.lists.get(dueAt);
    entry.dueAt = -1;
    if (!list) return;
    if (entry.timerPrev) entry.timerPrev.timerNext = entry.timerNext;
    else list.head = entry.timerNext;
    if (entry.timerNext) entry.timerNext.timerPrev = entry.timerPrev;
    else list.tail = entry.timerPrev;
    entry.timerPrev = entry.timerNext = undefined;
    if (list.head) return;
    // Its due time stays in the heap and fires as nothing. With no sleep left at all, the
    // Node timer goes too: a cancelled long sleep must not keep the process alive.
    this.lists.delete(dueAt);
    if (this.lists.size === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Infinity;
      this.heap.length = 0;
    }
  }

  private arm(dueAt: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = dueAt;
    this.timer = setTimeout(this.onTimer, Math.max(1, dueAt - performance.now()));
  }

  private fireDue(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    while (this.heap.length > 0 && this.heap[0]! <= now) {
      const dueAt = heapPop(this.heap);
      const list = this.lists.get(dueAt);
      this.lists.delete(dueAt);
      let entry = list?.head;
      while (entry) {
        const next = entry.timerNext;
        entry.timerPrev = entry.timerNext = undefined;
        entry.dueAt = -1;
        entry.fire();
        entry = next;
      }
    }
    // Due times whose list was emptied by removals are still in the heap; they fire as nothing.
    if (this.heap.length > 0) this.arm(this.heap[0]!);
  }
}

function heapPush(heap: number[], value: number): void {
  let i = heap.push(value) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= value) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = value;
}

function heapPop(heap: number[]): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
    if (heap[child]! >= last) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
