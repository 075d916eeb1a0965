import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@loom/shared';
import { systemClock } from '../../context/defaults.js';
import { validateFlow } from '../../graph/compile.js';
import { eventsOf, flowDoc, nodeStatuses, run } from '../../test-harness.js';

const skill = (id: string, name: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ id, kind: 'skill', config: { skill: name, params }, ...extra });
const transform = (id: string, expression: string) => skill(id, 'json.transform', { expression });
/** Waits `ms`, then answers `{ by, got }`: who ran it, on what input. */
const worker = (id: string, ms = 0) => ({
  id: `${id}_work`,
  kind: 'chain',
  config: {
    steps: [
      { id: 'work', skill: 'delay', params: { ms } },
      { id: 'answer', skill: 'json.transform', params: { expression: `{ 'by': '${id}', 'got': $ }` } },
    ],
  },
});
const subagent = (id: string, capabilities: string[], node: unknown = worker(id), budget?: Record<string, unknown>) => ({ id, capabilities, node, ...(budget ? { budget } : {}) });

/** A coordinator whose subtasks are the run input's `subtasks`. */
function coordinatorFlow(config: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return flowDoc(
    [{ id: 'in', kind: 'input' }, { id: 'coord', kind: 'coordinator', config: { decompose: { by: 'rule', expression: 'subtasks' }, ...config }, ...extra }, { id: 'out', kind: 'output' }],
    [
      { from: 'in', to: 'coord' },
      { from: 'coord', to: 'out' },
    ],
  );
}

interface Output {
  results: Record<string, { ok: boolean; subagent: string | null; wave: number; output?: unknown; error?: { message: string; code: string }; granted?: unknown; attempts?: number }>;
  resolved: Record<string, unknown>;
  waves: string[][];
  conflicts: { key: string; chosen: unknown; chosenFrom: string; policy: string; candidates: unknown[] }[];
  resourceConflicts: { resource: string; wave: number; order: string[] }[];
  budgetLeft: Record<string, unknown>;
  metrics: Record<string, number>;
}

async function runCoordinator(config: Record<string, unknown>, subtasks: unknown[], options: { clock?: typeof systemClock; extra?: Record<string, unknown> } = {}) {
  const outcome = await run(coordinatorFlow(config, options.extra), { input: { subtasks }, ...(options.clock ? { clock: options.clock } : {}) });
  return { ...outcome, output: outcome.result.output as Output };
}

/** `[assigned ts, finished ts]` of each top-level subtask task, by subtask id. */
function spans(events: readonly RunEvent[]): Record<string, [number, number]> {
  const result: Record<string, [number, number]> = {};
  for (const e of events) {
    const id = e.type === 'task.assigned' || e.type === 'task.succeeded' || e.type === 'task.failed' ? /^coord\/1\/subtask-([^/]+)$/.exec(e.taskId)?.[1] : undefined;
    if (id === undefined) continue;
    if (e.type === 'task.assigned') result[id] = [e.ts, e.ts];
    else if (!(e.type === 'task.failed' && e.retryInMs !== undefined)) result[id]![1] = e.ts;
  }
  return result;
}
const assignedOrder = (events: readonly RunEvent[]) => eventsOf(events, 'task.assigned').flatMap((e) => /^coord\/1\/subtask-([^/]+)$/.exec(e.taskId)?.[1] ?? []);

describe('coordinator: waves, priorities and parallelism', () => {
  it('runs the dependency graph in topological waves and hands each subtask its dependencies\' outputs', async () => {
    const { result, output, events } = await runCoordinator({ subagents: [subagent('researcher', ['research']), subagent('writer', ['write'])], budget: { concurrency: 4 } }, [
      { id: 'report', capability: 'write', dependsOn: ['facts', 'angle'], input: { topic: 'lamps' } },
      { id: 'facts', capability: 'research', input: 'find facts' },
      { id: 'angle', capability: 'write', dependsOn: ['facts'], input: 'pick an angle' },
    ]);
    expect(result.status).toBe('succeeded');
    expect(output.waves).toEqual([['facts'], ['angle'], ['report']]);
    expect(assignedOrder(events)).toEqual(['facts', 'angle', 'report']);
    // Each assignment says its wave of the plan's three, so a viewer can show "wave 2/3" live.
    // (The subagents' own inner tasks carry no wave.)
    expect(eventsOf(events, 'task.assigned').filter((e) => /^coord\/1\/subtask-[^/]+$/.test(e.taskId)).map((e) => [e.wave, e.waves])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const facts = { by: 'researcher', got: 'find facts' };
    const angle = { by: 'writer', got: { input: 'pick an angle', dependencies: { facts } } };
    expect(output.results).toEqual({
      report: { ok: true, subagent: 'writer', wave: 3, granted: { tokens: 0 }, attempts: 1, output: { by: 'writer', got: { topic: 'lamps', dependencies: { facts, angle } } } },
      facts: { ok: true, subagent: 'researcher', wave: 1, granted: { tokens: 0 }, attempts: 1, output: facts },
      angle: { ok: true, subagent: 'writer', wave: 2, granted: { tokens: 0 }, attempts: 1, output: angle },
    });
  });

  it('starts a wave by priority, then declared order, and gives a subtask without input the coordinator\'s input', async () => {
    const subtasks = [
      { id: 'a', capability: 'x', priority: 1 },
      { id: 'b', capability: 'x', priority: 5 },
      { id: 'c', capability: 'x' },
      { id: 'd', capability: 'x', priority: 5 },
    ];
    const { output, events } = await runCoordinator({ subagents: [subagent('solo', ['x'], worker('solo', 10))], budget: { concurrency: 1 } }, subtasks);
    expect(output.waves).toEqual([['b', 'd', 'a', 'c']]);
    expect(assignedOrder(events)).toEqual(['b', 'd', 'a', 'c']);
    expect(output.results['c']!.output).toEqual({ by: 'solo', got: { subtasks } });
  });

  it('runs a wave in parallel for real: 5 × 100 ms subtasks finish in about 100 ms', async () => {
    const subtasks = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, capability: 'x' }));
    const started = performance.now();
    const { output } = await runCoordinator({ subagents: [subagent('pool', ['x'], skill('nap', 'delay', { ms: 100 }), { concurrency: 5 })], budget: { concurrency: 5 } }, subtasks, { clock: systemClock });
    const elapsed = performance.now() - started;
    expect(output.metrics['subtasksSucceeded']).toBe(5);
    expect(elapsed).toBeLessThan(250);
    expect(output.metrics['utilization']).toBeGreaterThan(0.6);
  });

  it('holds to the coordinator\'s and each subagent\'s concurrency', async () => {
    const subtasks = ['a1', 'a2', 'a3', 'a4', 'b1', 'b2'].map((id) => ({ id, capability: id[0] }));
    const agents = [subagent('A', ['a'], skill('nap_a', 'delay', { ms: 100 }), { concurrency: 2 }), subagent('B', ['b'], skill('nap_b', 'delay', { ms: 100 }), { concurrency: 2 })];
    // A takes two at a time (4 subtasks: 200 ms); B's two run beside them while the coordinator has slots.
    const roomy = await runCoordinator({ subagents: agents, budget: { concurrency: 4 } }, subtasks);
    expect(roomy.output.metrics['wallMs']).toBe(200);
    const startOf = (events: readonly RunEvent[]) => Object.fromEntries(Object.entries(spans(events)).map(([id, [start]]) => [id, start - events[0]!.ts]));
    expect(startOf(roomy.events)).toEqual({ a1: 0, a2: 0, a3: 100, a4: 100, b1: 0, b2: 0 });
    // Three at once in all: 6 subtasks take 200 ms; the subtask waiting for A does not hold one of the three.
    const tight = await runCoordinator({ subagents: agents, budget: { concurrency: 3 } }, subtasks);
    expect(tight.output.metrics['wallMs']).toBe(200);
    expect(startOf(tight.events)).toEqual({ a1: 0, a2: 0, b1: 0, a3: 100, a4: 100, b2: 100 });
    expect(tight.output.metrics['utilization']).toBe(1);
    // One at a time: 600 ms.
    const serial = await runCoordinator({ subagents: agents, budget: { concurrency: 1 } }, subtasks);
    expect(serial.output.metrics['wallMs']).toBe(600);
  });
});

describe('coordinator: matching and budgets', () => {
  it('matches by capability in declared order, moving on when a subagent\'s budget is spent', async () => {
    const { output } = await runCoordinator(
      { subagents: [subagent('junior', ['copy'], worker('junior'), { tokens: 100 }), subagent('senior', ['copy', 'legal'])] },
      [
        { id: 'tagline', capability: 'copy', tokens: 80, priority: 2 },
        { id: 'blurb', capability: 'copy', tokens: 80, priority: 1 },
        { id: 'terms', capability: 'legal' },
        { id: 'video', capability: 'film' },
      ],
    );
    expect(output.results['tagline']).toMatchObject({ ok: true, subagent: 'junior', granted: { tokens: 80 } });
    expect(output.results['blurb']).toMatchObject({ ok: true, subagent: 'senior', granted: { tokens: 80 } });
    expect(output.results['terms']).toMatchObject({ ok: true, subagent: 'senior' });
    expect(output.results['video']).toEqual({
      ok: false,
      subagent: null,
      wave: 1,
      error: { code: 'no_subagent', message: 'no subagent has capability "film" (subagents: junior [copy]; senior [copy, legal])' },
    });
    expect(output.budgetLeft).toEqual({ coordinator: {}, junior: { tokens: 20 }, senior: {} });
  });

  it('grants budgets in priority order and denies what does not fit, with the numbers, without running it', async () => {
    const { result, output, events } = await runCoordinator({ subagents: [subagent('analyst', ['research'], worker('analyst'), { tokens: 500 })], budget: { tokens: 2_000, concurrency: 4 } }, [
      { id: 'deep', capability: 'research', tokens: 400, priority: 1 },
      { id: 'audience', capability: 'research', tokens: 300, priority: 2 },
      { id: 'later', capability: 'research', tokens: 150, dependsOn: ['audience'] },
    ]);
    expect(result.status).toBe('succeeded');
    expect(output.results['deep']!.error).toEqual({ code: 'budget_denied', message: 'budget denied: subtask "deep" asked for 400 tokens, but analyst has 200 of its 500 tokens left' });
    expect(output.results['later']).toMatchObject({ ok: true, wave: 2 });
    expect(assignedOrder(events)).toEqual(['audience', 'later']);
    expect(output.metrics).toMatchObject({ budgetDenied: 1, tokensGranted: 450 });
    expect(output.budgetLeft).toEqual({ coordinator: { tokens: 1_550 }, analyst: { tokens: 50 } });
  });

  it('denies a request the coordinator\'s own budget cannot cover', async () => {
    const { output } = await runCoordinator({ subagents: [subagent('a', ['x'])], budget: { tokens: 100, timeMs: 1_000 } }, [
      { id: 'one', capability: 'x', tokens: 60, timeMs: 900 },
      { id: 'two', capability: 'x', tokens: 60, timeMs: 200 },
    ]);
    expect(output.results['two']!.error!.message).toBe('budget denied: subtask "two" asked for 60 tokens and 200 ms, but the coordinator has 40 of its 100 tokens and 100 of its 1000 ms left');
  });

  it('makes the granted time the subtask\'s time limit', async () => {
    const { result, output, events } = await runCoordinator({ subagents: [subagent('slow', ['translate'], skill('translate', 'delay', { ms: 500 }))] }, [
      { id: 'quick', capability: 'translate', timeMs: 200 },
      { id: 'patient', capability: 'translate', timeMs: 1_000 },
    ]);
    expect(result.status).toBe('succeeded');
    expect(output.results['quick']).toMatchObject({ ok: false, granted: { tokens: 0, timeMs: 200 }, error: { code: 'timeout', message: expect.stringMatching(/^used up the 200 ms it was granted: /) } });
    expect(output.results['patient']).toMatchObject({ ok: true });
    const quick = spans(events)['quick']!;
    expect(quick[1] - quick[0]).toBe(200);
    expect(output.metrics['timeGrantedMs']).toBe(1_200);
  });

  it('bounds all attempts together by the grant, so retries cannot spend it again', async () => {
    const retrying = skill('translate', 'delay', { ms: 500 }, { retry: { maxAttempts: 3, backoffMs: 10 } });
    const { output, events } = await runCoordinator({ subagents: [subagent('slow', ['translate'], retrying)] }, [{ id: 'quick', capability: 'translate', timeMs: 200 }]);
    expect(output.results['quick']).toMatchObject({ ok: false, error: { code: 'timeout', message: expect.stringMatching(/^used up the 200 ms it was granted: /) } });
    const quick = spans(events)['quick']!;
    expect(quick[1] - quick[0]).toBe(200);
  });
});

describe('coordinator: failures are results', () => {
  it('retries per the subagent node\'s policy, keeps the failure as a result and skips its dependents', async () => {
    const broken = skill('broken', 'error.throw', { message: 'service down', code: 'unavailable', retryable: true }, { retry: { maxAttempts: 2, backoffMs: 50 } });
    const { result, output, events, state } = await runCoordinator({ subagents: [subagent('legal', ['legal'], broken), subagent('writer', ['write'])] }, [
      { id: 'review', capability: 'legal' },
      { id: 'draft', capability: 'write' },
      { id: 'publish', capability: 'write', dependsOn: ['review', 'draft'] },
      { id: 'announce', capability: 'write', dependsOn: ['publish'] },
    ]);
    expect(result.status).toBe('succeeded');
    expect(nodeStatuses(state)['coord']).toBe('succeeded');
    expect(output.results['review']).toMatchObject({ ok: false, subagent: 'legal', attempts: 2, error: { code: 'unavailable', message: 'service down' } });
    expect(output.results['publish']).toEqual({ ok: false, subagent: null, wave: 2, error: { code: 'dependency_failed', message: 'skipped: it depends on "review" (failed: unavailable)' } });
    expect(output.results['announce']!.error).toEqual({ code: 'dependency_failed', message: 'skipped: it depends on "publish" (failed: dependency_failed)' });
    expect(assignedOrder(events)).toEqual(['review', 'draft']);
    expect(eventsOf(events, 'task.failed').map((e) => [e.taskId, e.attempt, e.retryInMs])).toEqual([
      ['coord/1/subtask-review', 1, 50],
      ['coord/1/subtask-review', 2, undefined],
    ]);
    expect(output.metrics).toMatchObject({ subtasksTotal: 4, subtasksSucceeded: 1, subtasksFailed: 3, subtasksRun: 2, dependencySkipped: 2, taskCompletionRate: 0.5, successRate: 0.25 });
  });
});

describe('coordinator: conflicts', () => {
  it('runs subtasks contending for an exclusive resource one after the other, higher priority first', async () => {
    const agents = [subagent('A', ['a'], skill('nap_a', 'delay', { ms: 100 })), subagent('B', ['b'], skill('nap_b', 'delay', { ms: 100 })), subagent('C', ['c'], skill('nap_c', 'delay', { ms: 100 }))];
    const subtasks = [
      { id: 'export', capability: 'a', resources: ['db'], priority: 1 },
      { id: 'migrate', capability: 'b', resources: ['db'], priority: 3 },
      { id: 'email', capability: 'c' },
    ];
    const { output, events } = await runCoordinator({ subagents: agents }, subtasks);
    const start = events[0]!.ts;
    const at = Object.fromEntries(Object.entries(spans(events)).map(([id, [s, f]]) => [id, [s - start, f - start]]));
    expect(at).toEqual({ migrate: [0, 100], email: [0, 100], export: [100, 200] });
    expect(output.resourceConflicts).toEqual([{ resource: 'db', wave: 1, policy: 'priority', order: ['migrate', 'export'] }]);
    expect(output.metrics['resourceConflicts']).toBe(1);

    const first = await runCoordinator({ subagents: agents, conflictPolicy: 'first' }, subtasks);
    expect(first.output.resourceConflicts[0]!.order).toEqual(['export', 'migrate']);
    expect(spans(first.events)['migrate']![0] - first.events[0]!.ts).toBe(100);
  });

  it('resolves subagents that disagree on a result by the conflict policy', async () => {
    const quote = (id: string, amount: number) => subagent(id, [id], transform(`${id}_quote`, `{ 'amount': ${amount} }`));
    const subagents = [quote('market', 44), quote('value', 50), quote('survey', 44), quote('title', 0)];
    const subtasks = [
      { id: 'market_price', capability: 'market', resultKey: 'price', priority: 1 },
      { id: 'value_price', capability: 'value', resultKey: 'price', priority: 3 },
      { id: 'survey_price', capability: 'survey', resultKey: 'price', priority: 1 },
      { id: 'name', capability: 'title', resultKey: 'name' },
    ];
    const byPriority = await runCoordinator({ subagents }, subtasks);
    expect(byPriority.output.resolved).toEqual({ price: { amount: 50 }, name: { amount: 0 } });
    expect(byPriority.output.conflicts).toEqual([
      {
        key: 'price',
        candidates: [
          { subtask: 'market_price', output: { amount: 44 } },
          { subtask: 'value_price', output: { amount: 50 } },
          { subtask: 'survey_price', output: { amount: 44 } },
        ],
        chosen: { amount: 50 },
        chosenFrom: 'value_price',
        policy: 'priority',
        reason: 'highest priority (3)',
      },
    ]);
    expect(byPriority.output.metrics['conflictsResolved']).toBe(1);
    const byMajority = await runCoordinator({ subagents, conflictPolicy: 'majority' }, subtasks);
    expect(byMajority.output.conflicts[0]).toMatchObject({ chosen: { amount: 44 }, chosenFrom: 'market_price', policy: 'majority' });
    const byOrder = await runCoordinator({ subagents, conflictPolicy: 'first' }, [subtasks[1], subtasks[0]]);
    expect(byOrder.output.resolved).toEqual({ price: { amount: 50 } });
  });
});

describe('coordinator: bad plans fail the node with a clear error', () => {
  it('names a dependency cycle in order', async () => {
    const { result, events } = await runCoordinator({ subagents: [subagent('a', ['x'])] }, [
      { id: 'ship', capability: 'x', dependsOn: ['test'] },
      { id: 'test', capability: 'x', dependsOn: ['build'] },
      { id: 'build', capability: 'x', dependsOn: ['ship'] },
    ]);
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({
      code: 'dependency_cycle',
      message: 'node "coord" failed: dependency cycle: ship -> test -> build -> ship (each subtask depends on the next)',
    });
    expect(eventsOf(events, 'task.assigned')).toEqual([]);
  });

  it('names the subtask and field of an invalid decomposition', async () => {
    const { result } = await runCoordinator({ subagents: [subagent('a', ['x'])] }, [
      { id: 'a', capability: 'x' },
      { id: 'b', capability: 'x', dependsOn: ['z'] },
      { id: 'c', capability: 'x', priority: 'urgent' },
    ]);
    expect(result.error).toMatchObject({
      code: 'invalid_subtasks',
      message: 'node "coord" failed: the decomposition is invalid: subtask "c" priority: Invalid input: expected number, received string; subtask "b" dependsOn unknown subtask "z"',
    });
  });

  it('holds the decomposition to maxSubtasks', async () => {
    const { result } = await runCoordinator({ subagents: [subagent('a', ['x'])], maxSubtasks: 2 }, [1, 2, 3].map((i) => ({ id: `s${i}`, capability: 'x' })));
    expect(result.error?.message).toBe('node "coord" failed: decomposition gave 3 subtasks; the limit is 2 (maxSubtasks)');
  });
});

describe('coordinator: events, metrics and nesting', () => {
  it('logs a task tree: subtasks under the coordinator, a nested pattern\'s tasks under their subtask, a planner node as the decompose task', async () => {
    const planner = transform('planner', "[{ 'id': 'ask', 'capability': 'chat', 'input': topic }]");
    const agent = { id: 'helper', kind: 'agent', config: { model: 'local/echo', prompt: 'Say something about {{ $ }}' } };
    const doc = flowDoc(
      [{ id: 'in', kind: 'input' }, { id: 'coord', kind: 'coordinator', config: { decompose: { by: 'node', node: planner }, subagents: [subagent('talker', ['chat'], { id: 'talk', kind: 'chain', config: { steps: [{ id: 'hello', skill: 'template', params: { template: 'lamps, {{ $ }}' } }] } })] } }, { id: 'out', kind: 'output' }],
      [
        { from: 'in', to: 'coord' },
        { from: 'coord', to: 'out' },
      ],
    );
    const { result, events } = await run(doc, { input: { topic: 'light' } });
    expect(result.status).toBe('succeeded');
    expect(eventsOf(events, 'task.assigned').map((e) => [e.taskId, e.parentTaskId, e.assignee])).toEqual([
      ['coord/1/decompose', 'coord/1', 'planner'],
      ['coord/1/subtask-ask', 'coord/1', 'talker'],
      ['coord/1/subtask-ask/step-1-hello', 'coord/1/subtask-ask', 'hello'],
    ]);
    expect((result.output as Output).results['ask']!.output).toBe('lamps, light');

    // An agent as a subagent: its model call is logged inside the subtask.
    const withAgent = await runCoordinator({ subagents: [subagent('writer', ['write'], agent)] }, [{ id: 'pitch', capability: 'write', input: 'the lamp' }]);
    expect(withAgent.output.results['pitch']).toMatchObject({ ok: true, subagent: 'writer' });
    expect(eventsOf(withAgent.events, 'llm.request')).toHaveLength(1);
  });

  it('emits its metrics when it finishes, with the same summary in its output', async () => {
    const { events, output } = await runCoordinator({ subagents: [subagent('A', ['a'], skill('nap', 'delay', { ms: 100 }), { concurrency: 2 })], budget: { tokens: 1_000, concurrency: 2 } }, [
      { id: 'one', capability: 'a', tokens: 100, resources: ['db'] },
      { id: 'two', capability: 'a', tokens: 200, resources: ['db'] },
      { id: 'three', capability: 'a', tokens: 900 },
      { id: 'four', capability: 'a', dependsOn: ['one'] },
    ]);
    const metrics = eventsOf(events, 'metrics').filter((e) => e.nodeId === 'coord');
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.values).toEqual(output.metrics);
    // Wave 1: one, then two (the db), three denied; wave 2: four. 300 ms, 300 busy ms of 600 slot-ms.
    expect(output.metrics).toEqual({
      subtasksTotal: 4,
      subtasksSucceeded: 3,
      subtasksFailed: 1,
      subtasksRun: 3,
      dependencySkipped: 0,
      noSubagent: 0,
      budgetDenied: 1,
      waves: 2,
      conflictsResolved: 0,
      resourceConflicts: 1,
      tokensGranted: 300,
      timeGrantedMs: 0,
      taskCompletionRate: 0.75,
      successRate: 0.75,
      averageCoordinationMs: 0,
      utilization: 0.5,
      wallMs: 300,
    });
  });

  it('logs the same events on every run of the same input', async () => {
    const go = () =>
      runCoordinator({ subagents: [subagent('A', ['a'], worker('A', 30), { concurrency: 2 }), subagent('B', ['a', 'b'], worker('B', 20))], budget: { concurrency: 2 } }, [
        { id: 'p', capability: 'a', resources: ['r'] },
        { id: 'q', capability: 'a', resources: ['r'], priority: 2 },
        { id: 'r', capability: 'b', dependsOn: ['p'] },
        { id: 's', capability: 'a' },
      ]);
    const [first, second] = [await go(), await go()];
    expect(second.events).toEqual(first.events);
  });
});

describe('coordinator: configuration problems are reported before the run', () => {
  it('points at repeated subagent ids, invalid subagent nodes and bad decomposition rules', () => {
    const result = validateFlow(
      coordinatorFlow({
        decompose: { by: 'rule', expression: '[subtasks' },
        subagents: [subagent('a', ['x']), subagent('a', ['y']), subagent('b', ['z'], skill('bad', 'no.such.skill', {}))],
      }),
    );
    const issues = result.ok ? [] : result.issues.map((i) => `${i.path.slice(2).join('.')}: ${i.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^config\.decompose\.expression: /),
      'config.subagents.1.id: subagent id "a" is already used by subagent #1; subagent ids must be unique',
      expect.stringMatching(/^config\.subagents\.2\.node\.config\.skill: .*no\.such\.skill/),
    ]);
  });

  it('rejects a subagent without capabilities at the schema', () => {
    const result = validateFlow(coordinatorFlow({ subagents: [{ id: 'idle', capabilities: [], node: transform('t', '$') }] }));
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((i) => i.path.join('.'))).toContain('nodes.1.config.subagents.0.capabilities');
  });
});
