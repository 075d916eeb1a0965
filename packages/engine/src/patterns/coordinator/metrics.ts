import { rate, roundMetric, unionLength } from '../shared/metrics.js';
/** One subtask as the metrics see it. */
export interface SubtaskOutcome {
  ok: boolean;
  /** Why a subtask never ran: its dependency failed, no subagent, or no budget. */
  notRun?: 'dependency_failed' | 'no_subagent' | 'budget_denied';
  /** When its task ran (absent when it never ran). */
  startedAt?: number;
  finishedAt?: number;
}

export interface CoordinatorTally {
  outcomes: readonly SubtaskOutcome[];
  waves: number;
  conflictsResolved: number;
  resourceConflicts: number;
  tokensGranted: number;
  timeGrantedMs: number;
  /** Subtasks that may run at once: the smaller of the coordinator's concurrency and the subagents' together. */
  capacity: number;
  startedAt: number;
  finishedAt: number;
}

/**
 * The seed's orchestration metrics for one coordinator run. Rates of an empty plan are 1
 * (nothing was left undone). Coordination time is the wall time during which no subtask
 * ran (decomposing, negotiating, waiting between waves), per subtask.
 */
export function coordinatorMetrics(t: CoordinatorTally): Record<string, number> {
  const total = t.outcomes.length;
  const ran = t.outcomes.filter((o) => o.notRun === undefined);
  const succeeded = ran.filter((o) => o.ok).length;
  const wallMs = t.finishedAt - t.startedAt;
  const spans = ran.map((o) => [o.startedAt!, o.finishedAt!] as const);
  const busyMs = spans.reduce((sum, [start, end]) => sum + (end - start), 0);
  return {
    subtasksTotal: total,
    subtasksSucceeded: succeeded,
    subtasksFailed: total - succeeded,
    subtasksRun: ran.length,
    dependencySkipped: t.outcomes.filter((o) => o.notRun === 'dependency_failed').length,
    noSubagent: t.outcomes.filter((o) => o.notRun === 'no_subagent').length,
    budgetDenied: t.outcomes.filter((o) => o.notRun === 'budget_denied').length,
    waves: t.waves,
    conflictsResolved: t.conflictsResolved,
    resourceConflicts: t.resourceConflicts,
    tokensGranted: t.tokensGranted,
    timeGrantedMs: t.timeGrantedMs,
    taskCompletionRate: rate(ran.length, total),
    successRate: rate(succeeded, total),
    averageCoordinationMs: total === 0 ? wallMs : roundMetric(Math.max(0, wallMs - unionLength(spans)) / total),
    utilization: wallMs <= 0 ? 0 : roundMetric(busyMs / (t.capacity * wallMs)),
    wallMs,
  };
}
