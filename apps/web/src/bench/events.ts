import type { RunEvent } from '@loom/shared';

export interface SyntheticRunOptions {
  runId: string;
  /** Every node of the flow, as `run.started` lists them. */
  nodeIds: readonly string[];
  /** Share of the nodes that change status in each batch (0 < share ≤ 1). */
  share: number;
  /**
   * Also give every node execution a task (assigned when the node starts, succeeded when it
   * ends), as pattern nodes do: the run state then holds a growing number of tasks.
   */
  tasks: boolean;
}

/**
 * A run log that never ends, for the canvas benchmark: after `run.started`, each batch moves
 * a rotating window of `share × nodes` nodes on one step — not running → running,
 * running → succeeded (and later running again). Events are valid for `applyRunEvent` (contiguous seq, one run).
 */
export class SyntheticRun {
  private seq = 0;
  private cursor = 0;
  private readonly running = new Set<string>();
  private readonly executions = new Map<string, number>();
  private readonly perBatch: number;

  constructor(private readonly options: SyntheticRunOptions) {
    if (options.nodeIds.length === 0) throw new Error('SyntheticRun: nodeIds is empty');
    if (!(options.share > 0 && options.share <= 1)) throw new Error(`SyntheticRun: share must be in (0, 1], got ${options.share}`);
    this.perBatch = Math.max(1, Math.round(options.nodeIds.length * options.share));
  }

  /** Nodes changed by each `batch()`. */
  get changedPerBatch(): number {
    return this.perBatch;
  }

  started(ts: number): RunEvent {
    return { v: 1, runId: this.options.runId, seq: ++this.seq, ts, type: 'run.started', flowId: 'bench', flowHash: 'bench', nodeIds: [...this.options.nodeIds], input: {} };
  }

  /**
   * `count` tasks assigned and finished, spread over the nodes round robin (node states are
   * left as they are): what a long run of pattern nodes leaves in `state.tasks`.
   */
  finishedTasks(count: number, ts: number): RunEvent[] {
    const { nodeIds, runId } = this.options;
    const base = { v: 1 as const, runId, ts };
    const events: RunEvent[] = [];
    for (let i = 0; i < count; i++) {
      const nodeId = nodeIds[i % nodeIds.length]!;
      const taskId = `earlier#${i}`;
      events.push({ ...base, seq: ++this.seq, type: 'task.assigned', taskId, nodeId, assignee: 'worker' });
      events.push({ ...base, seq: ++this.seq, type: 'task.succeeded', taskId, nodeId, output: i });
    }
    return events;
  }

  /** The next socket batch, and the ids of the nodes it changes. */
  batch(ts: number): { events: RunEvent[]; changed: string[] } {
    const { nodeIds, runId, tasks } = this.options;
    const base = { v: 1 as const, runId, ts };
    const events: RunEvent[] = [];
    const changed: string[] = [];
    for (let i = 0; i < this.perBatch; i++) {
      const nodeId = nodeIds[this.cursor]!;
      this.cursor = (this.cursor + 1) % nodeIds.length;
      changed.push(nodeId);
      // Every execution is attempt 1 (as in a run without retries); tasks get one id per execution.
      const executions = this.executions.get(nodeId) ?? 0;
      if (this.running.has(nodeId)) {
        this.running.delete(nodeId);
        if (tasks) events.push({ ...base, seq: ++this.seq, type: 'task.succeeded', taskId: `${nodeId}#${executions}`, nodeId, output: executions });
        events.push({ ...base, seq: ++this.seq, type: 'node.status', nodeId, status: 'succeeded', attempt: 1, output: executions });
      } else {
        this.running.add(nodeId);
        this.executions.set(nodeId, executions + 1);
        events.push({ ...base, seq: ++this.seq, type: 'node.status', nodeId, status: 'running', attempt: 1 });
        if (tasks) events.push({ ...base, seq: ++this.seq, type: 'task.assigned', taskId: `${nodeId}#${executions + 1}`, nodeId, assignee: 'worker' });
      }
    }
    return { events, changed };
  }
}
