import { describe, expect, it } from 'vitest';
import { advance, finalEntry, initialSupervision, outOfBudget, snapshot, TRANSITIONS, type Limits, type Observation, type Supervision } from './machine.js';
import { readDecision, readVerdict } from './verdicts.js';

const limits: Limits = { name: 'ops', maxSteps: 50, maxRecoveries: 3 };

/** Feeds observations in order; returns every machine and the log lines `state -> next: action`. */
function drive(observations: Observation[], within: Limits = limits, from: Supervision = initialSupervision()) {
  let s = from;
  const log: string[] = [];
  const assessments: string[] = [];
  for (const o of observations) {
    const over = outOfBudget(s, within);
    if (over) return { s: over, log, assessments };
    const t = advance(s, o, within);
    log.push(`${s.state} -> ${t.next.state}: ${t.action}`);
    assessments.push(t.assessment);
    s = t.next;
  }
  return { s, log, assessments };
}

const err = (message: string) => ({ message, code: 'boom' });
const start: Observation = { type: 'started', goal: 'ship it' };
const plan = (...steps: unknown[]): Observation => ({ type: 'planned', plan: steps });
const ran = (output: unknown): Observation => ({ type: 'executed', output });
const broke = (message: string): Observation => ({ type: 'execution_failed', error: err(message) });
const pass: Observation = { type: 'checked', pass: true };
const reject = (message: string): Observation => ({ type: 'checked', pass: false, reason: { message } });
const decide = (decision: 'retry' | 'skip' | 'replan' | 'abort'): Observation => ({ type: 'decided', decision });

describe('supervisor machine', () => {
  it('plans, executes and monitors each step, then completes', () => {
    const { s, log } = drive([start, plan('a', 'b'), ran(1), pass, ran(2), pass]);
    expect(log).toEqual([
      'initializing -> planning: start',
      'planning -> executing: planned 2 steps',
      'executing -> monitoring: ran step 1: a',
      'monitoring -> executing: accepted step 1: a',
      'executing -> monitoring: ran step 2: b',
      'monitoring -> completed: accepted step 2: b',
    ]);
    expect(s.results).toEqual([
      { step: 'a', ok: true, output: 1, attempts: 1 },
      { step: 'b', ok: true, output: 2, attempts: 1 },
    ]);
    expect(snapshot(s)).toEqual({ stepsUsed: 6, stepsCompleted: 2, stepsSkipped: 0, stepsTotal: 2, recoveries: 0, failures: 0 });
    expect(finalEntry(s)).toEqual({ action: 'complete', assessment: 'completed 2 of 2 plan steps in 6 supervisor steps with 0 recoveries' });
  });

  it('sends a failed step to recovering; retry runs the same step again as attempt 2', () => {
    const { s, log, assessments } = drive([start, plan({ name: 'fetch data' }), broke('timeout'), decide('retry'), ran('ok'), pass]);
    expect(log.slice(2)).toEqual([
      'executing -> recovering: ran step 1: fetch data',
      'recovering -> executing: retry',
      'executing -> monitoring: ran step 1: fetch data (attempt 2)',
      'monitoring -> completed: accepted step 1: fetch data',
    ]);
    expect(assessments[2]).toBe('step 1 of 1 ("fetch data") failed: timeout; recovering (recovery 1 of 3)');
    expect(assessments[3]).toBe('retrying step 1 of 1 ("fetch data"), attempt 2');
    expect(s.results).toEqual([{ step: { name: 'fetch data' }, ok: true, output: 'ok', attempts: 2 }]);
    expect(snapshot(s)).toMatchObject({ recoveries: 1, failures: 1 });
  });

  it('a rejected result goes to recovering too; skip records the step as skipped and moves on', () => {
    const { s, log } = drive([start, plan('a', 'b'), ran('bad'), reject('too slow'), decide('skip'), ran('fine'), pass]);
    expect(log.slice(3, 5)).toEqual(['monitoring -> recovering: rejected step 1: a', 'recovering -> executing: skip']);
    expect(s.state).toBe('completed');
    expect(s.results).toEqual([
      { step: 'a', ok: false, skipped: true, error: { message: 'too slow' }, attempts: 1 },
      { step: 'b', ok: true, output: 'fine', attempts: 1 },
    ]);
    expect(finalEntry(s).assessment).toBe('completed 1 of 2 plan steps (1 skipped) in 7 supervisor steps with 1 recovery');
  });

  it('skipping the last step completes', () => {
    const { s, log } = drive([start, plan('only'), broke('no'), decide('skip')]);
    expect(log.at(-1)).toBe('recovering -> completed: skip');
    expect(s.state).toBe('completed');
  });

  it('an empty plan or a planning failure goes to recovering; retry plans again in a new round', () => {
    const { s, log, assessments } = drive([start, plan(), decide('retry'), { type: 'planning_failed', error: err('model down') }, decide('retry'), plan('x')]);
    expect(log).toEqual([
      'initializing -> planning: start',
      'planning -> recovering: planned 0 steps',
      'recovering -> planning: retry',
      'planning -> recovering: planning failed',
      'recovering -> planning: retry',
      'planning -> executing: planned 1 step',
    ]);
    expect(assessments[1]).toBe('planning failed: the plan is empty; recovering (recovery 1 of 3)');
    expect(assessments[3]).toBe('planning (round 2) failed: model down; recovering (recovery 2 of 3)');
    expect(s).toMatchObject({ round: 3, plan: ['x'], index: 0, attempt: 1 });
  });

  it('replan goes back to planning and the new plan starts from its first step', () => {
    const { s, log } = drive([start, plan('a', 'b'), ran(1), pass, broke('gone'), decide('replan')]);
    expect(log.at(-1)).toBe('recovering -> planning: replan');
    // The old plan and results stay for the planner to see until the new plan replaces them.
    expect(s).toMatchObject({ state: 'planning', round: 2, plan: ['a', 'b'], results: [{ step: 'a', ok: true }], error: { message: 'gone' } });
    const after = drive([plan('c'), ran(3), pass], limits, s).s;
    expect(after).toMatchObject({ state: 'completed', plan: ['c'], results: [{ step: 'c', ok: true, output: 3 }] });
  });

  it('abort fails with a message naming the supervisor and the failure', () => {
    const { s, log } = drive([start, plan('deploy'), broke('disk full'), decide('abort')]);
    expect(log.at(-1)).toBe('recovering -> failed: abort');
    expect(s.failure).toEqual({ code: 'aborted', message: `supervisor "ops" aborted on its recovery agent's decision after step 1 of 1 ("deploy") failed (disk full)` });
    expect(finalEntry(s)).toEqual({ action: 'fail', assessment: s.failure!.message });
  });

  it('skip is refused when planning failed: there is no step to skip', () => {
    const { s } = drive([start, plan(), decide('skip')]);
    expect(s.state).toBe('failed');
    expect(s.failure?.code).toBe('invalid_decision');
    expect(s.failure?.message).toContain('supervisor "ops" cannot skip: planning failed (the plan is empty)');
  });

  it('a failing recovery agent fails the supervisor', () => {
    const { s } = drive([start, plan('a'), broke('x'), { type: 'recovery_failed', error: err('no answer') }]);
    expect(s.failure).toEqual({
      code: 'recovery_failed',
      message: 'supervisor "ops" could not recover: the recovery agent failed (no answer) while handling step 1 of 1 ("a") failed (x)',
    });
  });

  it('counts every entry into recovering against maxRecoveries and fails past it', () => {
    const two = { ...limits, maxRecoveries: 2 };
    const { s, log } = drive([start, plan('a'), broke('1'), decide('retry'), broke('2'), decide('retry'), broke('3')], two);
    expect(log.at(-1)).toBe('executing -> failed: ran step 1: a (attempt 3)');
    expect(s.failure?.code).toBe('recoveries_exhausted');
    expect(s.failure?.message).toBe(
      'supervisor "ops" gave up: step 1 of 1 ("a") failed (3) and its 2 recoveries (maxRecoveries) are used up; raise config.maxRecoveries or fix the cause',
    );
    expect(snapshot(s)).toMatchObject({ recoveries: 2, failures: 3 });
  });

  it('maxRecoveries 0 fails on the first failure', () => {
    const { s } = drive([start, plan('a'), ran(1), reject('wrong')], { ...limits, maxRecoveries: 0 });
    expect(s.state).toBe('failed');
    expect(s.failure?.message).toContain('the check of step 1 of 1 ("a") failed (wrong)');
  });

  it('stops at the step budget before acting, naming the supervisor, the budget, the state and the progress', () => {
    const tight = { ...limits, maxSteps: 6 };
    const { s, log } = drive([start, plan('a', 'b', 'c'), ran(1), pass, ran(2), pass, ran(3), pass], tight);
    expect(log).toHaveLength(6);
    expect(s.state).toBe('failed');
    expect(s.failure).toEqual({
      code: 'step_budget',
      message: 'supervisor "ops" used its step budget of 6 in state executing (step 3 of 3; 0 failures, 0 recoveries); raise config.maxSteps if the work needs more steps',
    });
    // Exactly the budget is enough: the last transition may reach a final state.
    expect(drive([start, plan('a'), ran(1), pass], { ...limits, maxSteps: 4 }).s.state).toBe('completed');
  });

  it('names the planning round when the budget runs out while planning', () => {
    const { s } = drive([start, plan(), decide('retry'), plan('a')], { ...limits, maxSteps: 3 });
    expect(s.failure?.message).toContain('used its step budget of 3 in state planning (planning round 2; 1 failure, 1 recovery, 1 replan; last error: the plan is empty)');
  });

  it('refuses observations that cannot happen in the current state', () => {
    expect(() => advance(initialSupervision(), pass, limits)).toThrow('a "checked" observation cannot happen in state initializing');
  });

  it('only final states have no way out', () => {
    expect(Object.entries(TRANSITIONS).filter(([, to]) => to.length === 0).map(([from]) => from)).toEqual(['completed', 'failed']);
  });
});

describe('reading agents', () => {
  it('a verdict passes when truthy, fails on falsy, { ok: false } and "fail"-like text', () => {
    expect(readVerdict(true)).toEqual({ pass: true });
    expect(readVerdict({ ok: true })).toEqual({ pass: true });
    expect(readVerdict('looks good')).toEqual({ pass: true });
    expect(readVerdict({})).toEqual({ pass: true });
    expect(readVerdict(false).pass).toBe(false);
    expect(readVerdict(null).pass).toBe(false);
    expect(readVerdict(0).pass).toBe(false);
    expect(readVerdict('fail').pass).toBe(false);
    expect(readVerdict('FALSE').pass).toBe(false);
    expect(readVerdict('Failed: no data').pass).toBe(false);
    expect(readVerdict({ ok: false, reason: 'stale' })).toEqual({ pass: false, reason: { message: 'the monitor rejected it: stale', code: 'rejected' } });
    expect(readVerdict('{"ok": false, "message": "empty"}')).toEqual({ pass: false, reason: { message: 'the monitor rejected it: empty', code: 'rejected' } });
  });

  it('a decision is text (its first word) or { decision }', () => {
    expect(readDecision('retry')).toEqual({ ok: true, decision: 'retry' });
    expect(readDecision(' Skip. The pager is down.')).toEqual({ ok: true, decision: 'skip' });
    expect(readDecision({ decision: 'REPLAN', reason: 'x' })).toEqual({ ok: true, decision: 'replan' });
    expect(readDecision('{"decision":"abort"}')).toEqual({ ok: true, decision: 'abort' });
    const bad = readDecision('maybe later');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.message).toBe('it answered "maybe later"; expected "retry", "skip", "replan" or "abort" (text or { "decision": ... })');
    expect(readDecision(42).ok).toBe(false);
  });
});
