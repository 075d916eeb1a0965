import type { ChainStep, FlowNode, RetryPolicy } from '@loom/shared';
import type { z } from 'zod';
import type { RunError } from '@loom/shared';
import { errorMessage, NodeError, toRunError } from '../../errors.js';
import type { TaskResult } from '../../scheduler/tasks.js';
import type { CompiledExpression } from '../../expressions/jsonata.js';
import { compileOrReport } from '../shared/expressions.js';
import type { NodeExecution, NodeKindDefinition, PrepareEnv, PreparedChild, PreparedNode } from '../../nodes/node-kind.js';
import { prepareSkill } from '../../nodes/skill.js';
import { metricsKey } from '../shared/metrics.js';

type Step = z.output<typeof ChainStep>;

interface PreparedStep {
  step: Step;
  child: PreparedChild;
  input: CompiledExpression | undefined;
  /** What a failure (after any retries) does: stop the chain, or go on with `default`. */
  onFailure: 'fail_chain' | 'skip';
}

/** Retries for `onError: retry` when the step gives no policy of its own. */
const DEFAULT_STEP_RETRY: RetryPolicy = { maxAttempts: 3, backoffMs: 200, factor: 2, maxBackoffMs: 30_000, jitter: 0 };

/** One step's record in the chain's metrics and task log. */
interface StepOutcome {
  id: string;
  status: 'succeeded' | 'skipped';
  attempts: number;
  failedAt?: number;
  recoveredAt?: number;
}

/**
 * Chain of skills: steps run one after another, each a skill from the registry run as a
 * task. A step's input is the previous step's output, or a JSONata mapping over
 * `{ input, previous, steps }`; it is checked against the skill's input schema before the
 * skill runs. On failure a step fails the chain, retries with backoff, or is skipped with
 * a default output, as configured. The node's output is the last step's output, or the
 * `output` mapping over `{ input, steps }`.
 */
export const chainKind: NodeKindDefinition<'chain'> = {
  kind: 'chain',
  prepare: (node, env) => {
    const ids = new Set<string>();
    const steps = node.config.steps.flatMap((step, i): PreparedStep[] => {
      const path = ['config', 'steps', i];
      if (ids.has(step.id)) env.issue([...path, 'id'], `duplicate step id "${step.id}"`);
      ids.add(step.id);
      const prepared = prepareStep(step, env, path);
      return prepared ? [prepared] : [];
    });
    const output = compileOrReport(node.config.output, ['config', 'output'], env);
    return {
      effect: steps.some((s) => s.child.prepared.effect === 'io') ? 'io' : 'pure',
      inputMode: 'value',
      execute: (execution) => runChain(execution, steps, output),
    };
  },
};

function prepareStep(step: Step, env: PrepareEnv, path: (string | number)[]): PreparedStep | undefined {
  if (step.onError !== 'retry' && step.retry !== undefined) env.issue([...path, 'retry'], `"retry" only applies with onError: "retry" (this step has "${step.onError}")`);
  // Checked here first so problems point at the step's own fields (`config.steps[2].params.url`).
  const checked = prepareSkill(step.skill, step.params, env, path);
  const input = compileOrReport(step.input, [...path, 'input'], env);
  if (!checked) return undefined;
  const node: FlowNode = {
    id: step.id,
    kind: 'skill',
    config: { skill: step.skill, params: step.params },
    ...(step.onError === 'retry' ? { retry: step.retry ?? DEFAULT_STEP_RETRY } : {}),
  };
  const child = env.prepareChild(node, path);
  if (!child) return undefined;
  const { input: inputSchema } = checked.skill;
  return {
    step,
    input,
    onFailure: step.onError === 'skip' || (step.onError === 'retry' && step.afterRetries === 'skip') ? 'skip' : 'fail_chain',
    child: inputSchema ? { ...child, prepared: validatingInput(child.prepared, inputSchema, step) } : child,
  };
}

/** Checks the step's input against the skill's input schema inside the task, so the failure is logged like any other. */
function validatingInput(prepared: PreparedNode, schema: z.ZodType, step: Step): PreparedNode {
  const check = (execution: NodeExecution) => {
    const parsed = schema.safeParse(execution.input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      throw new NodeError(`step "${step.id}": input does not fit skill "${step.skill}"${where}: ${issue.message}`, 'invalid_input', false);
    }
  };
  return {
    ...prepared,
    execute: (execution) => {
      check(execution);
      return prepared.execute(execution);
    },
    ...(prepared.produce
      ? {
          produce: (execution: NodeExecution) => {
            check(execution);
            return prepared.produce!(execution);
          },
        }
      : {}),
  };
}

async function runChain(execution: NodeExecution, steps: PreparedStep[], output: CompiledExpression | undefined) {
  const { clock } = execution.context;
  const started = clock.now();
  const outputs: Record<string, unknown> = {};
  const outcomes: StepOutcome[] = [];
  let previous = execution.input;
  let taskMs = 0;
  const finish = (failed: boolean) => emitMetrics(execution, outcomes, steps.length, failed, clock.now() - started, taskMs);

  for (const [i, prepared] of steps.entries()) {
    const { step } = prepared;
    let result: TaskResult | { ok: false; error: RunError; attempt: number; startedAt: number; finishedAt: number };
    try {
      const stepInput = prepared.input ? await prepared.input.evaluate({ input: execution.input, previous, steps: outputs }, execution.scope) : previous;
      result = await execution.tasks.run({ key: `step-${i + 1}-${step.id}`, assignee: step.id, child: prepared.child, input: stepInput });
    } catch (error) {
      if (execution.signal.aborted) throw error;
      // The step's input mapping failed: a failure of the step, handled by its policy.
      const now = clock.now();
      result = { ok: false, error: { ...toRunError(error), message: `input mapping: ${errorMessage(error)}` }, attempt: 1, startedAt: now, finishedAt: now };
    }
    taskMs += result.finishedAt - result.startedAt;
    if (result.ok) {
      outcomes.push({ id: step.id, status: 'succeeded', attempts: result.attempt, ...(result.attempt > 1 ? { failedAt: result.startedAt, recoveredAt: result.finishedAt } : {}) });
      previous = outputs[step.id] = result.output;
      continue;
    }
    if (prepared.onFailure === 'skip') {
      outcomes.push({ id: step.id, status: 'skipped', attempts: result.attempt, failedAt: result.startedAt, recoveredAt: result.finishedAt });
      previous = outputs[step.id] = step.default ?? null;
      // A step whose input mapping failed never became a task: its skip shows in the metrics.
      if ('taskId' in result) {
        const after = result.attempt > 1 ? ` after ${result.attempt} attempts` : '';
        execution.emit({ type: 'task.skipped', taskId: result.taskId, nodeId: execution.nodeId, reason: `step ${i + 1} of ${steps.length} ("${step.id}") failed${after}; its policy skips it and the chain goes on with its default`, output: previous });
      }
      continue;
    }
    finish(true);
    const attempts = result.attempt > 1 ? ` after ${result.attempt} attempts` : '';
    throw new NodeError(`step ${i + 1} of ${steps.length} ("${step.id}") failed${attempts}: ${result.error.message}`, result.error.code ?? "step_failed", result.error.retryable ?? true);
  }
  const value = output ? ((await output.evaluate({ input: execution.input, steps: outputs }, execution.scope)) ?? null) : previous;
  finish(false);
  return { output: value };
}

/** The seed's metrics for a chain, as a `metrics` event for the chain node. */
function emitMetrics(execution: NodeExecution, outcomes: StepOutcome[], stepsTotal: number, failed: boolean, wallMs: number, taskMs: number): void {
  const succeeded = outcomes.filter((o) => o.status === 'succeeded').length;
  const skipped = outcomes.filter((o) => o.status === 'skipped').length;
  const recoveries = outcomes.filter((o) => o.failedAt !== undefined && o.recoveredAt !== undefined);
  execution.emit({
    type: 'metrics',
    nodeId: metricsKey(execution),
    values: {
      stepsTotal,
      stepsSucceeded: succeeded,
      stepsSkipped: skipped,
      stepsFailed: failed ? 1 : 0,
      stepsNotRun: stepsTotal - outcomes.length - (failed ? 1 : 0),
      retries: outcomes.reduce((sum, o) => sum + o.attempts - 1, 0),
      taskCompletionRate: outcomes.length / stepsTotal,
      successRate: succeeded / stepsTotal,
      averageCoordinationMs: outcomes.length === 0 ? 0 : Math.max(0, wallMs - taskMs) / (outcomes.length + (failed ? 1 : 0)),
      errorRecoveryMs: recoveries.length === 0 ? 0 : recoveries.reduce((sum, o) => sum + (o.recoveredAt! - o.failedAt!), 0) / recoveries.length,
      wallMs,
    },
  });
}
