import { describe, expect, it } from 'vitest';
import { Cancellation, cancellationOf, signalOf } from './cancellation.js';
import { createVirtualClock, systemClock } from './defaults.js';

describe('Cancellation', () => {
  it('ends pending sleeps with its reason and refuses new ones', async () => {
    const cancellation = new Cancellation();
    const first = systemClock.sleep(60_000, cancellation);
    const second = systemClock.sleep(60_000, cancellation);
    cancellation.cancel(new Error('run cancelled'));
    await expect(first).rejects.toThrow('run cancelled');
    await expect(second).rejects.toThrow('run cancelled');
    await expect(systemClock.sleep(1, cancellation)).rejects.toThrow('run cancelled');
  });

  it('lets a sleep that ended on its own leave the list, so cancelling later touches only live waits', async () => {
    const cancellation = new Cancellation();
    await systemClock.sleep(1, cancellation);
    const pending = systemClock.sleep(60_000, cancellation);
    cancellation.cancel('stop');
    await expect(pending).rejects.toBe('stop');
  });

  it('makes its AbortSignal only when asked, aborted with the same reason (also when asked after cancelling)', () => {
    const early = new Cancellation();
    const signal = early.signal;
    expect(signal.aborted).toBe(false);
    early.cancel('early');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('early');
    expect(early.signal).toBe(signal);

    const late = new Cancellation();
    late.cancel('late');
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe('late');
  });

  it('cancels once: a second reason does not replace the first', () => {
    const cancellation = new Cancellation();
    cancellation.cancel('first');
    cancellation.cancel('second');
    expect(cancellation.reason).toBe('first');
  });

  it('stands for an AbortSignal: one per signal, following its abort', async () => {
    const controller = new AbortController();
    expect(cancellationOf(controller.signal)).toBe(cancellationOf(controller.signal));
    const pending = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error('aborted'));
    await expect(pending).rejects.toThrow('aborted');
    expect(cancellationOf(controller.signal).aborted).toBe(true);
    expect(signalOf(controller.signal)).toBe(controller.signal);
  });

  it('cancels a virtual clock\'s sleep, which then never resolves the clock\'s time', async () => {
    const clock = createVirtualClock(0);
    const cancellation = new Cancellation();
    const pending = clock.sleep(1_000, cancellation);
    cancellation.cancel('gone');
    await expect(pending).rejects.toBe('gone');
    expect(clock.pending()).toBe(0);
    expect(clock.now()).toBe(0);
  });
});
