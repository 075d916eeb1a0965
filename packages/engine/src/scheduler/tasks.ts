import type { RunError } from '@loom/shared';
import type { Clock } from '../context/context.js';
import { NodeError } from '../errors.js';
import type { NodeResult, PreparedChild } from '../nodes/node-kind.js';
import { runAttempts, type AttemptHost } from './attempts.js';
import type { Execution } from './execution.js';

/** Work a pattern hands out: a prepared child node run on an input, as a task of the pattern's execution. */
export interface TaskSpec {
  /** Unique among the tasks of one execution; the task id is `<execution task id>/<key>`. */
  key: string;
  /** Who does it: a worker, an instance, an agent role. Shown in the UI and the metrics. */
  assignee: string;
  child: PreparedChild;
  input: unknown;
  /** Tasks sharing a pool run at most `pool.limit` at a time. */
  pool?: TaskPool;
}

export type TaskResult =
  | { ok: true; taskId: string; output: unknown; ports: string[] | undefined; attempt: number; startedAt: number; finishedAt: number }
  | { ok: false; taskId: string; error: RunError; attempt: number; startedAt: number; finishedAt: number };

interface RunningTask {
  spec: TaskSpec;
  taskId: string;
}

/**
 * The tasks of one execution. Every task goes through the same attempt loop as a flow's
 * nodes (retries with backoff, timeouts, cancellation) and is logged as `task.assigned`,
 * then `task.succeeded` or `task.failed`, with `parentTaskId` so the UI can draw the tree.
 * A failed task is a result, not an exception: the pattern decides what it means.
 */
export class TaskScope implements AttemptHost<RunningTask, unknown> {
  constructor(private readonly parent: Execution) {}

  async run(spec: TaskSpec): Promise<TaskResult> {
    const { parent } = this;
    if (spec.pool) await spec.pool.acquire(parent.signal);
    try {
      const taskId = `${parent.taskId}/${spec.key}`;
      const startedAt = parent.context.clock.now();
      parent.emit({ type: 'task.assigned', taskId, nodeId: parent.nodeId, parentTaskId: parent.taskId, assignee: spec.assignee, input: spec.input });
      const result = await runAttempts(this, { spec, taskId }, spec.child.policy, taskId, parent.nodeId);
      if (result === null) throw parent.signal.reason ?? new NodeError('the run ended', 'cancelled', false);
      const finishedAt = parent.context.clock.now();
      if (!result.ok) {
        parent.emit({ type: 'task.failed', taskId, nodeId: parent.nodeId, error: result.error, attempt: result.attempt });
        return { ok: false, taskId, error: result.error, attempt: result.attempt, startedAt, finishedAt };
      }
      const { output, ports } = spec.child.prepared.produce ? { output: result.value, ports: undefined } : (result.value as NodeResult);
      parent.emit({ type: 'task.succeeded', taskId, nodeId: parent.nodeId, output, attempt: result.attempt });
      return { ok: true, taskId, output, ports, attempt: result.attempt, startedAt, finishedAt };
    } finally {
      spec.pool?.release();
    }
  }

  // AttemptHost
  get clock(): Clock {
    return this.parent.context.clock;
  }
  get signal(): AbortSignal {
    return this.parent.signal;
  }
  ended(): boolean {
    return this.parent.run.ended() || this.parent.signal.aborted;
  }
  attemptStarted(): number {
    return this.parent.context.clock.now();
  }
  attempt(task: RunningTask, attempt: number, now: number, signal: AbortSignal): unknown {
    const { prepared } = task.spec.child;
    const execution = this.parent.child(task.taskId, attempt, task.spec.input, now, signal);
    return prepared.produce ? prepared.produce(execution) : prepared.execute(execution);
  }
  attemptFailed(task: RunningTask, attempt: number, error: RunError, waitMs: number): void {
    this.parent.emit({ type: 'task.failed', taskId: task.taskId, nodeId: this.parent.nodeId, error, attempt, retryInMs: waitMs });
  }
}

/**
 * A counting semaphore with the load it carries: `busy` is what least-busy balancing and
 * utilization metrics read. Waiters are served in arrival order, so runs are reproducible.
 */
export class TaskPool {
  busy = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a task pool needs a limit of at least 1, got ${limit}`);
  }

  acquire(signal: AbortSignal): Promise<void> | void {
    if (this.busy < this.limit) {
      this.busy++;
      return;
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push(() => {
        if (signal.aborted) {
          this.release();
          reject(signal.reason);
          return;
        }
        // The releasing task hands its slot over: `busy` does not change.
        resolve();
      });
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.busy--;
  }
}
