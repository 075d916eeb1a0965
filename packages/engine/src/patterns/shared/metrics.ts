import type { NodeExecution } from '../../nodes/node-kind.js';

/**
 * Where a pattern's `metrics` and `supervision.entry` events are filed. A flow's own node files under its id; a
 * pattern nested as a task files under its task id, since every task of a node shares the
 * node's id and nested metrics would otherwise merge with the outer pattern's.
 */
export function metricsKey(execution: NodeExecution): string {
  return execution.depth === 0 ? execution.nodeId : execution.taskId;
}
