import type { NodeExecution } from '../../nodes/node-kind.js';

/**
 * Where a pattern's `metrics` and `supervision.entry` events are filed. A flow's own node files under its id; a
 * pattern nested as a task files under its task id, since every task of a node shares the
 * node's id and nested metrics would otherwise merge with the outer pattern's.
 */
export function metricsKey(execution: NodeExecution): string {
  return execution.depth === 0 ? execution.nodeId : execution.taskId;
}

/** Total length covered by the spans `[start, end]`, overlaps counted once. */
export function unionLength(spans: readonly (readonly [number, number])[]): number {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let end = -Infinity;
  for (const [start, finish] of sorted) {
    if (finish <= end) continue;
    covered += finish - Math.max(start, end);
    end = finish;
  }
  return covered;
}

/** `part / whole` for rates; nothing to do counts as all done (1). */
export function rate(part: number, whole: number): number {
  return whole === 0 ? 1 : roundMetric(part / whole);
}

/** Metrics carry four decimals: enough to read, stable to compare. */
export function roundMetric(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
