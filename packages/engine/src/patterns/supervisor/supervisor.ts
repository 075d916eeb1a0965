import type { RunError } from '@loom/shared';
import { NodeError } from '../../errors.js';
import { compileTemplate, type CompiledTemplate } from '../../expressions/template.js';
import type { NodeExecution, NodeKindDefinition, NodeResult, PreparedChild } from '../../nodes/node-kind.js';
import { INVALID_NODE } from '../../nodes/node-kind.js';
import type { TaskResult } from '../../scheduler/tasks.js';
import { toList } from '../shared/decompose.js';
import { advance, finalEntry, initialSupervision, isFinal, MIN_STEPS, outOfBudget, snapshot, type Failure, type Limits, type Observation, type Supervision } from './machine.js';
import { readDecision, readVerdict } from './verdicts.js';
import { metricsKey } from '../shared/metrics.js';

/** Who acts in a state when no agent does: the supervisor itself. */
const SELF = 'supervisor';

interface Agents {
  planning: PreparedChild;
  execution: PreparedChild;
  monitoring: PreparedChild | undefined;
  recovery: PreparedChild | undefined;
}

interface Setup {
  limits: Limits;
  goal: CompiledTemplate | undefined;
  agents: Agents;
}

/**
 * Supervisor: an explicit state machine (see `machine.ts`) that plans with its planning
 * agent, runs each plan step with its execution agent, has each result checked by its
 * monitoring agent, and sends every failure to its recovery agent, which decides to retry,
 * skip, replan or abort. Each agent (any node kind, another supervisor included) runs as a
 * task of this node; each transition is one step of the budget and one `supervision.entry`.
 */
export const supervisorKind: NodeKindDefinition<'supervisor'> = {
  kind: 'supervisor',
  prepare: (node, env) => {
    const { config } = node;
    let goal: CompiledTemplate | undefined;
    if (config.goal !== undefined) {
      try {
        goal = compileTemplate(config.goal);
      } catch (error) {
        env.issue(['config', 'goal'], (error as Error).message);
      }
    }
    if (config.maxSteps < MIN_STEPS) {
      env.issue(['config', 'maxSteps'], `a step budget of ${config.maxSteps} cannot finish even a one-step plan, which takes ${MIN_STEPS} steps (initializing, planning, executing, monitoring)`);
    }
    const seen = new Map<string, string>();
    const prepareAgent = (role: keyof Agents): PreparedChild | undefined => {
      const agent = config.agents[role];
      if (!agent) return undefined;
      const path = ['config', 'agents', role];
      if (agent.id === SELF) env.issue([...path, 'id'], `"${SELF}" names the supervisor itself in its log; give the ${role} agent another id`);
      const other = seen.get(agent.id);
      if (other) env.issue([...path, 'id'], `the ${role} agent has the id "${agent.id}", like the ${other} agent; give each agent its own id so the log tells them apart`);
      seen.set(agent.id, role);
      return env.prepareChild(agent, path);
    };
    const planning = prepareAgent('planning');
    const execution = prepareAgent('execution');
    const monitoring = prepareAgent('monitoring');
    const recovery = prepareAgent('recovery');
    if (!planning || !execution || (config.agents.monitoring && !monitoring) || (config.agents.recovery && !recovery)) return INVALID_NODE;

    const agents: Agents = { planning, execution, monitoring, recovery };
    const setup: Setup = { limits: { name: node.id, maxSteps: config.maxSteps, maxRecoveries: config.maxRecoveries }, goal, agents };
    const io = [planning, execution, monitoring, recovery].some((a) => a?.prepared.effect === 'io');
    return { effect: io ? 'io' : 'pure', inputMode: 'value', execute: (exec) => supervise(exec, setup) };
  },
};

/** Runs the machine to a final state: act in the current state, advance, log the entry. */
async function supervise(execution: NodeExecution, { limits, goal: goalTemplate, agents }: Setup): Promise<NodeResult> {
  const { clock } = execution.context;
  const started = clock.now();
  const goal = goalTemplate ? await goalTemplate.render(execution.input, execution.scope) : null;
  const tasks: TaskResult[] = [];
  const recoveryMs: number[] = [];
  let recoveringSince = 0;

  const entry = (s: Supervision, agent: string, action: string, assessment: string, after: Supervision) =>
    execution.emit({ type: 'supervision.entry', nodeId: metricsKey(execution), step: s.stepsUsed, state: s.state, agent, action, assessment, metrics: snapshot(after) });

  const runTask = async (key: string, child: PreparedChild, input: unknown): Promise<TaskResult> => {
    const result = await execution.tasks.run({ key, assignee: child.id, child, input });
    tasks.push(result);
    return result;
  };

  /** The current state's act: which agent acts, and what it observed. */
  const act = async (s: Supervision): Promise<{ agent: string; observation: Observation }> => {
    const prefix = s.round > 1 ? `plan-${s.round}-` : '';
    const step = s.plan[s.index];
    switch (s.state) {
      case 'initializing':
        return { agent: SELF, observation: { type: 'started', goal } };
      case 'planning': {
        const input = s.round > 1 ? { goal, input: execution.input, previous: { plan: s.plan, results: s.results, error: s.error ?? null } } : { goal, input: execution.input };
        const result = await runTask(`plan-${s.round}`, agents.planning, input);
        const observation: Observation = result.ok ? { type: 'planned', plan: toList(result.output) } : { type: 'planning_failed', error: failure(result.error) };
        return { agent: agents.planning.id, observation };
      }
      case 'executing': {
        const input = { goal, step, index: s.index, attempt: s.attempt, results: s.results };
        const result = await runTask(`${prefix}step-${s.index + 1}-${s.attempt}`, agents.execution, input);
        const observation: Observation = result.ok ? { type: 'executed', output: result.output } : { type: 'execution_failed', error: failure(result.error) };
        return { agent: agents.execution.id, observation };
      }
      case 'monitoring': {
        if (!agents.monitoring) return { agent: SELF, observation: { type: 'checked', pass: true } };
        const result = await runTask(`${prefix}check-${s.index + 1}-${s.attempt}`, agents.monitoring, { goal, step, result: s.pending?.output ?? null });
        if (!result.ok) return { agent: agents.monitoring.id, observation: { type: 'checked', pass: false, reason: failure(result.error, `the monitoring agent failed: `) } };
        return { agent: agents.monitoring.id, observation: { type: 'checked', ...readVerdict(result.output) } };
      }
      case 'recovering': {
        if (!agents.recovery) return { agent: SELF, observation: { type: 'decided', decision: 'retry' } };
        // A planning failure has no step: its attempt is the planning round.
        const planning = s.failedIn === 'planning';
        const input = { goal, step: planning ? null : (step ?? null), index: planning ? null : s.index, error: s.error ?? null, attempt: planning ? s.round : s.attempt, failedIn: s.failedIn ?? null };
        const result = await runTask(`recover-${s.recoveries}`, agents.recovery, input);
        if (!result.ok) return { agent: agents.recovery.id, observation: { type: 'recovery_failed', error: failure(result.error) } };
        const read = readDecision(result.output);
        return {
          agent: agents.recovery.id,
          observation: read.ok ? { type: 'decided', decision: read.decision } : { type: 'recovery_failed', error: { ...read.error, message: `recovery agent "${agents.recovery.id}": ${read.error.message}` } },
        };
      }
      case 'completed':
      case 'failed':
        throw new Error(`supervisor "${limits.name}" has nothing to do in state ${s.state}`);
    }
  };

  let s = initialSupervision();
  while (!isFinal(s.state)) {
    const exhausted = outOfBudget(s, limits);
    if (exhausted) {
      s = exhausted;
      break;
    }
    const { agent, observation } = await act(s);
    const t = advance(s, observation, limits);
    entry(s, agent, t.action, t.assessment, t.next);
    if (t.next.state === 'recovering' && s.state !== 'recovering') recoveringSince = clock.now();
    if (s.state === 'recovering' && t.next.state !== 'failed') recoveryMs.push(clock.now() - recoveringSince);
    s = t.next;
  }
  const last = finalEntry(s);
  entry(s, SELF, last.action, last.assessment, s);

  const metrics = summarise(s, tasks, recoveryMs, clock.now() - started);
  execution.emit({ type: 'metrics', nodeId: metricsKey(execution), values: metrics });
  if (s.state === 'failed') throw new NodeError(s.failure?.message ?? `supervisor "${limits.name}" failed`, s.failure?.code ?? 'supervisor_failed', false);
  return { output: { status: 'completed', results: s.results, plan: s.plan, metrics } };
}

/** A failed task as the machine sees it; the log names the agent in the entry, so the message need not. */
function failure(error: RunError, prefix = ''): Failure {
  return { message: prefix + error.message, ...(error.code ? { code: error.code } : {}) };
}

/** The seed's orchestration metrics for a supervisor run. */
function summarise(s: Supervision, tasks: readonly TaskResult[], recoveryMs: readonly number[], wallMs: number): Record<string, number> {
  const { stepsUsed, stepsCompleted, stepsSkipped, stepsTotal, recoveries, failures } = snapshot(s);
  const tasksSucceeded = tasks.filter((t) => t.ok).length;
  const taskMs = tasks.reduce((sum, t) => sum + (t.finishedAt - t.startedAt), 0);
  return {
    stepsUsed,
    stepsTotal,
    stepsCompleted,
    stepsSkipped,
    recoveries,
    failures,
    planRounds: s.round,
    tasksTotal: tasks.length,
    tasksSucceeded,
    tasksFailed: tasks.length - tasksSucceeded,
    taskCompletionRate: stepsTotal === 0 ? 0 : stepsCompleted / stepsTotal,
    successRate: tasks.length === 0 ? 0 : tasksSucceeded / tasks.length,
    errorRecoveryMs: recoveryMs.length === 0 ? 0 : recoveryMs.reduce((a, b) => a + b, 0) / recoveryMs.length,
    averageCoordinationMs: tasks.length === 0 ? 0 : Math.max(0, wallMs - taskMs) / tasks.length,
    wallMs,
  };
}
