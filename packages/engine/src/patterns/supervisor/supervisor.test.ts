import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunEvent } from '@loom/shared';
import { validateFlow } from '../../graph/compile.js';
import { createBuiltinSkillRegistry } from '../../skills/registry.js';
import { defineSkill } from '../../skills/skill.js';
import { compile, eventsOf, flowDoc, run, statusesOf } from '../../test-harness.js';

const skill = (id: string, name: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ id, kind: 'skill', config: { skill: name, params }, ...extra });
const rule = (id: string, expression: string, extra: Record<string, unknown> = {}) => skill(id, 'json.transform', { expression }, extra);
const constant = (id: string, value: unknown) => skill(id, 'constant', { value });

/** Splits "a, b, c" after the colon of the goal into steps. */
const splitter = rule('planner', "$split($substringAfter(goal, ': '), ', ')");
const doer = rule('doer', "'did ' & step");

function supervisorFlow(config: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return flowDoc(
    [{ id: 'in', kind: 'input' }, { id: 'ops', kind: 'supervisor', config: { goal: 'Do: {{ tasks }}', ...config }, ...extra }, { id: 'out', kind: 'output' }],
    [
      { from: 'in', to: 'ops' },
      { from: 'ops', to: 'out' },
    ],
  );
}

/** The supervision log of one supervisor as `state:agent:action`. */
function supervision(events: readonly RunEvent[], nodeId = 'ops'): string[] {
  return eventsOf(events, 'supervision.entry')
    .filter((e) => e.nodeId === nodeId)
    .map((e) => `${e.state}:${e.agent}:${e.action}`);
}

/** Keys of the tasks a node handed out, in assignment order (task id after the node's own). */
function taskKeys(events: readonly RunEvent[], parent = 'ops/1'): string[] {
  return eventsOf(events, 'task.assigned')
    .filter((e) => e.parentTaskId === parent)
    .map((e) => e.taskId.slice(parent.length + 1));
}

function metricsOf(events: readonly RunEvent[], nodeId = 'ops'): Record<string, number> {
  const found = eventsOf(events, 'metrics').filter((e) => e.nodeId === nodeId);
  expect(found).toHaveLength(1);
  return found[0]!.values;
}

describe('supervisor', () => {
  it('plans, executes and monitors every step, then completes with results, plan and metrics', async () => {
    const flow = supervisorFlow({ agents: { planning: splitter, execution: doer, monitoring: rule('checker', "{ 'ok': $contains(result, step) }") } });
    const { result, events, state } = await run(flow, { input: { tasks: 'fetch, sort, report' } });

    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual({
      status: 'completed',
      plan: ['fetch', 'sort', 'report'],
      results: [
        { step: 'fetch', ok: true, output: 'did fetch', attempts: 1 },
        { step: 'sort', ok: true, output: 'did sort', attempts: 1 },
        { step: 'report', ok: true, output: 'did report', attempts: 1 },
      ],
      metrics: expect.objectContaining({ stepsUsed: 8, stepsCompleted: 3, stepsTotal: 3 }),
    });
    expect(taskKeys(events)).toEqual(['plan-1', 'step-1-1', 'check-1-1', 'step-2-1', 'check-2-1', 'step-3-1', 'check-3-1']);
    // The reducer's view: every transition in order, then the final state.
    expect(state.supervision.map((e) => `${e.step}:${e.state}:${e.agent}`)).toEqual([
      '0:initializing:supervisor',
      '1:planning:planner',
      '2:executing:doer',
      '3:monitoring:checker',
      '4:executing:doer',
      '5:monitoring:checker',
      '6:executing:doer',
      '7:monitoring:checker',
      '8:completed:supervisor',
    ]);
    expect(state.supervision.every((e) => e.nodeId === 'ops')).toBe(true);
    expect(state.supervision[0]!.assessment).toBe('goal: "Do: fetch, sort, report"; making a plan');
    expect(state.supervision[2]).toMatchObject({
      action: 'ran step 1: fetch',
      assessment: 'step 1 of 3 ("fetch") produced a result; checking it',
      metrics: { stepsUsed: 3, stepsCompleted: 0, stepsSkipped: 0, stepsTotal: 3, recoveries: 0, failures: 0 },
    });
    expect(state.supervision[8]!.assessment).toBe('completed 3 of 3 plan steps in 8 supervisor steps with 0 recoveries');
    // The execution agent sees the goal, its step, its index, its attempt and the results so far.
    expect(eventsOf(events, 'task.assigned').find((e) => e.taskId === 'ops/1/step-2-1')!.input).toEqual({
      goal: 'Do: fetch, sort, report',
      step: 'sort',
      index: 1,
      attempt: 1,
      results: [{ step: 'fetch', ok: true, output: 'did fetch', attempts: 1 }],
    });
    expect(metricsOf(events)).toMatchObject({
      stepsUsed: 8,
      stepsTotal: 3,
      stepsCompleted: 3,
      stepsSkipped: 0,
      recoveries: 0,
      tasksTotal: 7,
      tasksSucceeded: 7,
      taskCompletionRate: 1,
      successRate: 1,
      errorRecoveryMs: 0,
    });
  });

  it('without a monitoring agent every result passes, and the supervisor itself is the monitor', async () => {
    const { result, events } = await run(supervisorFlow({ agents: { planning: splitter, execution: doer } }), { input: { tasks: 'a' } });
    expect(result.status).toBe('succeeded');
    expect(supervision(events)).toEqual(['initializing:supervisor:start', 'planning:planner:planned 1 step', 'executing:doer:ran step 1: a', 'monitoring:supervisor:accepted step 1: a', 'completed:supervisor:complete']);
    expect(taskKeys(events)).toEqual(['plan-1', 'step-1-1']);
  });

  it('a step failing on its first attempt goes through recovering and is retried; the run succeeds', async () => {
    const flaky = rule('doer', "step = 'sort' and attempt = 1 ? $error('sorter crashed') : 'did ' & step");
    const { result, events } = await run(supervisorFlow({ agents: { planning: splitter, execution: flaky } }), { input: { tasks: 'fetch, sort, report' } });

    expect(result.status).toBe('succeeded');
    expect(supervision(events).slice(4, 8)).toEqual([
      'executing:doer:ran step 2: sort',
      'recovering:supervisor:retry',
      'executing:doer:ran step 2: sort (attempt 2)',
      'monitoring:supervisor:accepted step 2: sort',
    ]);
    expect(taskKeys(events)).toEqual(['plan-1', 'step-1-1', 'step-2-1', 'step-2-2', 'step-3-1']);
    // The agent's failure is a failed task, not a failed node.
    expect(eventsOf(events, 'task.failed').map((e) => e.taskId)).toEqual(['ops/1/step-2-1']);
    expect(statusesOf(events, 'ops')).toEqual(['running#1', 'succeeded#1']);
    expect(eventsOf(events, 'supervision.entry')[4]!.assessment).toMatch(/^step 2 of 3 \("sort"\) failed: .*sorter crashed; recovering \(recovery 1 of 3\)$/);
    expect(metricsOf(events)).toMatchObject({ recoveries: 1, failures: 1, tasksTotal: 5, tasksFailed: 1, successRate: 0.8, taskCompletionRate: 1 });
  });

  it('the recovery agent gets the failure and decides; "skip" records the step as skipped', async () => {
    const broken = rule('doer', "step = 'page' ? $error('pager down') : 'did ' & step");
    const recovery = rule('commander', "{ 'decision': attempt < 2 ? 'retry' : 'skip' }");
    const { result, events } = await run(supervisorFlow({ agents: { planning: splitter, execution: broken, recovery } }), { input: { tasks: 'ack, page, fix' } });

    expect(result.status).toBe('succeeded');
    expect(supervision(events).slice(4, 9)).toEqual([
      'executing:doer:ran step 2: page',
      'recovering:commander:retry',
      'executing:doer:ran step 2: page (attempt 2)',
      'recovering:commander:skip',
      'executing:doer:ran step 3: fix',
    ]);
    const recoverInput = eventsOf(events, 'task.assigned').find((e) => e.taskId === 'ops/1/recover-2')!.input;
    expect(recoverInput).toMatchObject({ goal: 'Do: ack, page, fix', step: 'page', index: 1, attempt: 2, failedIn: 'executing', error: { code: 'user_error' } });
    const output = result.output as { results: unknown[] };
    expect(output.results[1]).toEqual({ step: 'page', ok: false, skipped: true, error: expect.objectContaining({ message: expect.stringContaining('pager down') }), attempts: 2 });
    expect(metricsOf(events)).toMatchObject({ stepsCompleted: 2, stepsSkipped: 1, stepsTotal: 3, recoveries: 2, taskCompletionRate: 2 / 3 });
  });

  it('the monitoring agent rejects with { ok: false }, "fail" text or its own failure, each sending the step to recovering', async () => {
    const monitoring = rule('checker', "step = 'a' and $contains(result, '#1') ? { 'ok': false, 'reason': 'stale' } : step = 'b' and $contains(result, '#1') ? 'fail' : step = 'c' and $contains(result, '#1') ? $error('checker broke') : true");
    const execution = rule('doer', "step & ' #' & $string(attempt)");
    const { result, events } = await run(supervisorFlow({ agents: { planning: splitter, execution, monitoring } }), { input: { tasks: 'a, b, c' } });

    expect(result.status).toBe('succeeded');
    const rejections = eventsOf(events, 'supervision.entry').filter((e) => e.action.startsWith('rejected'));
    expect(rejections.map((e) => e.assessment)).toEqual([
      'the check of step 1 of 3 ("a") failed: the monitor rejected it: stale; recovering (recovery 1 of 3)',
      'the check of step 2 of 3 ("b") failed: the monitor answered "fail"; recovering (recovery 2 of 3)',
      expect.stringMatching(/^the check of step 3 of 3 \("c"\) failed: the monitoring agent failed: .*checker broke; recovering \(recovery 3 of 3\)$/),
    ]);
    expect((result.output as { results: { output: unknown }[] }).results.map((r) => r.output)).toEqual(['a #2', 'b #2', 'c #2']);
  });

  it('an empty plan goes to recovering, and retry plans again', async () => {
    const planning = rule('planner', '[]');
    const { result, events } = await run(supervisorFlow({ agents: { planning, execution: doer }, maxRecoveries: 2 }), { input: { tasks: 'x' } });
    expect(result.status).toBe('failed');
    expect(supervision(events)).toEqual([
      'initializing:supervisor:start',
      'planning:planner:planned 0 steps',
      'recovering:supervisor:retry',
      'planning:planner:planned 0 steps',
      'recovering:supervisor:retry',
      'planning:planner:planned 0 steps',
      'failed:supervisor:fail',
    ]);
    expect(taskKeys(events)).toEqual(['plan-1', 'plan-2', 'plan-3']);
    expect(result.error).toMatchObject({
      code: 'recoveries_exhausted',
      nodeId: 'ops',
      message: 'node "ops" failed: supervisor "ops" gave up: planning (round 3) failed (the plan is empty) and its 2 recoveries (maxRecoveries) are used up; raise config.maxRecoveries or fix the cause',
    });
  });

  it('replan makes a new plan that sees the old plan, its results and the error', async () => {
    const planning = rule('planner', "$exists(previous) ? ['b2', 'c'] : ['a', 'b']");
    const execution = rule('doer', "step = 'b' ? $error('b is obsolete') : 'did ' & step");
    const recovery = constant('commander', 'replan');
    const { result, events } = await run(supervisorFlow({ agents: { planning, execution, recovery } }), { input: { tasks: '' } });

    expect(result.status).toBe('succeeded');
    expect(taskKeys(events)).toEqual(['plan-1', 'step-1-1', 'step-2-1', 'recover-1', 'plan-2', 'plan-2-step-1-1', 'plan-2-step-2-1']);
    expect(eventsOf(events, 'task.assigned').find((e) => e.taskId === 'ops/1/plan-2')!.input).toMatchObject({
      previous: { plan: ['a', 'b'], results: [{ step: 'a', ok: true, output: 'did a' }], error: { message: expect.stringContaining('b is obsolete') } },
    });
    expect(supervision(events)).toContain('recovering:commander:replan');
    expect(result.output).toMatchObject({ plan: ['b2', 'c'], results: [{ step: 'b2', ok: true }, { step: 'c', ok: true }], metrics: { planRounds: 2 } });
  });

  it('abort fails the node with an error naming the supervisor; the log ends in failed and metrics are still emitted', async () => {
    const execution = rule('doer', "$error('disk full')");
    const { result, events, state } = await run(supervisorFlow({ agents: { planning: splitter, execution, recovery: constant('commander', { decision: 'abort' }) } }), { input: { tasks: 'deploy' } });

    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'aborted', nodeId: 'ops', retryable: false });
    expect(result.error!.message).toMatch(/^node "ops" failed: supervisor "ops" aborted on its recovery agent's decision after step 1 of 1 \("deploy"\) failed \(.*disk full\)$/);
    expect(supervision(events).slice(-2)).toEqual(['recovering:commander:abort', 'failed:supervisor:fail']);
    expect(state.nodes['ops']!.status).toBe('failed');
    expect(metricsOf(events)).toMatchObject({ stepsCompleted: 0, recoveries: 1, taskCompletionRate: 0 });
  });

  it('a recovery agent that fails or answers nonsense fails the supervisor', async () => {
    const execution = rule('doer', "$error('nope')");
    const failing = await run(supervisorFlow({ agents: { planning: splitter, execution, recovery: rule('commander', "$error('commander unreachable')") } }), { input: { tasks: 'x' } });
    expect(failing.result.error).toMatchObject({ code: 'recovery_failed' });
    expect(failing.result.error!.message).toMatch(/^node "ops" failed: supervisor "ops" could not recover: the recovery agent failed \(.*commander unreachable\) while handling step 1 of 1/);

    const confused = await run(supervisorFlow({ agents: { planning: splitter, execution, recovery: constant('commander', 'maybe') } }), { input: { tasks: 'x' } });
    expect(confused.result.error!.message).toContain('the recovery agent failed (recovery agent "commander": it answered "maybe"; expected "retry", "skip", "replan" or "abort"');
  });

  it('stops at the step budget with a non-retryable error naming the supervisor, the budget, the state and the progress', async () => {
    // 5 steps need 12 transitions; a rejected check adds 3 (recovering, executing and monitoring again).
    const execution = rule('doer', "{ 'step': step, 'attempt': attempt }");
    const checker = rule('checker', "result.step = '3' and result.attempt = 1 ? false : true");
    const flow = supervisorFlow({ goal: 'Do: 1, 2, 3, 4, 5', agents: { planning: splitter, execution, monitoring: checker }, maxSteps: 12 }, { retry: { maxAttempts: 3, backoffMs: 10 } });
    const { result, events } = await run(flow, { input: {} });

    expect(result.error).toEqual({
      code: 'step_budget',
      nodeId: 'ops',
      retryable: false,
      message: 'node "ops" failed: supervisor "ops" used its step budget of 12 in state monitoring (step 4 of 5; 1 failure, 1 recovery); raise config.maxSteps if the work needs more steps',
    });
    // Not retried by the node's retry policy: the budget would run out the same way.
    expect(statusesOf(events, 'ops')).toEqual(['running#1', 'failed#1']);
    const entries = eventsOf(events, 'supervision.entry');
    expect(entries).toHaveLength(13);
    expect(entries.at(-1)).toMatchObject({ step: 12, state: 'failed', action: 'fail', assessment: result.error!.message.replace('node "ops" failed: ', '') });

    const enough = await run(supervisorFlow({ goal: 'Do: 1, 2, 3, 4, 5', agents: { planning: splitter, execution, monitoring: checker }, maxSteps: 15 }), { input: {} });
    expect(enough.result.status).toBe('succeeded');
  });

  it('measures error recovery time and coordination time with the run clock', async () => {
    const skills = createBuiltinSkillRegistry().register(
      defineSkill({
        id: 'test.think',
        title: 'Think, then retry',
        description: 'Waits, then answers "retry".',
        category: 'control',
        effect: 'io',
        params: z.object({ ms: z.number() }).strict(),
        prepare: ({ ms }) => ({
          run: async (_input, { context, signal }) => {
            await context.clock.sleep(ms, signal);
            return 'retry';
          },
        }),
      }),
    );
    const execution = rule('doer', "attempt < 3 ? $error('flaky') : step");
    const flow = compile(supervisorFlow({ agents: { planning: splitter, execution, recovery: skill('thinker', 'test.think', { ms: 100 }) } }), { skills });
    const { result, events } = await run(flow, { input: { tasks: 'a' } });

    expect(result.status).toBe('succeeded');
    expect(metricsOf(events)).toMatchObject({ recoveries: 2, errorRecoveryMs: 100, wallMs: 200, averageCoordinationMs: 0, tasksTotal: 6 });
  });

  it('nests: a supervisor can be the execution agent of another, logging under its task id in one task tree', async () => {
    const inner = {
      id: 'inner',
      kind: 'supervisor',
      config: { goal: 'Sub: {{ step }}', agents: { planning: rule('sub_planner', "[$substringAfter(goal, ': ') & '.1', $substringAfter(goal, ': ') & '.2']"), execution: rule('sub_doer', "'did ' & step") } },
    };
    const { result, events, state } = await run(supervisorFlow({ agents: { planning: splitter, execution: inner } }), { input: { tasks: 'a, b' } });

    expect(result.status).toBe('succeeded');
    const outer = result.output as { results: { output: { status: string; results: { output: string }[] } }[] };
    expect(outer.results.map((r) => r.output.results.map((x) => x.output))).toEqual([
      ['did a.1', 'did a.2'],
      ['did b.1', 'did b.2'],
    ]);
    // Both supervisors' entries, in log order: the inner one files under the task that runs it.
    const log = state.supervision.map((e) => `${e.nodeId}:${e.state}`);
    expect(log.slice(0, 4)).toEqual(['ops:initializing', 'ops:planning', 'ops/1/step-1-1:initializing', 'ops/1/step-1-1:planning']);
    expect(log.filter((e) => e.startsWith('ops/1/step-')).length).toBe(2 * 7);
    expect(log.at(-1)).toBe('ops:completed');
    expect(supervision(events, 'ops/1/step-1-1')).toEqual([
      'initializing:supervisor:start',
      'planning:sub_planner:planned 2 steps',
      'executing:sub_doer:ran step 1: a.1',
      'monitoring:supervisor:accepted step 1: a.1',
      'executing:sub_doer:ran step 2: a.2',
      'monitoring:supervisor:accepted step 2: a.2',
      'completed:supervisor:complete',
    ]);
    // The inner supervisor's tasks hang under the outer task that runs it.
    expect(taskKeys(events)).toEqual(['plan-1', 'step-1-1', 'step-2-1']);
    expect(taskKeys(events, 'ops/1/step-1-1')).toEqual(['plan-1', 'step-1-1', 'step-2-1']);
    expect(state.tasks['ops/1/step-2-1/plan-1']).toMatchObject({ parentTaskId: 'ops/1/step-2-1', assignee: 'sub_planner', status: 'succeeded' });
    expect(eventsOf(events, 'metrics').filter((e) => e.nodeId?.startsWith('ops/1/step-'))).toHaveLength(2);
  });

  it('nests an LLM agent as the execution agent', async () => {
    const agent = { id: 'writer', kind: 'agent', config: { model: 'local/echo', prompt: 'Step {{ index + 1 }}: {{ step }}' } };
    const { result, events } = await run(supervisorFlow({ agents: { planning: splitter, execution: agent } }), { input: { tasks: 'draft, polish' } });

    expect(result.status).toBe('succeeded');
    expect((result.output as { results: { output: string }[] }).results.map((r) => r.output)).toEqual([
      expect.stringContaining('You said: Step 1: draft'),
      expect.stringContaining('You said: Step 2: polish'),
    ]);
    expect(eventsOf(events, 'llm.request').map((e) => e.callId)).toEqual(['ops/1/step-1-1/llm/1', 'ops/1/step-2-1/llm/1']);
  });

  it('gives the same log on every run', async () => {
    const flow = compile(supervisorFlow({ agents: { planning: splitter, execution: rule('doer', "attempt = 1 ? $error('x') : step") } }));
    const a = await run(flow, { input: { tasks: 'a, b' } });
    const b = await run(flow, { input: { tasks: 'a, b' } });
    expect(a.events).toEqual(b.events);
  });
});

describe('supervisor config', () => {
  function issues(config: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
    const result = validateFlow(supervisorFlow(config, extra));
    return result.ok ? [] : result.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }

  it('reports problems at their path, nested agents included', () => {
    expect(issues({ goal: 'Do {{ oops', agents: { planning: splitter, execution: doer } })).toEqual(['nodes.1.config.goal: unclosed "{{" at character 3']);
    expect(issues({ agents: { planning: splitter, execution: doer }, maxSteps: 3 })).toEqual([
      'nodes.1.config.maxSteps: a step budget of 3 cannot finish even a one-step plan, which takes 4 steps (initializing, planning, executing, monitoring)',
    ]);
    expect(issues({ agents: { planning: splitter, execution: skill('doer', 'no.such.skill', {}) } })).toEqual([
      expect.stringMatching(/^nodes\.1\.config\.agents\.execution\.config\.skill: unknown skill "no\.such\.skill"/),
    ]);
    expect(issues({ agents: { planning: splitter, execution: doer, monitoring: rule('check', '(') } })).toEqual([
      expect.stringMatching(/^nodes\.1\.config\.agents\.monitoring\.config\.params\.expression: invalid expression/),
    ]);
    expect(issues({ agents: { planning: splitter, execution: rule('planner', 'step') } })).toEqual([
      'nodes.1.config.agents.execution.id: the execution agent has the id "planner", like the planning agent; give each agent its own id so the log tells them apart',
    ]);
    expect(issues({ agents: { planning: splitter, execution: doer, recovery: constant('supervisor', 'retry') } })).toEqual([
      'nodes.1.config.agents.recovery.id: "supervisor" names the supervisor itself in its log; give the recovery agent another id',
    ]);
  });

  it('requires planning and execution agents', () => {
    expect(issues({ agents: { planning: splitter } })).toEqual([expect.stringMatching(/^nodes\.1\.config\.agents\.execution: /)]);
  });
});
