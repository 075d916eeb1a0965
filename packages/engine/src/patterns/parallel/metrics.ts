import type { Gathered } from './gather.js';
import { rate, roundMetric, unionLength } from '../shared/metrics.js';

export interface MetricsInput {
  gathered: Gathered;
  instances: readonly { id: string; capacity: number }[];
  /** Clock times of the pattern's start and of the end of the gather. */
  startedAt: number;
  finishedAt: number;
  quorum: number | undefined;
  waitTimeoutMs: number | undefined;
}

/**
 * The parallelism figures of one execution. `sequentialMs` is what the tasks would have
 * taken one after another (the sum of their own durations), so `speedUp` is
 * sequentialMs / wallMs and `efficiency` is speedUp per unit of capacity: 1 means every
 * slot of every instance was busy for the whole wall time. `utilization` is the same
 * ratio read as busy time / (capacity × wall time).
 */
export function parallelMetrics({ gathered, instances, startedAt, finishedAt, quorum, waitTimeoutMs }: MetricsInput): Record<string, number> {
  const { items } = gathered;
  const wallMs = finishedAt - startedAt;
  const tasks = items.flatMap((i) => (i.task && i.task.attempt > 0 ? [i.task] : []));
  const durations = tasks.map((t) => t.finishedAt - t.startedAt);
  const sequentialMs = sum(durations);
  const totalCapacity = sum(instances.map((i) => i.capacity));
  const speedUp = wallMs > 0 ? sequentialMs / wallMs : 0;
  const succeeded = items.filter((i) => i.ok).length;
  const stopped = items.filter((i) => i.stopped).length;
  const failed = items.length - succeeded - stopped;
  const recovered = tasks.filter((t) => t.ok && t.attempt > 1);

  const values: Record<string, number> = {
    itemsTotal: items.length,
    itemsSucceeded: succeeded,
    itemsFailed: failed,
    /** Stopped by the synchroniser (quorum reached, or the wait timed out) before they finished. */
    itemsCancelled: stopped,
    tasksTotal: tasks.length,
    tasksSucceeded: tasks.filter((t) => t.ok).length,
    tasksFailed: tasks.filter((t) => !t.ok).length,
    retries: sum(tasks.map((t) => t.attempt - 1)),
    taskCompletionRate: rate(succeeded + failed, items.length),
    successRate: rate(succeeded, items.length),
    wallMs,
    sequentialMs,
    speedUp: roundMetric(speedUp),
    efficiency: roundMetric(totalCapacity > 0 ? speedUp / totalCapacity : 0),
    totalCapacity,
    peakRunning: peakOverlap(tasks),
    utilization: roundMetric(wallMs > 0 && totalCapacity > 0 ? sequentialMs / (totalCapacity * wallMs) : 0),
    /** Time with no task running (dispatching, gathering), per task. */
    averageCoordinationMs: roundMetric(tasks.length > 0 ? Math.max(0, wallMs - unionLength(tasks.map((t) => [t.startedAt, t.finishedAt] as const))) / tasks.length : 0),
    /** Items that failed, were retried and succeeded: mean time from their start to their recovery. */
    errorRecoveryMs: roundMetric(recovered.length > 0 ? sum(recovered.map((t) => t.finishedAt - t.startedAt)) / recovered.length : 0),
  };
  if (quorum !== undefined) values.quorumReached = gathered.stoppedBy === 'quorum' || succeeded >= quorum ? 1 : 0;
  if (waitTimeoutMs !== undefined) values.waitTimedOut = gathered.stoppedBy === 'timeout' ? 1 : 0;
  instances.forEach((instance, index) => {
    const mine = items.filter((i) => i.instance === index);
    values[`instance.${instance.id}.items`] = mine.length;
    values[`instance.${instance.id}.succeeded`] = mine.filter((i) => i.ok).length;
    values[`instance.${instance.id}.busyMs`] = sum(mine.map((i) => (i.task ? i.task.finishedAt - i.task.startedAt : 0)));
  });
  return values;
}

type Interval = { startedAt: number; finishedAt: number };

/** Most tasks running at the same moment (a task ending at t and one starting at t do not overlap). */
function peakOverlap(tasks: readonly Interval[]): number {
  const edges = tasks.flatMap((t) => [
    { at: t.startedAt, delta: 1 },
    { at: t.finishedAt, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let peak = 0;
  for (const edge of edges) {
    current += edge.delta;
    peak = Math.max(peak, current);
  }
  return peak;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

