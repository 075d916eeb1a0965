import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { systemClock } from '../../context/defaults.js';
import { NodeError } from '../../errors.js';
import { validateFlow } from '../../graph/compile.js';
import type { NodeKindDefinition, PreparedChild } from '../../nodes/node-kind.js';
import { BUILTIN_NODE_KINDS } from '../../nodes/registry.js';
import { createBuiltinSkillRegistry } from '../../skills/registry.js';
import { defineSkill } from '../../skills/skill.js';
import { compile, eventsOf, flowDoc, run, type TestRun } from '../../test-harness.js';

interface ItemResult {
  index: number;
  instance: string | null;
  ok: boolean;
  output?: unknown;
  error?: { message: string; code?: string };
}
interface ParallelOutput {
  result: unknown;
  results: ItemResult[];
  metrics: Record<string, number>;
}

const input = { id: 'in', kind: 'input' };
const output = { id: 'out', kind: 'output' };

function parallelFlow(config: Record<string, unknown>, node: Record<string, unknown> = {}) {
  return flowDoc(
    [input, { id: 'p', kind: 'parallel', config, ...node }, output],
    [
      { from: 'in', to: 'p' },
      { from: 'p', to: 'out' },
    ],
  );
}

const outputOf = (r: TestRun) => r.result.output as ParallelOutput;
const instancesOf = (r: TestRun) => outputOf(r).results.map((x) => x.instance);
const ids = (...names: string[]) => names.map((id) => ({ id }));
/** Instances of `delay` with their own wait: `slowFast(['fast', 10], ['slow', 100])`. */
const delays = (...specs: [string, number, Record<string, unknown>?][]) => specs.map(([id, ms, extra]) => ({ id, params: { ms }, ...extra }));

/** Fails the first `failures` attempts per input (retryably), then echoes the input: a flaky remote service. */
const flakySkill = defineSkill({
  id: 'test.flaky',
  title: 'Flaky',
  description: 'Fails the first attempts for each input.',
  category: 'control',
  effect: 'io',
  params: z.object({ failures: z.number().int().min(0), ms: z.number().int().min(0).default(10) }).strict(),
  prepare: ({ failures, ms }) => {
    const seen = new Map<string, number>();
    return {
      run: async (value, { context, signal }) => {
        await context.clock.sleep(ms, signal);
        const key = JSON.stringify(value);
        const attempt = (seen.get(key) ?? 0) + 1;
        seen.set(key, attempt);
        if (attempt <= failures) throw new NodeError(`flaky: attempt ${attempt} for ${key} failed`, 'flaky', true);
        return value;
      },
    };
  },
});

/** Waits without listening to any signal: a child that ignores cancellation. */
const deafSkill = defineSkill({
  id: 'test.deaf',
  title: 'Deaf',
  description: 'Waits, ignoring cancellation.',
  category: 'control',
  effect: 'io',
  params: z.object({ ms: z.number().int().min(0) }).strict(),
  prepare: ({ ms }) => ({
    run: async (value, { context }) => {
      await context.clock.sleep(ms);
      return value;
    },
  }),
});

const skills = createBuiltinSkillRegistry().register(flakySkill).register(deafSkill);

describe('parallel skills: real parallelism', () => {
  it('runs 5 items of a 100 ms skill on one instance with capacity 5 in about 100 ms', async () => {
    const doc = parallelFlow({ skill: 'delay', params: { ms: 100 }, instances: [{ id: 'only', capacity: 5 }] });
    const started = Date.now();
    const r = await run(doc, { input: [1, 2, 3, 4, 5], clock: systemClock });
    const elapsed = Date.now() - started;
    expect(r.result.status).toBe('succeeded');
    expect(elapsed).toBeLessThan(250);
    expect(outputOf(r).metrics.speedUp).toBeGreaterThan(3);
    expect(outputOf(r).metrics.peakRunning).toBe(5);
  });

  it('runs 5 items of a 100 ms skill over 5 instances in about 100 ms', async () => {
    const doc = parallelFlow({ skill: 'delay', params: { ms: 100 }, instances: ids('a', 'b', 'c', 'd', 'e') });
    const started = Date.now();
    const r = await run(doc, { input: [1, 2, 3, 4, 5], clock: systemClock });
    expect(Date.now() - started).toBeLessThan(250);
    expect(instancesOf(r)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('respects each instance’s capacity: 4 items of 100 ms on capacity 1 + 1 take 200 ms', async () => {
    const r = await run(parallelFlow({ skill: 'delay', params: { ms: 100 }, instances: ids('a', 'b') }), { input: [1, 2, 3, 4] });
    const { metrics } = outputOf(r);
    expect(metrics).toMatchObject({ wallMs: 200, sequentialMs: 400, speedUp: 2, efficiency: 1, utilization: 1, peakRunning: 2, totalCapacity: 2 });
    // Items waiting for a slot are assigned at once (round robin) but start when the slot frees.
    const assigned = eventsOf(r.events, 'task.assigned').map((e) => [e.taskId, e.assignee, e.ts - r.events[0]!.ts]);
    expect(assigned).toEqual([
      ['p/1/item-0', 'a', 0],
      ['p/1/item-1', 'b', 0],
      ['p/1/item-2', 'a', 100],
      ['p/1/item-3', 'b', 100],
    ]);
  });
});

describe('parallel skills: load balancing', () => {
  it('round robin cycles through the instances in declared order', async () => {
    const r = await run(parallelFlow({ skill: 'noop', instances: ids('a', 'b', 'c') }), { input: [1, 2, 3, 4, 5, 6, 7] });
    expect(instancesOf(r)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(outputOf(r).metrics).toMatchObject({ 'instance.a.items': 3, 'instance.b.items': 2, 'instance.c.items': 2 });
  });

  it('weighted balancing is smooth: weights 5, 1, 1 give a a b a c a a', async () => {
    const instances = [{ id: 'a', weight: 5, capacity: 10 }, { id: 'b' }, { id: 'c' }];
    const r = await run(parallelFlow({ skill: 'noop', balancer: 'weighted', instances }), { input: Array.from({ length: 14 }, (_, i) => i) });
    expect(instancesOf(r).join(' ')).toBe('a a b a c a a a a b a c a a');
  });

  it('least busy sends work to whichever instance has a free slot: the fast one takes most', async () => {
    const config = { skill: 'delay', params: { ms: 0 }, instances: delays(['fast', 10], ['slow', 100]) };
    const leastBusy = await run(parallelFlow({ ...config, balancer: 'least_busy' }), { input: [1, 2, 3, 4, 5, 6] });
    expect(instancesOf(leastBusy)).toEqual(['fast', 'slow', 'fast', 'fast', 'fast', 'fast']);
    expect(outputOf(leastBusy).metrics).toMatchObject({ wallMs: 100, 'instance.fast.items': 5, 'instance.slow.items': 1 });
    // Round robin ignores load: the slow instance gets half the work and the wall time triples.
    const roundRobin = await run(parallelFlow(config), { input: [1, 2, 3, 4, 5, 6] });
    expect(outputOf(roundRobin).metrics).toMatchObject({ wallMs: 300, 'instance.fast.items': 3, 'instance.slow.items': 3 });
  });

  it('least busy picks the instance with the fewest running items, ties in declared order', async () => {
    const instances = [
      { id: 'a', capacity: 2 },
      { id: 'b', capacity: 3 },
    ];
    const r = await run(parallelFlow({ skill: 'delay', params: { ms: 50 }, balancer: 'least_busy', instances }), { input: [1, 2, 3, 4, 5, 6] });
    // 0 → a (0/0), 1 → b (1/0), 2 → a (1/1), 3 → b (2/1), 4 → b (a is full), 5 waits for a slot: a frees first.
    expect(instancesOf(r)).toEqual(['a', 'b', 'a', 'b', 'b', 'a']);
    expect(outputOf(r).metrics.wallMs).toBe(100);
  });

  it('each instance may override the shared parameters', async () => {
    const instances = [{ id: 'en' }, { id: 'fr', params: { template: 'Bonjour {{ $ }}' } }];
    const r = await run(parallelFlow({ skill: 'template', params: { template: 'Hello {{ $ }}' }, instances, mode: 'replicate' }), { input: 'Ada' });
    expect(outputOf(r).results.map((x) => x.output)).toEqual(['Hello Ada', 'Bonjour Ada']);
  });
});

describe('parallel skills: items and modes', () => {
  it('map mode takes the items from the `items` expression, in order, whatever the finishing order', async () => {
    const r = await run(parallelFlow({ skill: 'delay', params: { ms: 0 }, instances: delays(['slow', 30], ['fast', 10]), items: 'orders.id' }), {
      input: { orders: [{ id: 'o1' }, { id: 'o2' }, { id: 'o3' }] },
    });
    expect(outputOf(r).results).toEqual([
      { index: 0, instance: 'slow', ok: true, output: 'o1' },
      { index: 1, instance: 'fast', ok: true, output: 'o2' },
      { index: 2, instance: 'slow', ok: true, output: 'o3' },
    ]);
    const finished = eventsOf(r.events, 'task.succeeded').map((e) => e.taskId);
    expect(finished).toEqual(['p/1/item-1', 'p/1/item-0', 'p/1/item-2']);
  });

  it('a non-list input is one item; replicate mode gives the whole input to every instance', async () => {
    const single = await run(parallelFlow({ skill: 'noop', instances: ids('a', 'b') }), { input: { q: 1 } });
    expect(outputOf(single).results).toEqual([{ index: 0, instance: 'a', ok: true, output: { q: 1 } }]);
    const replicated = await run(parallelFlow({ skill: 'noop', instances: ids('a', 'b', 'c'), mode: 'replicate' }), { input: [1, 2] });
    expect(outputOf(replicated).results.map((x) => [x.instance, x.output])).toEqual([
      ['a', [1, 2]],
      ['b', [1, 2]],
      ['c', [1, 2]],
    ]);
    expect(eventsOf(replicated.events, 'task.assigned').map((e) => e.taskId)).toEqual(['p/1/replica-a', 'p/1/replica-b', 'p/1/replica-c']);
  });

  it('more items than maxItems is an error naming the node, the count and the limit', async () => {
    const r = await run(parallelFlow({ skill: 'noop', instances: ids('a'), maxItems: 3 }), { input: [1, 2, 3, 4] });
    expect(r.result.status).toBe('failed');
    expect(r.result.error?.message).toBe('node "p" failed: parallel "p" got 4 items; the limit is 3 (config.maxItems)');
  });
});

const checkEven = { skill: 'json.transform', params: { expression: "$ % 2 = 0 ? { 'n': $ } : $error('odd number ' & $)" } };

describe('parallel skills: gather and aggregation', () => {
  it('keeps failed items as results; the run succeeds and the metrics count them', async () => {
    const r = await run(parallelFlow({ ...checkEven, instances: ids('a', 'b') }), { input: [2, 3, 4, 5] });
    expect(r.result.status).toBe('succeeded');
    const { results, metrics } = outputOf(r);
    expect(results.map((x) => x.ok)).toEqual([true, false, true, false]);
    expect(results[1]).toMatchObject({ index: 1, instance: 'b', ok: false, error: { message: expect.stringContaining('odd number 3') } });
    expect(metrics).toMatchObject({ itemsTotal: 4, itemsSucceeded: 2, itemsFailed: 2, itemsCancelled: 0, successRate: 0.5, taskCompletionRate: 1 });
    expect(eventsOf(r.events, 'task.failed').map((e) => e.taskId)).toEqual(['p/1/item-1', 'p/1/item-3']);
  });

  it.each([
    ['all', undefined, [{ ok: true, assignee: 'a', output: { n: 2 } }, { ok: false, assignee: 'b' }]],
    ['first_success', undefined, { n: 2 }],
    ['merge', undefined, { n: 4 }],
    ['vote', undefined, { winner: { n: 2 }, votes: 1, of: 3 }],
    ['expression', "{ 'succeeded': $count(results[ok]), 'by': results[ok].instance }", { succeeded: 2, by: ['a', 'a'] }],
  ])('aggregates with "%s"', async (strategy, expression, expected) => {
    const aggregate = expression ? { strategy, expression } : { strategy };
    const r = await run(parallelFlow({ ...checkEven, instances: ids('a', 'b'), aggregate }), { input: strategy === 'all' ? [2, 3] : [2, 3, 4] });
    expect(outputOf(r).result).toMatchObject(expected as object);
  });

  it('vote gives the majority even when an instance fails and one disagrees', async () => {
    const instances = [{ id: 'a' }, { id: 'b' }, { id: 'stale', params: { value: 'old' } }, { id: 'broken', params: { value: null } }];
    const doc = flowDoc(
      [input, { id: 'p', kind: 'parallel', config: { skill: 'constant', params: { value: 'new' }, instances, mode: 'replicate', aggregate: { strategy: 'vote' } } }, output],
      [
        { from: 'in', to: 'p' },
        { from: 'p', to: 'out' },
      ],
    );
    const r = await run(doc, { input: {} });
    expect(outputOf(r).result).toEqual({ winner: 'new', votes: 2, of: 4 });
  });

  it('first_success with no success fails the node with a message naming it and the strategy', async () => {
    const r = await run(parallelFlow({ ...checkEven, instances: ids('a'), aggregate: { strategy: 'first_success' } }), { input: [1, 3] });
    expect(r.result.status).toBe('failed');
    expect(r.result.error?.message).toBe('node "p" failed: parallel "p": the "first_success" aggregation failed: no subtask succeeded (2 failed)');
    // The metrics are still reported for the failed execution.
    expect(eventsOf(r.events, 'metrics').find((e) => e.nodeId === 'p')?.values).toMatchObject({ itemsFailed: 2 });
  });
});

describe('parallel skills: retries and timeouts per item', () => {
  it('retries a failing item on its instance, and the metrics show the recovery', async () => {
    const compiled = compile(parallelFlow({ skill: 'test.flaky', params: { failures: 1, ms: 10 }, instances: ids('a', 'b'), itemRetry: { maxAttempts: 3, backoffMs: 20 } }), { skills });
    const ok = await run(compiled, { input: ['x', 'y'] });
    expect(outputOf(ok).results.every((x) => x.ok)).toBe(true);
    const retried = eventsOf(ok.events, 'task.failed').map((e) => [e.taskId, e.attempt, e.retryInMs]);
    expect(retried).toEqual([
      ['p/1/item-0', 1, 20],
      ['p/1/item-1', 1, 20],
    ]);
    // 10 ms attempt, 20 ms wait, 10 ms attempt.
    expect(outputOf(ok).metrics).toMatchObject({ retries: 2, errorRecoveryMs: 40, wallMs: 40, itemsSucceeded: 2 });
  });

  it('an item over itemTimeoutMs fails as a timeout result; the others succeed', async () => {
    const r = await run(parallelFlow({ skill: 'delay', params: { ms: 10 }, instances: delays(['ok', 10], ['stuck', 500]), itemTimeoutMs: 100 }), { input: [1, 2] });
    expect(r.result.status).toBe('succeeded');
    expect(outputOf(r).results[1]).toMatchObject({ instance: 'stuck', ok: false, error: { code: 'timeout' } });
    expect(outputOf(r).metrics.wallMs).toBe(100);
  });
});

describe('parallel skills: synchroniser', () => {
  it('quorum: stops waiting once enough items succeeded and cancels the rest', async () => {
    const config = { skill: 'delay', params: { ms: 0 }, instances: delays(['a', 10], ['b', 20], ['c', 300]), mode: 'replicate', quorum: 2, aggregate: { strategy: 'first_success' } };
    const r = await run(parallelFlow(config), { input: 'q' });
    expect(r.result.status).toBe('succeeded');
    const { results, metrics } = outputOf(r);
    expect(results[2]).toEqual({ index: 2, instance: 'c', ok: false, error: { message: 'not needed: quorum reached (2 items succeeded)', code: 'cancelled' } });
    expect(metrics).toMatchObject({ wallMs: 20, itemsSucceeded: 2, itemsCancelled: 1, itemsFailed: 0, quorumReached: 1 });
    // The cancelled task is closed in the log, inside the node, and its wait was really stopped.
    const cancelled = eventsOf(r.events, 'task.failed');
    expect(cancelled.map((e) => [e.taskId, e.error.code])).toEqual([['p/1/replica-c', 'cancelled']]);
    expect(r.events.at(-1)!.ts - r.events[0]!.ts).toBe(20);
    const order = r.events.map((e) => (e.type === 'node.status' ? `${e.nodeId}:${e.status}` : e.type));
    expect(order.indexOf('task.failed')).toBeLessThan(order.indexOf('p:succeeded'));
    expect((r.result.output as { quorum: unknown }).quorum).toEqual({ required: 2, succeeded: 2, reached: true });
  });

  it('quorum: says so in the output when the quorum could not be reached', async () => {
    const r = await run(parallelFlow({ skill: 'noop', params: {}, instances: ids('a'), quorum: 5 }), { input: [1, 2, 3] });
    expect(r.result.status).toBe('succeeded');
    expect((r.result.output as { quorum: unknown }).quorum).toEqual({ required: 5, succeeded: 3, reached: false });
  });

  it('quorum: items still waiting for a slot never start, items not yet dispatched have no instance', async () => {
    const queued = await run(parallelFlow({ skill: 'delay', params: { ms: 10 }, instances: ids('a'), quorum: 1 }), { input: [1, 2, 3] });
    expect(outputOf(queued).results.map((x) => x.ok)).toEqual([true, false, false]);
    // Round robin had given them to "a"; they never started, so the log has one task.
    expect(instancesOf(queued)).toEqual(['a', 'a', 'a']);
    expect(eventsOf(queued.events, 'task.assigned')).toHaveLength(1);
    expect(eventsOf(queued.events, 'task.failed')).toHaveLength(0);
    const undispatched = await run(parallelFlow({ skill: 'delay', params: { ms: 10 }, instances: ids('a'), balancer: 'least_busy', quorum: 1 }), { input: [1, 2, 3] });
    expect(instancesOf(undispatched)).toEqual(['a', null, null]);
    expect(outputOf(undispatched).results[2]!.error).toEqual({ message: 'not needed: quorum reached (1 item succeeded)', code: 'cancelled' });
  });

  it('quorum stops promptly even when a child ignores cancellation', async () => {
    const compiled = compile(parallelFlow({ skill: 'test.deaf', params: { ms: 10 }, instances: [{ id: 'a' }, { id: 'b', params: { ms: 200 } }], mode: 'replicate', quorum: 1 }), { skills });
    const started = Date.now();
    const r = await run(compiled, { input: 1, clock: systemClock });
    expect(Date.now() - started).toBeLessThan(150);
    expect(outputOf(r).results[1]!.error?.code).toBe('cancelled');
  });

  it('an unreachable quorum waits for every item and reports it was not reached', async () => {
    const r = await run(parallelFlow({ ...checkEven, instances: ids('a'), quorum: 2 }), { input: [1, 2, 3] });
    expect(outputOf(r).results.map((x) => x.ok)).toEqual([false, true, false]);
    expect(outputOf(r).metrics).toMatchObject({ quorumReached: 0, itemsCancelled: 0 });
  });

  it('waitTimeoutMs: stops waiting after the wait; unfinished items are timeout results', async () => {
    const r = await run(parallelFlow({ skill: 'delay', params: { ms: 0 }, instances: delays(['quick', 40], ['late', 500]), waitTimeoutMs: 100 }), { input: [1, 2, 3] });
    expect(r.result.status).toBe('succeeded');
    const { results, metrics } = outputOf(r);
    expect(results.map((x) => x.ok)).toEqual([true, false, true]);
    expect(results[1]!.error).toEqual({ message: 'not finished within the wait of 100 ms (waitTimeoutMs)', code: 'timeout' });
    expect(metrics).toMatchObject({ wallMs: 100, waitTimedOut: 1, itemsCancelled: 1 });
  });

  it('a wait that is not needed leaves no timer behind', async () => {
    const r = await run(parallelFlow({ skill: 'delay', params: { ms: 10 }, instances: ids('a'), waitTimeoutMs: 10_000 }), { input: [1] });
    expect(outputOf(r).metrics.waitTimedOut).toBe(0);
    expect(r.events.at(-1)!.ts - r.events[0]!.ts).toBe(10);
  });
});

describe('parallel skills: events, metrics, determinism', () => {
  it('logs each item as a task of the node, under its execution, assigned to its instance', async () => {
    const r = await run(parallelFlow({ skill: 'noop', instances: ids('a', 'b') }), { input: ['x', 'y'] });
    expect(eventsOf(r.events, 'task.assigned').map(({ taskId, parentTaskId, nodeId, assignee, input: value }) => ({ taskId, parentTaskId, nodeId, assignee, value }))).toEqual([
      { taskId: 'p/1/item-0', parentTaskId: 'p/1', nodeId: 'p', assignee: 'a', value: 'x' },
      { taskId: 'p/1/item-1', parentTaskId: 'p/1', nodeId: 'p', assignee: 'b', value: 'y' },
    ]);
    const metrics = eventsOf(r.events, 'metrics').find((e) => e.nodeId === 'p')!;
    expect(metrics.values).toEqual(outputOf(r).metrics);
    expect(Object.values(metrics.values).every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
  });

  it('reports coordination time and per-instance busy time', async () => {
    const r = await run(parallelFlow({ skill: 'delay', params: { ms: 0 }, instances: delays(['a', 30], ['b', 60]) }), { input: [1, 2] });
    expect(outputOf(r).metrics).toMatchObject({
      wallMs: 60,
      sequentialMs: 90,
      speedUp: 1.5,
      efficiency: 0.75,
      averageCoordinationMs: 0,
      'instance.a.busyMs': 30,
      'instance.b.busyMs': 60,
      'instance.b.succeeded': 1,
    });
  });

  it('gives the same log every time with a virtual clock, quorum cancellations included', async () => {
    const doc = parallelFlow({ skill: 'delay', params: { ms: 5 }, instances: delays(['a', 10, { capacity: 2 }], ['b', 25]), balancer: 'least_busy', quorum: 4 });
    const strip = (r: TestRun) => JSON.stringify(r.events);
    const first = await run(doc, { input: [1, 2, 3, 4, 5, 6, 7, 8] });
    const second = await run(doc, { input: [1, 2, 3, 4, 5, 6, 7, 8] });
    expect(strip(second)).toBe(strip(first));
    expect(outputOf(first).metrics.itemsCancelled).toBeGreaterThan(0);
  });

  it('a cancelled run cancels the items and ends cleanly', async () => {
    const controller = new AbortController();
    const pending = run(parallelFlow({ skill: 'delay', params: { ms: 1_000 }, instances: ids('a', 'b') }), { input: [1, 2, 3], signal: controller.signal, clock: systemClock });
    setTimeout(() => controller.abort(new Error('stopped by the user')), 20);
    const r = await pending;
    expect(r.result.status).toBe('cancelled');
  });

  it('a node timeout stops the items and fails the node', async () => {
    const r = await run(parallelFlow({ skill: 'delay', params: { ms: 1_000 }, instances: ids('a') }, { timeoutMs: 50 }), { input: [1, 2] });
    expect(r.result.status).toBe('failed');
    expect(r.result.error?.code).toBe('timeout');
    expect(r.events.at(-1)!.ts - r.events[0]!.ts).toBe(50);
  });
});

describe('parallel skills: nesting', () => {
  // A minimal host pattern standing in for master-worker: it runs its first worker's node as a task.
  const hostKind: NodeKindDefinition<'master_worker'> = {
    kind: 'master_worker',
    prepare: (node, env) => {
      const child = env.prepareChild(node.config.workers[0]!.node, ['config', 'workers', 0, 'node']);
      return {
        effect: 'io',
        inputMode: 'value',
        execute: async (execution) => {
          const result = await execution.tasks.run({ key: 'w', assignee: 'worker', child: child as PreparedChild, input: execution.input });
          if (!result.ok) throw new Error(result.error.message);
          return { output: result.output };
        },
      };
    },
  };
  const kinds = { ...BUILTIN_NODE_KINDS, master_worker: hostKind };
  const nested = (parallel: Record<string, unknown>) =>
    flowDoc(
      [
        input,
        { id: 'host', kind: 'master_worker', config: { decompose: { by: 'rule', expression: '$' }, workers: [{ id: 'w', node: { id: 'fan', kind: 'parallel', config: parallel } }] } },
        output,
      ],
      [
        { from: 'in', to: 'host' },
        { from: 'host', to: 'out' },
      ],
    );

  it('runs inside another pattern, its items nested under the host’s task in the log', async () => {
    const r = await run(compile(nested({ skill: 'delay', params: { ms: 100 }, instances: ids('a', 'b') }), { kinds }), { input: [1, 2] });
    expect(r.result.status).toBe('succeeded');
    const tree = eventsOf(r.events, 'task.assigned').map((e) => [e.taskId, e.parentTaskId]);
    expect(tree).toEqual([
      ['host/1/w', 'host/1'],
      ['host/1/w/item-0', 'host/1/w'],
      ['host/1/w/item-1', 'host/1/w'],
    ]);
    expect((r.result.output as ParallelOutput).metrics.wallMs).toBe(100);
    // Its metrics are filed under its task, apart from the host's.
    expect(eventsOf(r.events, 'metrics').find((e) => e.nodeId === 'host/1/w')?.values).toMatchObject({ itemsTotal: 2, wallMs: 100 });
  });

  it('reports its config problems at their full path when nested', () => {
    const result = validateFlow(nested({ skill: 'delay', params: { ms: 'soon' }, instances: ids('a') }), { kinds });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path.join('.'))).toEqual(['nodes.1.config.workers.0.node.config.params.ms']);
  });
});

describe('parallel skills: config problems', () => {
  const issuesOf = (config: Record<string, unknown>) => {
    const result = validateFlow(parallelFlow(config));
    return result.ok ? [] : result.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('an unknown skill is reported once, at config.skill', () => {
    const issues = issuesOf({ skill: 'translate', instances: ids('a', 'b') });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^nodes\.1\.config\.skill: unknown skill "translate" \(available: .*delay/);
  });

  it('bad parameters point where they were written: shared params or the instance’s override', () => {
    expect(issuesOf({ skill: 'delay', params: { ms: -1 }, instances: ids('a', 'b') })).toEqual([expect.stringMatching(/^nodes\.1\.config\.params\.ms: /)]);
    expect(issuesOf({ skill: 'delay', params: { ms: 5 }, instances: [{ id: 'a' }, { id: 'b', params: { ms: 'x' } }] })).toEqual([expect.stringMatching(/^nodes\.1\.config\.instances\.1\.params\.ms: /)]);
    expect(issuesOf({ skill: 'delay', params: {}, instances: ids('a') })).toEqual([expect.stringMatching(/^nodes\.1\.config\.params\.ms: /)]);
    expect(issuesOf({ skill: 'delay', params: { ms: 5 }, instances: [{ id: 'a', params: { wait: 1 } }] })).toEqual([
      'nodes.1.config.instances.0.params: unknown parameter "wait" for skill "delay"',
    ]);
    expect(issuesOf({ skill: 'template', params: { template: '{{ (' }, instances: ids('a') })).toEqual([expect.stringMatching(/^nodes\.1\.config\.params\.template: unclosed/)]);
  });

  it('reports duplicate instances, bad expressions and settings that cannot apply', () => {
    expect(issuesOf({ skill: 'noop', instances: ids('a', 'a') })).toEqual(['nodes.1.config.instances.1.id: duplicate instance id "a"']);
    expect(issuesOf({ skill: 'noop', instances: ids('a'), items: 'orders[' })).toEqual([expect.stringMatching(/^nodes\.1\.config\.items: invalid expression/)]);
    expect(issuesOf({ skill: 'noop', instances: ids('a'), mode: 'replicate', items: 'orders' })).toEqual([
      'nodes.1.config.items: "items" only applies in map mode; replicate mode gives the whole input to every instance',
    ]);
    expect(issuesOf({ skill: 'noop', instances: ids('a', 'b'), mode: 'replicate', quorum: 3 })).toEqual([
      'nodes.1.config.quorum: a quorum of 3 can never be reached: replicate mode runs 2 items, one per instance',
    ]);
    expect(issuesOf({ skill: 'noop', instances: ids('a'), aggregate: { strategy: 'expression' } })).toEqual(['nodes.1.config.aggregate.expression: the "expression" strategy needs an expression']);
    expect(issuesOf({ skill: 'noop', instances: ids('a'), aggregate: { strategy: 'vote', expression: '$count(results)' } })).toEqual([
      'nodes.1.config.aggregate.expression: "expression" only applies with strategy "expression" (this aggregation is "vote")',
    ]);
    expect(issuesOf({ skill: 'noop', instances: [] })).toEqual([expect.stringMatching(/^nodes\.1\.config\.instances: /)]);
  });
});
