/**
 * The supervisor's state machine, without I/O: what state it is in, which moves are
 * allowed, what an observation (an agent's result) makes it do next, and when the step
 * and recovery budgets stop it. `supervisor.ts` runs the agents and feeds their results
 * in here; everything it logs comes out of here, so this file is the whole policy.
 */

export const SUPERVISOR_STATES = ['initializing', 'planning', 'executing', 'monitoring', 'recovering', 'completed', 'failed'] as const;
export type SupervisorState = (typeof SUPERVISOR_STATES)[number];

/** The only moves the machine makes; `advance` refuses any other. */
export const TRANSITIONS: Readonly<Record<SupervisorState, readonly SupervisorState[]>> = {
  initializing: ['planning'],
  planning: ['executing', 'recovering', 'failed'],
  executing: ['monitoring', 'recovering', 'failed'],
  monitoring: ['executing', 'completed', 'recovering', 'failed'],
  recovering: ['executing', 'planning', 'completed', 'failed'],
  completed: [],
  failed: [],
};

/** Transitions a one-step plan needs at least: initializing, planning, executing, monitoring. */
export const MIN_STEPS = 4;

export const DECISIONS = ['retry', 'skip', 'replan', 'abort'] as const;
export type Decision = (typeof DECISIONS)[number];

export interface Failure {
  message: string;
  code?: string;
}

/** What became of one plan step. */
export type StepOutcome =
  | { step: unknown; ok: true; output: unknown; attempts: number }
  | { step: unknown; ok: false; skipped: true; error: Failure; attempts: number };

/** Where the failure being recovered from happened. */
export type FailedIn = 'planning' | 'executing' | 'monitoring';

export interface Supervision {
  readonly state: SupervisorState;
  /** Transitions made so far: what the step budget counts. */
  readonly stepsUsed: number;
  /** Planning rounds started; 2 and up after a replan. */
  readonly round: number;
  readonly plan: readonly unknown[];
  /** The plan step being worked on (0-based). */
  readonly index: number;
  /** Attempt at the current plan step (1-based). */
  readonly attempt: number;
  /** Outcomes of the current plan's steps before `index`. */
  readonly results: readonly StepOutcome[];
  /** Entries into recovering. */
  readonly recoveries: number;
  /** Agent failures and rejected results. */
  readonly failures: number;
  /** An executed step's output, waiting for monitoring. */
  readonly pending?: { output: unknown };
  /** The failure being recovered from. */
  readonly error?: Failure;
  readonly failedIn?: FailedIn;
  /** Why the machine failed (state `failed`). */
  readonly failure?: Failure;
}

export interface Limits {
  /** The supervisor's node id, for messages. */
  name: string;
  maxSteps: number;
  maxRecoveries: number;
}

/** An agent's result (or the supervisor's own act) in the current state. */
export type Observation =
  | { type: 'started'; goal: string | null }
  | { type: 'planned'; plan: readonly unknown[] }
  | { type: 'planning_failed'; error: Failure }
  | { type: 'executed'; output: unknown }
  | { type: 'execution_failed'; error: Failure }
  | { type: 'checked'; pass: true }
  | { type: 'checked'; pass: false; reason: Failure }
  | { type: 'decided'; decision: Decision }
  | { type: 'recovery_failed'; error: Failure };

/** What the observation in which state means, for the log: the next machine, what was done, and why. */
export interface Transition {
  next: Supervision;
  action: string;
  assessment: string;
}

const OBSERVED_IN: Record<Observation['type'], SupervisorState> = {
  started: 'initializing',
  planned: 'planning',
  planning_failed: 'planning',
  executed: 'executing',
  execution_failed: 'executing',
  checked: 'monitoring',
  decided: 'recovering',
  recovery_failed: 'recovering',
};

export function initialSupervision(): Supervision {
  return { state: 'initializing', stepsUsed: 0, round: 0, plan: [], index: 0, attempt: 1, results: [], recoveries: 0, failures: 0 };
}

export function isFinal(state: SupervisorState): state is 'completed' | 'failed' {
  return TRANSITIONS[state].length === 0;
}

/**
 * Guard of the step budget, checked before acting in a state: every transition is one
 * step, so with `maxSteps` used the next act would exceed it. Returns the failed machine.
 */
export function outOfBudget(s: Supervision, limits: Limits): Supervision | undefined {
  if (isFinal(s.state) || s.stepsUsed < limits.maxSteps) return undefined;
  // Say what ate the budget: failures, recoveries and replans, and the last error seen.
  const history = [`${s.failures} failure${s.failures === 1 ? '' : 's'}`, `${s.recoveries} recover${s.recoveries === 1 ? 'y' : 'ies'}`];
  if (s.round > 1) history.push(`${s.round - 1} replan${s.round === 2 ? '' : 's'}`);
  const lastError = s.error ? `; last error: ${s.error.message}` : '';
  const message =
    `supervisor "${limits.name}" used its step budget of ${limits.maxSteps} in state ${s.state} (${progress(s)}; ${history.join(', ')}${lastError}); ` +
    `raise config.maxSteps if the work needs more steps`;
  return { ...s, state: 'failed', failure: { message, code: 'step_budget' } };
}

/** Applies an observation made in the current state: one transition, one step of the budget. */
export function advance(s: Supervision, observation: Observation, limits: Limits): Transition {
  if (OBSERVED_IN[observation.type] !== s.state) {
    throw new Error(`supervisor "${limits.name}": a "${observation.type}" observation cannot happen in state ${s.state}`);
  }
  const t = transition({ ...s, stepsUsed: s.stepsUsed + 1 }, observation, limits);
  if (!TRANSITIONS[s.state].includes(t.next.state)) {
    throw new Error(`supervisor "${limits.name}": no transition from ${s.state} to ${t.next.state}`);
  }
  return t;
}

function transition(s: Supervision, o: Observation, limits: Limits): Transition {
  switch (o.type) {
    case 'started':
      return {
        next: { ...s, state: 'planning', round: 1 },
        action: 'start',
        assessment: o.goal ? `goal: ${quote(o.goal, 200)}; making a plan` : 'no goal given; making a plan from the input',
      };

    case 'planned': {
      const action = `planned ${count(o.plan.length, 'step')}`;
      if (o.plan.length === 0) return recover(s, 'planning', { message: 'the plan is empty', code: 'empty_plan' }, action, limits);
      const next: Supervision = { ...s, state: 'executing', plan: o.plan, index: 0, attempt: 1, results: [], error: undefined, failedIn: undefined };
      const steps = o.plan.map((step, i) => `${i + 1}. ${describeStep(step)}`).join('; ');
      return { next, action, assessment: `plan${s.round > 1 ? ` (round ${s.round})` : ''}: ${truncate(steps, 400)}; starting with step 1` };
    }

    case 'planning_failed':
      return recover(s, 'planning', o.error, 'planning failed', limits);

    case 'executed':
      return {
        next: { ...s, state: 'monitoring', pending: { output: o.output } },
        action: ranAction(s),
        assessment: `${stepLabel(s)} produced a result; checking it`,
      };

    case 'execution_failed':
      return recover(s, 'executing', o.error, ranAction(s), limits);

    case 'checked': {
      if (!o.pass) return recover({ ...s, pending: undefined }, 'monitoring', o.reason, `rejected step ${s.index + 1}: ${describeStep(s.plan[s.index])}`, limits);
      const outcome: StepOutcome = { step: s.plan[s.index], ok: true, output: s.pending?.output ?? null, attempts: s.attempt };
      const next = nextStep({ ...s, pending: undefined }, outcome);
      return { next, action: `accepted step ${s.index + 1}: ${describeStep(s.plan[s.index])}`, assessment: `${stepLabel(s)} passed; ${whatNext(next)}` };
    }

    case 'decided':
      return decide(s, o.decision, limits);

    case 'recovery_failed': {
      const message = `supervisor "${limits.name}" could not recover: the recovery agent failed (${o.error.message}) while handling ${failureText(s)}`;
      return { next: fail(s, { message, code: 'recovery_failed' }), action: 'recovery failed', assessment: message };
    }
  }
}

/** Guard of the recovery budget: a failure moves to recovering unless the recoveries are used up. */
function recover(s: Supervision, failedIn: FailedIn, error: Failure, action: string, limits: Limits): Transition {
  const failures = s.failures + 1;
  const recoveries = s.recoveries + 1;
  const what = failedWhat(s, failedIn);
  if (recoveries > limits.maxRecoveries) {
    const message =
      `supervisor "${limits.name}" gave up: ${what} failed (${error.message}) and its ${count(limits.maxRecoveries, 'recovery', 'recoveries')} ` +
      `(maxRecoveries) ${limits.maxRecoveries === 1 ? 'is' : 'are'} used up; raise config.maxRecoveries or fix the cause`;
    return { next: fail({ ...s, failures }, { message, code: 'recoveries_exhausted' }), action, assessment: message };
  }
  return {
    next: { ...s, state: 'recovering', failures, recoveries, error, failedIn },
    action,
    assessment: `${what} failed: ${error.message}; recovering (recovery ${recoveries} of ${limits.maxRecoveries})`,
  };
}

function decide(s: Supervision, decision: Decision, limits: Limits): Transition {
  const planning = s.failedIn === 'planning';
  switch (decision) {
    case 'retry':
      if (planning) return { next: replanned(s), action: 'retry', assessment: `planning again (round ${s.round + 1})` };
      return {
        next: { ...s, state: 'executing', attempt: s.attempt + 1, error: undefined, failedIn: undefined },
        action: 'retry',
        assessment: `retrying ${stepLabel(s)}, attempt ${s.attempt + 1}`,
      };
    case 'skip': {
      if (planning) {
        const message = `supervisor "${limits.name}" cannot skip: planning failed (${s.error?.message ?? 'no plan'}), so there is no step to skip; the recovery agent should answer "retry", "replan" or "abort"`;
        return { next: fail(s, { message, code: 'invalid_decision' }), action: 'skip', assessment: message };
      }
      const outcome: StepOutcome = { step: s.plan[s.index], ok: false, skipped: true, error: s.error ?? { message: 'skipped' }, attempts: s.attempt };
      const next = nextStep({ ...s, error: undefined, failedIn: undefined }, outcome);
      return { next, action: 'skip', assessment: `skipping ${stepLabel(s)}; ${whatNext(next)}` };
    }
    case 'replan':
      return { next: replanned(s), action: 'replan', assessment: `making a new plan (round ${s.round + 1}) after ${failureText(s)}` };
    case 'abort': {
      const message = `supervisor "${limits.name}" aborted on its recovery agent's decision after ${failureText(s)}`;
      return { next: fail(s, { message, code: 'aborted' }), action: 'abort', assessment: message };
    }
  }
}

/** Back to planning; the old plan and results stay until the new plan replaces them, for the planner to see. */
function replanned(s: Supervision): Supervision {
  return { ...s, state: 'planning', round: s.round + 1 };
}

/** Records the current step's outcome and moves to the next step, or completes the plan. */
function nextStep(s: Supervision, outcome: StepOutcome): Supervision {
  const results = [...s.results, outcome];
  const index = s.index + 1;
  return { ...s, results, index, attempt: 1, state: index >= s.plan.length ? 'completed' : 'executing' };
}

function fail(s: Supervision, failure: Failure): Supervision {
  return { ...s, state: 'failed', pending: undefined, failure };
}

export type Snapshot = {
  stepsUsed: number;
  stepsCompleted: number;
  stepsSkipped: number;
  stepsTotal: number;
  recoveries: number;
  failures: number;
};

/** The metrics snapshot every supervision entry carries. */
export function snapshot(s: Supervision): Snapshot {
  return {
    stepsUsed: s.stepsUsed,
    stepsCompleted: s.results.filter((r) => r.ok).length,
    stepsSkipped: s.results.filter((r) => !r.ok).length,
    stepsTotal: s.plan.length,
    recoveries: s.recoveries,
    failures: s.failures,
  };
}

/** The log entry of a final state. */
export function finalEntry(s: Supervision): { action: string; assessment: string } {
  if (s.state === 'failed') return { action: 'fail', assessment: s.failure?.message ?? 'failed' };
  const { stepsCompleted, stepsSkipped, stepsTotal } = snapshot(s);
  const skipped = stepsSkipped > 0 ? ` (${stepsSkipped} skipped)` : '';
  return {
    action: 'complete',
    assessment: `completed ${stepsCompleted} of ${count(stepsTotal, 'plan step')}${skipped} in ${count(s.stepsUsed, 'supervisor step')} with ${count(s.recoveries, 'recovery', 'recoveries')}`,
  };
}

// --- Words for the log -------------------------------------------------------------------

/** A plan step as a person reads it: text as is, an object by its name/title/id/description. */
export function describeStep(step: unknown): string {
  if (typeof step === 'string') return truncate(step, 80);
  if (typeof step === 'object' && step !== null && !Array.isArray(step)) {
    for (const key of ['name', 'title', 'task', 'action', 'id', 'description']) {
      const value = (step as Record<string, unknown>)[key];
      if (typeof value === 'string' && value.trim() !== '') return truncate(value, 80);
    }
  }
  return truncate(JSON.stringify(step) ?? String(step), 80);
}

function stepLabel(s: Supervision): string {
  return `step ${s.index + 1} of ${s.plan.length} (${quote(describeStep(s.plan[s.index]), 80)})`;
}

function ranAction(s: Supervision): string {
  return `ran step ${s.index + 1}: ${describeStep(s.plan[s.index])}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}`;
}

function failedWhat(s: Supervision, failedIn: FailedIn): string {
  if (failedIn === 'planning') return s.round > 1 ? `planning (round ${s.round})` : 'planning';
  return failedIn === 'monitoring' ? `the check of ${stepLabel(s)}` : stepLabel(s);
}

function failureText(s: Supervision): string {
  return `${failedWhat(s, s.failedIn ?? 'executing')} failed (${s.error?.message ?? 'unknown error'})`;
}

function whatNext(s: Supervision): string {
  if (s.state === 'completed') return `all ${count(s.plan.length, 'step')} handled`;
  return `next: ${stepLabel(s)}`;
}

function progress(s: Supervision): string {
  if (s.state === 'planning' || s.state === 'initializing') return s.round > 0 ? `planning round ${s.round}` : 'no plan yet';
  if (s.state === 'recovering' && s.failedIn === 'planning') return `recovering from planning round ${s.round}`;
  return `step ${s.index + 1} of ${s.plan.length}`;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function quote(text: string, max: number): string {
  return JSON.stringify(truncate(text, max));
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 3) + '...' : text;
}
