import { unionLength } from '../shared/metrics.js';
/** How one subtask ended, as the metrics count it. */
export interface SubtaskOutcome {
  /** `unassigned`: no worker could take it (or it was malformed); `failed`: the worker failed; `invalid`: validation rejected it. */
  status: 'succeeded' | 'failed' | 'invalid' | 'unassigned';
  /** Attempts the worker's task took (0 when it never ran). */
  attempts: number;
}

/** What one worker did, for its per-worker metrics. */
export interface WorkerUsage {
  id: string;
  capacity: number;
  /** Subtasks it ran, however they ended. */
  tasks: number;
  failed: number;
  /** Time its subtasks ran, summed (from each task's start to its end, queueing left out). */
  busyMs: number;
  /** `[start, end]` of each of its subtasks. */
  intervals: [number, number][];
}

/**
 * The master-worker's metrics (all numbers, for the `metrics` event and the output):
 * completion counts any subtask a worker finished, success only those that also passed
 * validation; coordination is the pattern's time with no worker running (decomposing,
 * judging, aggregating, waiting), spread over the subtasks; utilization is worker busy time
 * over the time the declared capacity was available.
 */
export function masterWorkerMetrics(outcomes: readonly SubtaskOutcome[], workers: readonly WorkerUsage[], wallMs: number): Record<string, number> {
  const total = outcomes.length;
  const count = (status: SubtaskOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  const succeeded = count('succeeded');
  const completed = succeeded + count('invalid');
  const busyMs = workers.reduce((sum, w) => sum + w.busyMs, 0);
  const capacity = workers.reduce((sum, w) => sum + w.capacity, 0);
  const workingMs = unionLength(workers.flatMap((w) => w.intervals));
  const values: Record<string, number> = {
    subtasksTotal: total,
    subtasksSucceeded: succeeded,
    subtasksFailed: total - succeeded,
    subtasksInvalid: count('invalid'),
    subtasksUnassigned: count('unassigned'),
    retries: outcomes.reduce((sum, o) => sum + Math.max(0, o.attempts - 1), 0),
    // Nothing to do is nothing left undone.
    taskCompletionRate: total === 0 ? 1 : completed / total,
    successRate: total === 0 ? 1 : succeeded / total,
    averageCoordinationMs: total === 0 ? 0 : Math.max(0, wallMs - workingMs) / total,
    utilization: wallMs === 0 || capacity === 0 ? 0 : busyMs / (capacity * wallMs),
    wallMs,
  };
  for (const w of workers) {
    values[`worker.${w.id}.tasks`] = w.tasks;
    values[`worker.${w.id}.failed`] = w.failed;
    values[`worker.${w.id}.busyMs`] = w.busyMs;
    values[`worker.${w.id}.averageMs`] = w.tasks === 0 ? 0 : w.busyMs / w.tasks;
  }
  return values;
}
