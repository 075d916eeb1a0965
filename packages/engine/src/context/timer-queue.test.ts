import { describe, expect, it } from 'vitest';
import { TimerQueue, type QueuedTimer } from './timer-queue.js';

/** A timer that records when it fired, in order. */
function entry(name: string, fired: string[], at?: Map<string, number>): QueuedTimer {
  return { timerPrev: undefined, timerNext: undefined, dueAt: -1, fire: () => (fired.push(name), at?.set(name, performance.now())) };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TimerQueue', () => {
  it('fires each entry no earlier than its delay, earliest first, whatever the order they were added in', async () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    const at = new Map<string, number>();
    const start = performance.now();
    queue.add(entry('late', fired, at), 60);
    queue.add(entry('early', fired, at), 10);
    queue.add(entry('middle', fired, at), 30);
    await settle(120);
    expect(fired).toEqual(['early', 'middle', 'late']);
    expect(at.get('early')! - start).toBeGreaterThanOrEqual(10);
    expect(at.get('middle')! - start).toBeGreaterThanOrEqual(30);
    expect(at.get('late')! - start).toBeGreaterThanOrEqual(60);
  });

  it('fires entries due in the same millisecond in the order they were added', async () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    const names = Array.from({ length: 50 }, (_, i) => `t${i}`);
    for (const name of names) queue.add(entry(name, fired), 5);
    await settle(40);
    // Added within a few ms of each other: the ones sharing a due list keep their order, and lists go in due order.
    expect(fired).toEqual(names);
  });

  it('never fires a removed entry, and keeps the others of its list', async () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    const first = entry('first', fired);
    const second = entry('second', fired);
    const third = entry('third', fired);
    queue.add(first, 5);
    queue.add(second, 5);
    queue.add(third, 5);
    queue.remove(second);
    queue.remove(second);
    await settle(40);
    expect(fired).toEqual(['first', 'third']);
    expect(second.dueAt).toBe(-1);
  });

  it('fires 10,000 sleeps with one Node timer at a time', async () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    for (let i = 0; i < 10_000; i++) queue.add(entry(String(i), fired), i % 20);
    await settle(80);
    expect(fired).toHaveLength(10_000);
    expect(new Set(fired).size).toBe(10_000);
  });

  it('lets an empty list (all its entries removed) fire as nothing and still fires the lists after it', async () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    const gone = entry('gone', fired);
    queue.add(gone, 5);
    queue.add(entry('after', fired), 25);
    queue.remove(gone);
    await settle(60);
    expect(fired).toEqual(['after']);
  });

  it('lets go of its Node timer once every sleep is removed, so a cancelled long sleep does not keep the process alive', () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timeouts();
    const queue = new TimerQueue();
    const fired: string[] = [];
    const long = entry('long', fired);
    const longer = entry('longer', fired);
    queue.add(long, 3_600_000);
    queue.add(longer, 7_200_000);
    expect(timeouts()).toBe(before + 1);
    queue.remove(long);
    expect(timeouts()).toBe(before + 1);
    queue.remove(longer);
    expect(timeouts()).toBe(before);
  });
});
