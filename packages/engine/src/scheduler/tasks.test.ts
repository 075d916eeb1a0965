import { describe, expect, it } from 'vitest';
import { reduceRun } from '@loom/shared';
import { eventsOf, flowDoc, run } from '../test-harness.js';
import { TaskPool } from './tasks.js';

const input = { id: 'in', kind: 'input' };
const output = { id: 'out', kind: 'output' };
const single = (node: Record<string, unknown>) =>
  flowDoc(
    [input, node, output],
    [
      { from: 'in', to: node['id'] },
      { from: node['id'], to: 'out' },
    ],
  );
const slowChain = (extra: Record<string, unknown> = {}) => ({
  id: 'chain',
  kind: 'chain',
  config: { steps: [{ id: 'wait', skill: 'delay', params: { ms: 1_000 } }] },
  ...extra,
});

describe('tasks', () => {
  it('closes a task in the log when its parent attempt times out, so nothing reads as running', async () => {
    const { result, events } = await run(single(slowChain({ timeoutMs: 50, retry: { maxAttempts: 2, backoffMs: 10 } })), { input: 'x' });
    expect(result.status).toBe('failed');
    const state = reduceRun(events);
    expect(Object.values(state.tasks).map((t) => [t.taskId, t.status, t.error?.code])).toEqual([
      ['chain/1/step-1-wait', 'failed', 'timeout'],
      // The last attempt's timeout ends the run at once; the reducer closes what was left.
      ['chain/2/step-1-wait', 'cancelled', undefined],
    ]);
  });

  it('gives a retried task attempt its own id, so a nested pattern does not reuse its tasks ids', async () => {
    const flaky = {
      id: 'inner',
      kind: 'chain',
      retry: { maxAttempts: 2, backoffMs: 10 },
      config: { steps: [{ id: 'count', skill: 'json.transform', params: { expression: '$' } }, { id: 'boom', skill: 'error.throw', params: { message: 'no', retryable: true } }] },
    };
    // A master-worker whose only worker is the flaky chain: the worker task is retried.
    const mw = { id: 'mw', kind: 'master_worker', config: { decompose: { by: 'rule', expression: '[1]' }, workers: [{ id: 'w', node: flaky }] } };
    const { events } = await run(single(mw), { input: {} });
    const ids = eventsOf(events, 'task.assigned').map((e) => e.taskId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(['mw/1/subtask-0', 'mw/1/subtask-0/step-1-count', 'mw/1/subtask-0/step-2-boom', 'mw/1/subtask-0@2/step-1-count', 'mw/1/subtask-0@2/step-2-boom']);
  });

  it('lets a waiter leave a full pool when its signal aborts, without waiting for a slot', async () => {
    const pool = new TaskPool(1);
    await pool.acquire(new AbortController().signal);
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort(new Error('not needed'));
    await expect(waiting).rejects.toThrow('not needed');
    pool.release();
    expect(pool.busy).toBe(0);
    // The pool still works for the next comer.
    await pool.acquire(new AbortController().signal);
    expect(pool.busy).toBe(1);
  });
});
