import type { NodeOf, Subagent } from '@loom/shared';
import type { z } from 'zod';
import { NodeError } from '../../errors.js';
import type { NodeExecution, NodeKindDefinition, NodeResult, PreparedChild } from '../../nodes/node-kind.js';
import { TaskPool, type TaskResult } from '../../scheduler/tasks.js';
import { prepareDecomposition, type PreparedDecomposition } from '../shared/decompose.js';
import { BudgetLedger, negotiateWave, type Decision } from './budget.js';
import { resolveResults, scheduleResources, type ResourceConflict } from './conflicts.js';
import { describeCycle, planWaves } from './graph.js';
import { coordinatorMetrics, type SubtaskOutcome } from './metrics.js';
import { parseSubtasks, type Subtask } from './subtasks.js';
import { metricsKey } from '../shared/metrics.js';

type CoordinatorNode = NodeOf<'coordinator'>;

interface PreparedSubagent {
  spec: z.output<typeof Subagent>;
  child: PreparedChild;
}

/** One subtask's entry in the coordinator's output. */
type SubtaskReport = {
  /** The subagent that ran it, or null when it never ran for lack of one. */
  subagent: string | null;
  /** 1-based: wave 1 is `waves[0]`. */
  wave: number;
  granted?: { tokens: number; timeMs?: number };
  /** Attempts its task took (retries are the subagent node's own `retry` policy). */
  attempts?: number;
} & ({ ok: true; output: unknown } | { ok: false; error: { message: string; code: string } });

interface SubtaskRecord {
  report: SubtaskReport;
  outcome: SubtaskOutcome;
}

/**
 * Coordinator-subagent: decomposes its input into subtasks (a rule or a planner node),
 * checks them, and runs them as tasks of the subagents that declare their capability, in
 * topological waves of the dependency graph. Before each wave every subtask's token/time
 * request is granted from its subagent's and the coordinator's budgets, in priority
 * order; inside a wave subtasks run in parallel under the coordinator's and each
 * subagent's concurrency, taking turns on exclusive resources. Subtasks that share a
 * result key and disagree are settled by the conflict policy. Failures, denials and
 * skips are results in the output, not a failed node; a bad decomposition or a
 * dependency cycle fails the node.
 */
export const coordinatorKind: NodeKindDefinition<'coordinator'> = {
  kind: 'coordinator',
  prepare: (node, env) => {
    const decomposition = prepareDecomposition(node.config.decompose, env, ['config', 'decompose']);
    const firstUse = new Map<string, number>();
    const subagents = node.config.subagents.flatMap((spec, i): PreparedSubagent[] => {
      const path = ['config', 'subagents', i];
      const first = firstUse.get(spec.id);
      if (first !== undefined) env.issue([...path, 'id'], `subagent id "${spec.id}" is already used by subagent #${first + 1}; subagent ids must be unique`);
      else firstUse.set(spec.id, i);
      const child = env.prepareChild(spec.node, [...path, 'node']);
      return child ? [{ spec, child }] : [];
    });
    const io = node.config.decompose.by === 'node' || subagents.some((s) => s.child.prepared.effect === 'io');
    return {
      effect: io ? 'io' : 'pure',
      inputMode: 'value',
      execute: (execution) => coordinate(node, decomposition, subagents, execution),
    };
  },
};

async function coordinate(node: CoordinatorNode, decomposition: PreparedDecomposition, subagents: PreparedSubagent[], execution: NodeExecution): Promise<NodeResult> {
  const { config } = node;
  const { clock } = execution.context;
  const startedAt = clock.now();
  // The run names the node ("node \"launch\" failed: ..."); the message says what was wrong with the plan.
  const planError = (message: string, code: string) => new NodeError(message, code, false);

  const parsed = parseSubtasks(await decomposition.decompose(execution.input, execution, config.maxSubtasks));
  if (!parsed.ok) throw planError(`the decomposition is invalid: ${parsed.problems.join('; ')}`, 'invalid_subtasks');
  const { subtasks } = parsed;
  const plan = planWaves(subtasks);
  if (!plan.ok) throw planError(describeCycle(plan.cycle), 'dependency_cycle');

  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const subagentById = new Map(subagents.map((s) => [s.spec.id, s]));
  const profiles = subagents.map((s) => ({ id: s.spec.id, capabilities: s.spec.capabilities }));
  const ledger = new BudgetLedger(config.budget, subagents.map((s) => ({ id: s.spec.id, budget: s.spec.budget })));
  const coordinatorPool = new TaskPool(config.budget.concurrency);
  const subagentPools = new Map(subagents.map((s) => [s.spec.id, new TaskPool(s.spec.budget.concurrency)]));
  const records = new Map<string, SubtaskRecord>();
  const resourceConflicts: ResourceConflict[] = [];

  const runSubtask = async (subtask: Subtask, grant: Extract<Decision, { ok: true }>, wave: number): Promise<SubtaskRecord> => {
    const subagent = subagentById.get(grant.subagent)!;
    const pool = subagentPools.get(grant.subagent)!;
    // The subagent's slot first, then the coordinator's: a subtask waiting for a busy
    // subagent must not hold a coordinator slot another subagent could use.
    await pool.acquire(execution.signal);
    // A time grant is given once: it bounds every attempt and, through this deadline, all
    // of them together, so retries cannot spend it again.
    const deadline = grant.timeMs === undefined ? undefined : new AbortController();
    if (deadline) {
      execution.context.clock.sleep(grant.timeMs!, deadline.signal).then(
        () => deadline.abort(new NodeError('time budget exhausted', 'timeout', false)),
        () => undefined,
      );
    }
    let result: TaskResult;
    try {
      result = await execution.tasks.run({
        key: `subtask-${subtask.id}`,
        assignee: grant.subagent,
        child: subagent.child,
        input: subtaskInput(subtask, execution.input, records),
        pool: coordinatorPool,
        wave: { index: wave, of: plan.waves.length },
        ...(grant.timeMs !== undefined ? { timeoutMs: grant.timeMs, signal: deadline!.signal } : {}),
      });
    } finally {
      pool.release();
      if (deadline && !deadline.signal.aborted) deadline.abort();
    }
    const ran = { subagent: grant.subagent, wave, granted: { tokens: grant.tokens, ...(grant.timeMs !== undefined ? { timeMs: grant.timeMs } : {}) }, attempts: result.attempt };
    const outcome = { ok: result.ok, startedAt: result.startedAt, finishedAt: result.finishedAt };
    if (result.ok) return { report: { ok: true, ...ran, output: result.output }, outcome };
    const { code = 'subtask_failed' } = result.error;
    const ownLimit = subagent.child.policy.timeoutMs;
    const outOfGrant = code === 'timeout' && grant.timeMs !== undefined && (ownLimit === undefined || grant.timeMs <= ownLimit);
    const message = outOfGrant ? `used up the ${grant.timeMs} ms it was granted: ${result.error.message}` : result.error.message;
    return { report: { ok: false, ...ran, error: { message, code } }, outcome };
  };

  for (const [w, ids] of plan.waves.entries()) {
    const wave = w + 1;
    const ready: Subtask[] = [];
    for (const subtask of ids.map((id) => byId.get(id)!)) {
      const failed = subtask.dependsOn.filter((dep) => !records.get(dep)!.report.ok);
      if (failed.length === 0) ready.push(subtask);
      else records.set(subtask.id, notRun(wave, 'dependency_failed', `skipped: it depends on ${failed.map((dep) => `"${dep}" (failed: ${errorCode(records.get(dep)!)})`).join(' and ')}`));
    }

    const decisions = negotiateWave(
      ready.map((s) => ({ subtaskId: s.id, capability: s.capability, tokens: s.tokens, timeMs: s.timeMs })),
      profiles,
      ledger,
    );
    const granted: { subtask: Subtask; grant: Extract<Decision, { ok: true }> }[] = [];
    decisions.forEach((decision, i) => {
      const subtask = ready[i]!;
      if (decision.ok) granted.push({ subtask, grant: decision });
      else records.set(subtask.id, notRun(wave, decision.code, decision.message));
    });

    const resources = scheduleResources(
      granted.map((g) => g.subtask),
      wave,
      config.conflictPolicy,
    );
    resourceConflicts.push(...resources.conflicts);
    const finished = new Map(granted.map((g) => [g.subtask.id, latch()]));
    await Promise.all(
      granted.map(async ({ subtask, grant }) => {
        const done = finished.get(subtask.id)!;
        try {
          for (const before of resources.waitsFor.get(subtask.id) ?? []) await finished.get(before)!.opened;
          records.set(subtask.id, await runSubtask(subtask, grant, wave));
        } finally {
          done.open();
        }
      }),
    );
  }

  const { resolved, conflicts } = resolveResults(
    subtasks.flatMap((s) => {
      const { report } = records.get(s.id)!;
      return report.ok && s.resultKey !== undefined ? [{ id: s.id, priority: s.priority, index: s.index, resultKey: s.resultKey, output: report.output }] : [];
    }),
    config.conflictPolicy,
  );
  const capacity = Math.min(
    config.budget.concurrency,
    subagents.reduce((sum, s) => sum + s.spec.budget.concurrency, 0),
  );
  const metrics = coordinatorMetrics({
    outcomes: subtasks.map((s) => records.get(s.id)!.outcome),
    waves: plan.waves.length,
    conflictsResolved: conflicts.length,
    resourceConflicts: resourceConflicts.length,
    tokensGranted: ledger.tokensGranted,
    timeGrantedMs: ledger.timeGrantedMs,
    capacity,
    startedAt,
    finishedAt: clock.now(),
  });
  execution.emit({ type: 'metrics', nodeId: metricsKey(execution), values: metrics });
  return {
    output: {
      results: Object.fromEntries(subtasks.map((s) => [s.id, records.get(s.id)!.report])),
      resolved,
      waves: plan.waves,
      conflicts,
      resourceConflicts,
      budgetLeft: ledger.remaining(),
      metrics,
    },
  };
}

/**
 * What a subtask's subagent is given: its `input` (default: the coordinator's input), with
 * the outputs of its dependencies under `dependencies` — merged into an object input,
 * else beside it as `{ input, dependencies }`.
 */
function subtaskInput(subtask: Subtask, coordinatorInput: unknown, records: ReadonlyMap<string, SubtaskRecord>): unknown {
  const input = subtask.input === undefined ? coordinatorInput : subtask.input;
  if (subtask.dependsOn.length === 0) return input;
  const dependencies = Object.fromEntries(
    subtask.dependsOn.map((dep) => {
      const { report } = records.get(dep)!;
      return [dep, report.ok ? report.output : null];
    }),
  );
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? { ...input, dependencies } : { input: input ?? null, dependencies };
}

function notRun(wave: number, code: NonNullable<SubtaskOutcome['notRun']>, message: string): SubtaskRecord {
  return { report: { ok: false, subagent: null, wave, error: { message, code } }, outcome: { ok: false, notRun: code } };
}

function errorCode({ report }: SubtaskRecord): string {
  return report.ok ? 'ok' : report.error.code;
}

/** A promise opened once: lets a subtask wait for the one ahead of it on a resource. */
function latch(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
