import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@loom/shared';
import { systemClock } from '../../context/defaults.js';
import { validateFlow } from '../../graph/compile.js';
import { compile, eventsOf, flowDoc, run } from '../../test-harness.js';
import { judgeRejection } from './validate.js';
import { leastLoaded, readSubtask } from './assign.js';
import { unionLength } from '../shared/metrics.js';

const skill = (id: string, skillId: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ id, kind: 'skill', config: { skill: skillId, params }, ...extra });
const delay = (id: string, ms: number) => skill(id, 'delay', { ms });
const transform = (id: string, expression: string, extra: Record<string, unknown> = {}) => skill(id, 'json.transform', { expression }, extra);
const worker = (id: string, node: unknown, extra: { capabilities?: string[]; capacity?: number } = {}) => ({ id, node, ...extra });
const byRule = (expression = '$') => ({ by: 'rule', expression });

function mwFlow(config: Record<string, unknown>) {
  return flowDoc(
    [{ id: 'in', kind: 'input' }, { id: 'mw', kind: 'master_worker', config: { decompose: byRule(), ...config } }, { id: 'out', kind: 'output' }],
    [
      { from: 'in', to: 'mw' },
      { from: 'mw', to: 'out' },
    ],
  );
}

interface MwOutput {
  result: unknown;
  subtasks: { index: number; id?: string | number; worker: string | null; ok: boolean; output?: unknown; error?: { message: string; code?: string } }[];
  metrics: Record<string, number>;
}

async function runMw(config: Record<string, unknown>, input: unknown, settings: Parameters<typeof run>[1] = {}) {
  const outcome = await run(mwFlow(config), { input, ...settings });
  expect(outcome.result.error).toBeUndefined();
  expect(outcome.result.status).toBe('succeeded');
  return { ...outcome, output: outcome.result.output as MwOutput };
}

const metricsOf = (events: readonly RunEvent[], nodeId = 'mw') => eventsOf(events, 'metrics').find((e) => e.nodeId === nodeId)!.values;

/** Most subtasks running at once, from the task events. */
function peakRunning(events: readonly RunEvent[]): number {
  let running = 0;
  let peak = 0;
  for (const e of events) {
    if (e.type === 'task.assigned') peak = Math.max(peak, ++running);
    else if ((e.type === 'task.succeeded' || e.type === 'task.failed') && !(e.type === 'task.failed' && e.retryInMs !== undefined)) running--;
  }
  return peak;
}

describe('master_worker: assignment', () => {
  it('sends each subtask to a worker with its capability and reports the subtasks in order', async () => {
    const { output, events } = await runMw(
      {
        workers: [worker('writer', skill('write', 'template', { template: 'W:{{ $ }}' }), { capabilities: ['write'] }), worker('analyst', transform('analyse', "'A:' & $"), { capabilities: ['analyse'] })],
      },
      [{ input: 'a', capability: 'write', id: 'intro' }, { input: 'b', capability: 'analyse' }, 'c', { input: 'd', capability: 'analyse' }],
    );
    expect(output.subtasks).toEqual([
      { index: 0, id: 'intro', worker: 'writer', ok: true, output: 'W:a' },
      { index: 1, worker: 'analyst', ok: true, output: 'A:b' },
      // No capability: any worker; both carry one subtask, so the first declared takes it.
      { index: 2, worker: 'writer', ok: true, output: 'W:c' },
      { index: 3, worker: 'analyst', ok: true, output: 'A:d' },
    ]);
    expect(output.result).toEqual(output.subtasks.map((s) => ({ ok: true, assignee: s.worker, output: s.output })));
    expect(eventsOf(events, 'task.assigned').map((e) => `${e.taskId}@${e.assignee}`)).toEqual(['mw/1/subtask-0@writer', 'mw/1/subtask-1@analyst', 'mw/1/subtask-2@writer', 'mw/1/subtask-3@analyst']);
  });

  it('gives the least loaded worker the next subtask, relative to capacity, ties to the first declared', async () => {
    const { output, metrics } = await runMw({ concurrency: 10, workers: [worker('a', delay('slow', 100), { capacity: 2 }), worker('b', delay('slow', 100))] }, [1, 2, 3, 4, 5, 6]).then((r) => ({ ...r, metrics: r.output.metrics }));
    expect(output.subtasks.map((s) => s.worker)).toEqual(['a', 'b', 'a', 'a', 'b', 'a']);
    // Four on a (two at a time), two on b (one at a time): both done at 200 ms.
    expect(metrics).toMatchObject({ wallMs: 200, 'worker.a.tasks': 4, 'worker.b.tasks': 2, utilization: 1 });
  });

  it('assigns when a subtask is dispatched, so a fast worker that frees up takes the queue', async () => {
    const { output } = await runMw({ concurrency: 2, workers: [worker('fast', delay('quick', 10)), worker('slow', delay('crawl', 100))] }, [1, 2, 3, 4, 5, 6]);
    // Fixed turns would alternate; by load at dispatch time, only the first pick is the slow one.
    expect(output.subtasks.map((s) => s.worker)).toEqual(['fast', 'slow', 'fast', 'fast', 'fast', 'fast']);
  });

  it('makes a subtask no worker can do a failed result naming the capability and the workers', async () => {
    const { output, events } = await runMw(
      { workers: [worker('a', transform('t', '$'), { capabilities: ['x', 'y'] }), worker('b', transform('t', '$'), { capabilities: ['z'] })] },
      [{ input: 1, capability: 'x' }, { input: 2, capability: 'q' }],
    );
    expect(output.subtasks[1]).toEqual({ index: 1, worker: null, ok: false, error: { code: 'no_worker', message: 'no worker has capability "q" (workers: a [x,y], b [z])' } });
    expect(output.metrics).toMatchObject({ subtasksTotal: 2, subtasksSucceeded: 1, subtasksFailed: 1, subtasksUnassigned: 1, successRate: 0.5 });
    expect(eventsOf(events, 'task.assigned')).toHaveLength(1);
  });

  it('reads only `{ input, capability?, id? }` as a subtask shape; other objects are inputs', async () => {
    const { output } = await runMw({ workers: [worker('echo', transform('t', '$'))] }, [{ input: 'x', note: 'kept' }, { input: 'y', capability: 7 }, { input: null }]);
    expect(output.subtasks).toEqual([
      { index: 0, worker: 'echo', ok: true, output: { input: 'x', note: 'kept' } },
      { index: 1, worker: null, ok: false, error: { code: 'invalid_subtask', message: 'subtask 1: "capability" must be a non-empty text, got number 7' } },
      { index: 2, worker: 'echo', ok: true, output: null },
    ]);
  });

  it('leastLoaded and readSubtask are plain functions of their arguments', () => {
    const w = (id: string, assigned: number, capacity: number) => ({ id, capabilities: [], assigned, capacity });
    expect(leastLoaded([w('a', 1, 2), w('b', 2, 4)])?.id).toBe('a');
    expect(leastLoaded([w('a', 2, 2), w('b', 1, 4)])?.id).toBe('b');
    expect(leastLoaded([])).toBeUndefined();
    expect(readSubtask({ input: [1], capability: null, id: 3 }, 0)).toEqual({ ok: true, subtask: { index: 0, input: [1], id: 3 } });
    expect(readSubtask({ capability: 'x' }, 2)).toEqual({ ok: true, subtask: { index: 2, input: { capability: 'x' } } });
  });
});

describe('master_worker: parallelism and limits', () => {
  it('runs subtasks in parallel for real: five 100 ms subtasks take about 100 ms', async () => {
    const started = performance.now();
    const { output } = await runMw({ concurrency: 5, workers: [worker('w', delay('wait', 100), { capacity: 5 })] }, [1, 2, 3, 4, 5], { clock: systemClock });
    const elapsed = performance.now() - started;
    expect(output.subtasks.every((s) => s.ok)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(250);
  });

  it('holds to the pattern-wide concurrency limit', async () => {
    const { output, events } = await runMw({ concurrency: 2, workers: [worker('w', delay('wait', 100), { capacity: 10 })] }, [1, 2, 3, 4, 5]);
    expect(peakRunning(events)).toBe(2);
    expect(output.metrics.wallMs).toBe(300);
  });

  it("holds to each worker's capacity", async () => {
    const { output, events } = await runMw({ concurrency: 10, workers: [worker('w', delay('wait', 100), { capacity: 1 })] }, [1, 2, 3]);
    expect(peakRunning(events)).toBe(1);
    expect(output.metrics).toMatchObject({ wallMs: 300, utilization: 1, averageCoordinationMs: 0 });
  });

  it('finishes an empty decomposition with no subtasks and nothing left undone', async () => {
    const { output, events } = await runMw({ decompose: byRule('items'), workers: [worker('w', transform('t', '$'))] }, { items: [] });
    expect(output).toMatchObject({ result: [], subtasks: [], metrics: { subtasksTotal: 0, taskCompletionRate: 1, successRate: 1, utilization: 0 } });
    expect(eventsOf(events, 'task.assigned')).toEqual([]);
  });

  it('refuses a decomposition longer than maxSubtasks with a clear error', async () => {
    const { result } = await run(mwFlow({ maxSubtasks: 3, workers: [worker('w', transform('t', '$'))] }), { input: [1, 2, 3, 4] });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('decomposition gave 4 subtasks; the limit is 3 (maxSubtasks)');
  });
});

describe('master_worker: failures and validation', () => {
  it('keeps a failing worker as a failed result after its own retries; the run succeeds', async () => {
    const flaky = transform('check', "$ < 0 ? $error('negative: ' & $string($)) : $ * 10", { retry: { maxAttempts: 2, backoffMs: 50 } });
    const broken = skill('down', 'error.throw', { message: 'service down for {{ $ }}', code: 'down', retryable: true }, { retry: { maxAttempts: 3, backoffMs: 50 } });
    const { output, events } = await runMw(
      { workers: [worker('calc', flaky, { capabilities: ['calc'] }), worker('remote', broken, { capabilities: ['remote'] })] },
      [{ input: 1, capability: 'calc' }, { input: -2, capability: 'calc' }, { input: 'x', capability: 'remote' }],
    );
    expect(output.subtasks.map((s) => (s.ok ? s.output : s.error?.code))).toEqual([10, 'user_error', 'down']);
    expect(output.subtasks[1]!.error!.message).toBe('negative: -2');
    // The non-retryable expression error is not retried; the retryable one is, twice, 50 then 100 ms apart.
    expect(eventsOf(events, 'task.failed').map((e) => `${e.taskId}#${e.attempt}${e.retryInMs !== undefined ? ` retry in ${e.retryInMs}` : ''}`).sort()).toEqual([
      'mw/1/subtask-1#1',
      'mw/1/subtask-2#1 retry in 50',
      'mw/1/subtask-2#2 retry in 100',
      'mw/1/subtask-2#3',
    ]);
    expect(output.result).toEqual([
      { ok: true, assignee: 'calc', output: 10 },
      { ok: false, assignee: 'calc', error: output.subtasks[1]!.error },
      { ok: false, assignee: 'remote', error: { code: 'down', message: 'service down for x' } },
    ]);
    expect(output.metrics).toMatchObject({ subtasksFailed: 2, retries: 2, taskCompletionRate: 1 / 3, 'worker.remote.failed': 1, 'worker.remote.busyMs': 150, 'worker.calc.failed': 1 });
  });

  it('turns a result failing validate.expression into an invalid_result', async () => {
    const { output } = await runMw({ workers: [worker('w', transform('t', '$ * 2'))], validate: { expression: 'result > subtask.input + 2' } }, [1, 5]);
    expect(output.subtasks).toEqual([
      { index: 0, worker: 'w', ok: false, error: { code: 'invalid_result', message: 'the result fails validate.expression "result > subtask.input + 2"' } },
      { index: 1, worker: 'w', ok: true, output: 10 },
    ]);
    expect(output.metrics).toMatchObject({ subtasksInvalid: 1, taskCompletionRate: 1, successRate: 0.5 });
  });

  it("asks the judge about every successful result and keeps its reason when it rejects one", async () => {
    const judge = transform('qa', "result >= 3 ? { 'valid': true } : { 'valid': false, 'reason': 'too small: ' & $string(result) }");
    const { output, events } = await runMw({ workers: [worker('w', transform('t', "$ = 0 ? $error('zero') : $"))], validate: { judge } }, [5, 1, 0]);
    expect(output.subtasks.map((s) => (s.ok ? 'ok' : `${s.error!.code}: ${s.error!.message}`))).toEqual([
      'ok',
      'invalid_result: judge "qa" rejected the result: too small: 1',
      'user_error: zero',
    ]);
    const judged = eventsOf(events, 'task.assigned').filter((e) => e.assignee === 'qa');
    // A failed subtask has nothing to judge.
    expect(judged.map((e) => [e.taskId, e.parentTaskId, e.input])).toEqual([
      ['mw/1/validate-0', 'mw/1', { subtask: { index: 0, input: 5 }, result: 5 }],
      ['mw/1/validate-1', 'mw/1', { subtask: { index: 1, input: 1 }, result: 1 }],
    ]);
  });

  it('counts a judge that answers "invalid" or fails as a rejection, not a crash', async () => {
    const says = (text: string) => skill('qa', 'template', { template: text });
    const invalid = await runMw({ workers: [worker('w', transform('t', '$'))], validate: { judge: says('Invalid.') } }, [1]);
    expect(invalid.output.subtasks[0]!.error).toEqual({ code: 'invalid_result', message: 'judge "qa" rejected the result' });
    const broken = await runMw({ workers: [worker('w', transform('t', '$'))], validate: { judge: skill('qa', 'error.throw', { message: 'judge offline' }) } }, [1]);
    expect(broken.output.subtasks[0]!.error).toEqual({ code: 'judge_failed', message: 'judge "qa" could not check the result: judge offline' });
  });

  it('reads judge answers: truthy passes, `{ valid: false }`, "false", "invalid" and falsy do not', () => {
    expect(judgeRejection(true)).toBeUndefined();
    expect(judgeRejection({ valid: true })).toBeUndefined();
    expect(judgeRejection('looks right')).toBeUndefined();
    expect(judgeRejection({ score: 0.9 })).toBeUndefined();
    expect(judgeRejection({ valid: false, reason: 'off topic' })).toBe('off topic');
    expect(judgeRejection('{"valid": false, "reason": "no sources"}')).toBe('no sources');
    expect(judgeRejection(' FALSE ')).toBe('');
    expect(judgeRejection('invalid')).toBe('');
    expect(judgeRejection(false)).toBe('');
    expect(judgeRejection(0)).toBe('');
    expect(judgeRejection(null)).toBe('');
  });

  it('fails the node, naming it, only when the results cannot be aggregated; the metrics are still emitted', async () => {
    const { result, events } = await run(mwFlow({ workers: [worker('w', skill('t', 'error.throw', { message: 'no' }))], aggregate: { strategy: 'first_success' } }), { input: [1, 2] });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('master-worker "mw" could not aggregate (first_success): no subtask succeeded (2 failed)');
    expect(metricsOf(events)).toMatchObject({ subtasksTotal: 2, subtasksFailed: 2, successRate: 0 });
  });
});

describe('master_worker: metrics', () => {
  it('reports completion, time per worker, utilization and coordination time', async () => {
    // The planner takes 60 ms; x does two 100 ms subtasks one after the other, y one.
    const planner = { by: 'node', node: delay('plan', 60) };
    const workers = [worker('x', delay('wx', 100), { capabilities: ['x'] }), worker('y', delay('wy', 100), { capabilities: ['y'] })];
    const { output, events } = await runMw({ decompose: planner, workers }, [{ input: 1, capability: 'x' }, { input: 2, capability: 'x' }, { input: 3, capability: 'y' }]);
    expect(output.metrics).toEqual({
      subtasksTotal: 3,
      subtasksSucceeded: 3,
      subtasksFailed: 0,
      subtasksInvalid: 0,
      subtasksUnassigned: 0,
      retries: 0,
      taskCompletionRate: 1,
      successRate: 1,
      // 260 ms in all, 200 of them with a worker busy: 60 ms of coordination over 3 subtasks.
      averageCoordinationMs: 20,
      utilization: 300 / (2 * 260),
      wallMs: 260,
      'worker.x.tasks': 2,
      'worker.x.failed': 0,
      'worker.x.busyMs': 200,
      'worker.x.averageMs': 100,
      'worker.y.tasks': 1,
      'worker.y.failed': 0,
      'worker.y.busyMs': 100,
      'worker.y.averageMs': 100,
    });
    expect(metricsOf(events)).toEqual(output.metrics);
    expect(eventsOf(events, 'task.assigned')[0]).toMatchObject({ taskId: 'mw/1/decompose', parentTaskId: 'mw/1', assignee: 'plan' });
  });

  it('measures overlapping busy time once', () => {
    expect(unionLength([[0, 100], [50, 150], [200, 210], [205, 208]])).toBe(160);
    expect(unionLength([])).toBe(0);
  });
});

describe('master_worker: nesting', () => {
  it('runs an agent and another master-worker as workers, with the task tree in parentTaskId', async () => {
    const inner = {
      id: 'team',
      kind: 'master_worker',
      config: { decompose: byRule("[$.{ 'input': $, 'capability': 'upper' }]"), workers: [worker('shout', transform('up', '$uppercase($)'), { capabilities: ['upper'] })], aggregate: { strategy: 'expression', expression: "$join(results.output, ' ')" } },
    };
    const agent = { id: 'helper', kind: 'agent', config: { model: 'local/echo', prompt: 'Summarise: {{ $ }}' } };
    const { output, events } = await runMw(
      { workers: [worker('assistant', agent, { capabilities: ['ask'] }), worker('team', inner, { capabilities: ['split'] })] },
      [{ input: 'the plan', capability: 'ask' }, { input: ['a', 'b'], capability: 'split' }],
    );
    expect(output.subtasks[0]).toMatchObject({ worker: 'assistant', ok: true, output: expect.stringContaining('You said: Summarise: the plan') });
    expect(output.subtasks[1]).toMatchObject({ worker: 'team', ok: true, output: { result: 'A B', subtasks: [{ worker: 'shout' }, { worker: 'shout' }] } });
    const tree = eventsOf(events, 'task.assigned').map((e) => `${e.parentTaskId} > ${e.taskId} (${e.assignee})`);
    expect(tree).toEqual(['mw/1 > mw/1/subtask-0 (assistant)', 'mw/1 > mw/1/subtask-1 (team)', 'mw/1/subtask-1 > mw/1/subtask-1/subtask-0 (shout)', 'mw/1/subtask-1 > mw/1/subtask-1/subtask-1 (shout)']);
    expect(eventsOf(events, 'llm.response')).toHaveLength(1);
    // The inner pattern's metrics are kept apart under its task id.
    expect(metricsOf(events, 'mw/1/subtask-1')).toMatchObject({ subtasksTotal: 2, 'worker.shout.tasks': 2 });
    expect(metricsOf(events)).toMatchObject({ subtasksTotal: 2, 'worker.team.tasks': 1, 'worker.assistant.tasks': 1 });
  });
});

describe('master_worker: configuration', () => {
  it('reports bad configuration at the field, before running', () => {
    const result = validateFlow(
      mwFlow({
        decompose: byRule('[[('),
        workers: [worker('a', transform('t', '$')), worker('a', skill('t', 'json.transfrom', {})), worker('b', skill('t', 'template', { template: 'x', extra: 1 }))],
        validate: { expression: '$$$(' },
        aggregate: { strategy: 'expression' },
      }),
    );
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues.map((i) => `${i.path.slice(2).join('.')}: ${i.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^config\.decompose\.expression: invalid expression "\[\[\("/),
      'config.workers.1.id: worker id "a" is already used by worker 0; give each worker its own id',
      expect.stringMatching(/^config\.workers\.1\.node\.config\.skill: unknown skill "json\.transfrom"/),
      'config.workers.2.node.config.params: unknown parameter "extra" for skill "template"',
      expect.stringMatching(/^config\.validate\.expression: invalid expression "\$\$\$\("/),
      'config.aggregate.expression: the "expression" strategy needs an expression',
    ]);
  });

  it('asks for an expression or a judge when validate is given empty', () => {
    const result = validateFlow(mwFlow({ workers: [worker('a', transform('t', '$'))], validate: {} }));
    expect(result.ok ? [] : result.issues.map((i) => `${i.path.slice(2).join('.')}: ${i.message}`)).toEqual(['config.validate: give "expression", "judge" or both, or leave "validate" out']);
  });

  it('gives identical logs for identical runs', async () => {
    const compiled = compile(mwFlow({ concurrency: 3, workers: [worker('a', delay('d', 30), { capacity: 2 }), worker('b', transform('t', "$ = 3 ? $error('three') : $"))], validate: { expression: 'result != 2' } }));
    const first = await run(compiled, { input: [1, 2, 3, 4, 5, 6] });
    const second = await run(compiled, { input: [1, 2, 3, 4, 5, 6] });
    expect(second.events).toEqual(first.events);
  });
});
