import { describe, expect, it } from 'vitest';
import { coordinatorMetrics } from './metrics.js';
import { unionLength } from '../shared/metrics.js';

describe('coordinatorMetrics', () => {
  it('counts outcomes, rates, coordination time outside tasks and utilization', () => {
    const metrics = coordinatorMetrics({
      outcomes: [
        { ok: true, startedAt: 10, finishedAt: 110 },
        { ok: true, startedAt: 10, finishedAt: 60 },
        { ok: false, startedAt: 120, finishedAt: 170 },
        { ok: false, notRun: 'dependency_failed' },
        { ok: false, notRun: 'budget_denied' },
      ],
      waves: 2,
      conflictsResolved: 1,
      resourceConflicts: 2,
      tokensGranted: 700,
      timeGrantedMs: 0,
      capacity: 2,
      startedAt: 0,
      finishedAt: 200,
    });
    expect(metrics).toEqual({
      subtasksTotal: 5,
      subtasksSucceeded: 2,
      subtasksFailed: 3,
      subtasksRun: 3,
      dependencySkipped: 1,
      noSubagent: 0,
      budgetDenied: 1,
      waves: 2,
      conflictsResolved: 1,
      resourceConflicts: 2,
      tokensGranted: 700,
      timeGrantedMs: 0,
      taskCompletionRate: 0.6,
      successRate: 0.4,
      // 200 ms wall, tasks covered 10..110 and 120..170 (150 ms): 50 ms over 5 subtasks.
      averageCoordinationMs: 10,
      // 200 busy ms over 2 slots × 200 ms.
      utilization: 0.5,
      wallMs: 200,
    });
  });

  it('gives an empty plan full rates and no utilization', () => {
    const metrics = coordinatorMetrics({ outcomes: [], waves: 0, conflictsResolved: 0, resourceConflicts: 0, tokensGranted: 0, timeGrantedMs: 0, capacity: 4, startedAt: 5, finishedAt: 5 });
    expect(metrics).toMatchObject({ subtasksTotal: 0, taskCompletionRate: 1, successRate: 1, utilization: 0, averageCoordinationMs: 0 });
  });
});

describe('unionLength', () => {
  it('counts overlapping spans once', () => {
    expect(unionLength([[0, 10], [5, 15], [20, 30], [22, 25]])).toBe(25);
    expect(unionLength([])).toBe(0);
  });
});
