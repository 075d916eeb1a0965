import type { NodeOf } from '@loom/shared';
import { errorMessage, NodeError, toRunError } from '../../errors.js';
import type { NodeExecution, NodeKindDefinition, NodeResult, PreparedChild } from '../../nodes/node-kind.js';
import { INVALID_NODE } from '../../nodes/node-kind.js';
import { TaskPool } from '../../scheduler/tasks.js';
import { prepareAggregation, type PreparedAggregation, type SubtaskResult } from '../shared/aggregate.js';
import { prepareDecomposition, type PreparedDecomposition } from '../shared/decompose.js';
import { eligibleWorkers, leastLoaded, noWorkerMessage, readSubtask, type Subtask, type WorkerLoad } from './assign.js';
import { masterWorkerMetrics, type SubtaskOutcome, type WorkerUsage } from './metrics.js';
import { prepareValidation, type PreparedValidation } from './validate.js';
import { metricsKey } from '../shared/metrics.js';

interface PreparedWorker {
  id: string;
  capabilities: readonly string[];
  capacity: number;
  child: PreparedChild;
}

interface PreparedMasterWorker {
  decomposition: PreparedDecomposition;
  workers: PreparedWorker[];
  validation: PreparedValidation;
  aggregation: PreparedAggregation;
  concurrency: number;
  maxSubtasks: number;
}

/** One subtask in the node's output: what it was, who did it, how it ended. */
export type SubtaskReport = { index: number; id?: string | number; worker: string | null } & ({ ok: true; output: unknown } | { ok: false; error: { message: string; code?: string } });

/** A worker during one execution: its load for assignment, its slots, its usage for the metrics. */
type WorkerState = PreparedWorker & WorkerLoad & { pool: TaskPool; usage: WorkerUsage };

interface Finished {
  report: SubtaskReport;
  outcome: SubtaskOutcome;
}

/** Stands in for the node when its config has problems (they are reported, so the flow never runs). */

/**
 * Master-worker: the master decomposes its input into subtasks (a JSONata rule, or a
 * planner node run as the `decompose` task), hands each to a worker from the pool that has
 * the subtask's capability and carries the least load at that moment, runs them in
 * parallel (at most `concurrency` at once, at most `capacity` per worker), validates each
 * result (an expression and/or a judge node), and aggregates. A subtask that fails, is
 * rejected, or has no able worker is a failed result in the output and the metrics; the
 * node itself fails only when it cannot decompose or aggregate.
 *
 * Output: `{ result, subtasks: [{ index, id?, worker, ok, output | error }], metrics }`.
 */
export const masterWorkerKind: NodeKindDefinition<'master_worker'> = {
  kind: 'master_worker',
  prepare: (node, env) => {
    const { config } = node;
    const decomposition = prepareDecomposition(config.decompose, env, ['config', 'decompose']);
    const seen = new Map<string, number>();
    const workers = config.workers.map((worker, i): PreparedWorker | undefined => {
      const first = seen.get(worker.id);
      if (first !== undefined) env.issue(['config', 'workers', i, 'id'], `worker id "${worker.id}" is already used by worker ${first}; give each worker its own id`);
      seen.set(worker.id, i);
      const child = env.prepareChild(worker.node, ['config', 'workers', i, 'node']);
      return child && { id: worker.id, capabilities: worker.capabilities, capacity: worker.capacity, child };
    });
    const validation = prepareValidation(config.validate, env, ['config', 'validate']);
    const aggregation = prepareAggregation(config.aggregate, env, ['config', 'aggregate']);
    if (!workers.every((w): w is PreparedWorker => w !== undefined)) return INVALID_NODE;

    const pattern: PreparedMasterWorker = { decomposition, workers, validation, aggregation, concurrency: config.concurrency, maxSubtasks: config.maxSubtasks };
    // A planner node is taken as `io`: it is an agent, usually, and not visible from here.
    const io = config.decompose.by === 'node' || [...workers.map((w) => w.child), validation.judge].some((c) => c?.prepared.effect === 'io');
    return { effect: io ? 'io' : 'pure', inputMode: 'value', execute: (execution) => runMasterWorker(execution, node, pattern) };
  },
};

async function runMasterWorker(execution: NodeExecution, node: NodeOf<'master_worker'>, pattern: PreparedMasterWorker): Promise<NodeResult> {
  const { clock } = execution.context;
  const started = clock.now();
  const items = await pattern.decomposition.decompose(execution.input, execution, pattern.maxSubtasks);

  const slots = new TaskPool(pattern.concurrency);
  const workers: WorkerState[] = pattern.workers.map((w) => ({
    ...w,
    assigned: 0,
    pool: new TaskPool(w.capacity),
    usage: { id: w.id, capacity: w.capacity, tasks: 0, failed: 0, busyMs: 0, intervals: [] },
  }));

  const finished = await Promise.all(
    items.map(async (item, index): Promise<Finished> => {
      const read = readSubtask(item, index);
      if (!read.ok) return unassigned(index, undefined, 'invalid_subtask', read.message);
      const { subtask } = read;
      const able = eligibleWorkers(workers, subtask.capability);
      if (able.length === 0) return unassigned(index, subtask.id, 'no_worker', noWorkerMessage(subtask.capability!, workers));
      await slots.acquire(execution.signal);
      try {
        // Chosen only once a slot is free, so the load it compares is the load right now.
        return await runSubtask(execution, pattern.validation, subtask, leastLoaded(able)!);
      } finally {
        slots.release();
      }
    }),
  );

  const results = finished.map(({ report }) => toSubtaskResult(report));
  const emitMetrics = () => {
    const metrics = masterWorkerMetrics(
      finished.map((f) => f.outcome),
      workers.map((w) => w.usage),
      clock.now() - started,
    );
    // A nested master-worker runs under its parent's node id; its task id keeps its metrics apart.
    execution.emit({ type: 'metrics', nodeId: metricsKey(execution), values: metrics });
    return metrics;
  };
  let result: unknown;
  try {
    result = await pattern.aggregation.aggregate(results, execution.input, execution.scope);
  } catch (error) {
    emitMetrics();
    const { code, retryable } = toRunError(error);
    throw new NodeError(`master-worker "${node.id}" could not aggregate (${pattern.aggregation.strategy}): ${errorMessage(error)}`, code ?? 'aggregate_failed', retryable ?? false);
  }
  const metrics = emitMetrics();
  return { output: { result, subtasks: finished.map((f) => f.report), metrics } };
}

/** Runs one subtask on `worker` (waiting for one of its slots), then validates what it returned. */
async function runSubtask(execution: NodeExecution, validation: PreparedValidation, subtask: Subtask, worker: WorkerState): Promise<Finished> {
  const base = { index: subtask.index, ...(subtask.id !== undefined ? { id: subtask.id } : {}), worker: worker.id };
  worker.assigned++;
  const task = await execution.tasks
    .run({ key: `subtask-${subtask.index}`, assignee: worker.id, child: worker.child, input: subtask.input, pool: worker.pool })
    .finally(() => worker.assigned--);
  const { usage } = worker;
  usage.tasks++;
  usage.busyMs += task.finishedAt - task.startedAt;
  usage.intervals.push([task.startedAt, task.finishedAt]);
  if (!task.ok) {
    usage.failed++;
    const error = { message: task.error.message, ...(task.error.code !== undefined ? { code: task.error.code } : {}) };
    return { report: { ...base, ok: false, error }, outcome: { status: 'failed', attempts: task.attempt } };
  }
  const verdict = await validation.check(subtask, task.output, execution);
  if (!verdict.valid) {
    return { report: { ...base, ok: false, error: { message: verdict.message, code: verdict.code } }, outcome: { status: 'invalid', attempts: task.attempt } };
  }
  return { report: { ...base, ok: true, output: task.output }, outcome: { status: 'succeeded', attempts: task.attempt } };
}

/** What the aggregation sees; a subtask no worker took is assigned to "(none)", which no worker id can be. */
function toSubtaskResult(report: SubtaskReport): SubtaskResult {
  const assignee = report.worker ?? '(none)';
  return report.ok ? { index: report.index, assignee, ok: true, output: report.output } : { index: report.index, assignee, ok: false, error: report.error };
}

function unassigned(index: number, id: string | number | undefined, code: string, message: string): Finished {
  return {
    report: { index, ...(id !== undefined ? { id } : {}), worker: null, ok: false, error: { message, code } },
    outcome: { status: 'unassigned', attempts: 0 },
  };
}
