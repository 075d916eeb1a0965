import { setMaxListeners } from 'node:events';
import type { RunError } from '@loom/shared';
import type { Clock } from '../context/context.js';
import { NodeError, toRunError } from '../errors.js';
import type { NodeResult, PreparedChild } from '../nodes/node-kind.js';
import { runAttempts, type AttemptHost, type AttemptPolicy } from './attempts.js';
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
  /** Time limit per attempt set by the pattern (e.g. a granted time budget); the child's own `timeoutMs` still applies, the smaller wins. */
  timeoutMs?: number;
  /**
   * Cancels this task alone (the run's signal cancels them all), e.g. once a pattern has
   * enough results. The task then resolves as a failed result carrying the signal's
   * reason (`code: 'cancelled'` unless the reason has its own), logged as `task.failed`
   * if it had started, without waiting for the child to wind down.
   */
  signal?: AbortSignal;
  /** A coordinator's subtask: its dependency wave (1-based) and the plan's number of waves, logged on `task.assigned`. */
  wave?: { index: number; of: number };
}

export type TaskResult =
  | { ok: true; taskId: string; output: unknown; ports: string[] | undefined; attempt: number; startedAt: number; finishedAt: number }
  | { ok: false; taskId: string; error: RunError; attempt: number; startedAt: number; finishedAt: number };

interface RunningTask {
  spec: TaskSpec;
  taskId: string;
  /** The attempt under way (0 before the first). */
  attempt: number;
}

/**
 * The tasks of one execution. Every task goes through the same attempt loop as a flow's
 * nodes (retries with backoff, timeouts, cancellation) and is logged as `task.assigned`,
 * then `task.succeeded` or `task.failed`, with `parentTaskId` so the UI can draw the tree.
 * A failed task is a result, not an exception: the pattern decides what it means.
 */
export class TaskScope implements AttemptHost<RunningTask, unknown> {
  constructor(
    private readonly parent: Execution,
    /** What the attempts listen to: the run's signal, or a task's own signal linked to it. */
    readonly signal: AbortSignal = parent.signal,
  ) {}

  async run(spec: TaskSpec): Promise<TaskResult> {
    if (!spec.signal) return this.runTask(spec, this);
    const link = linkSignals(this.parent.signal, spec.signal);
    try {
      return await this.runTask(spec, new TaskScope(this.parent, link.signal));
    } finally {
      link.dispose();
    }
  }

  private async runTask(spec: TaskSpec, host: TaskScope): Promise<TaskResult> {
    const { parent } = this;
    const taskId = `${parent.taskId}/${spec.key}`;
    if (spec.pool) {
      try {
        await spec.pool.acquire(host.signal);
      } catch (error) {
        // Cancelled while waiting for a slot: it never started, so nothing is logged.
        const now = parent.context.clock.now();
        if (this.cancelledAlone(spec)) return { ok: false, taskId, error: this.cancelledError(spec), attempt: 0, startedAt: now, finishedAt: now };
        throw error;
      }
    }
    try {
      const startedAt = parent.context.clock.now();
      parent.emit({ type: 'task.assigned', taskId, nodeId: parent.nodeId, parentTaskId: parent.taskId, assignee: spec.assignee, input: spec.input, ...(spec.wave ? { wave: spec.wave.index, waves: spec.wave.of } : {}) });
      const running: RunningTask = { spec, taskId, attempt: 0 };
      const result = await runAttempts(host, running, policyOf(spec), taskId, parent.nodeId);
      const finishedAt = parent.context.clock.now();
      if (result === null) {
        if (!this.cancelledAlone(spec)) {
          const reason: unknown = parent.signal.reason ?? new NodeError('the run ended', 'cancelled', false);
          // The parent's attempt ended (timed out, cancelled): close the task in the log so it
          // does not read as running forever. When the whole run ended, the run says so.
          if (!parent.run.ended()) {
            const error = { ...toRunError(reason, parent.nodeId), retryable: false };
            parent.emit({ type: 'task.failed', taskId, nodeId: parent.nodeId, error: { ...error, code: error.code ?? 'cancelled' }, attempt: running.attempt });
          }
          throw reason;
        }
        const error = this.cancelledError(spec);
        parent.emit({ type: 'task.failed', taskId, nodeId: parent.nodeId, error, attempt: running.attempt });
        return { ok: false, taskId, error, attempt: running.attempt, startedAt, finishedAt };
      }
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

  /** The task's own signal stopped it, while the run goes on. */
  private cancelledAlone(spec: TaskSpec): boolean {
    return spec.signal?.aborted === true && !this.parent.signal.aborted && !this.parent.run.ended();
  }

  private cancelledError(spec: TaskSpec): RunError {
    const error = toRunError(spec.signal?.reason ?? 'cancelled', this.parent.nodeId);
    return { ...error, code: error.code ?? 'cancelled', retryable: false };
  }

  // AttemptHost
  get clock(): Clock {
    return this.parent.context.clock;
  }
  get cancellation(): AbortSignal {
    return this.signal;
  }
  ended(): boolean {
    return this.parent.run.ended() || this.signal.aborted;
  }
  attemptStarted(task: RunningTask, attempt: number): number {
    task.attempt = attempt;
    return this.parent.context.clock.now();
  }
  attempt(task: RunningTask, attempt: number, now: number, attemptSignal: AbortSignal | undefined): unknown {
    const { prepared } = task.spec.child;
    const signal = attemptSignal ?? this.signal;
    const execution = this.parent.child(task.taskId, attempt, task.spec.input, now, signal);
    const value = prepared.produce ? prepared.produce(execution) : prepared.execute(execution);
    // A task cancelled on its own ends now, even if its child is slow to notice the signal.
    return task.spec.signal ? raceAbort(value, signal) : value;
  }
  attemptFailed(task: RunningTask, attempt: number, error: RunError, waitMs: number): void {
    this.parent.emit({ type: 'task.failed', taskId: task.taskId, nodeId: this.parent.nodeId, error, attempt, retryInMs: waitMs });
  }
}

function policyOf({ child: { policy }, timeoutMs }: TaskSpec): AttemptPolicy {
  if (timeoutMs === undefined) return policy;
  return { ...policy, timeoutMs: Math.min(timeoutMs, policy.timeoutMs ?? timeoutMs) };
}

/** A signal that aborts when either does (with that one's reason); `dispose` stops listening. */
function linkSignals(run: AbortSignal, own: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onRun = () => controller.abort(run.reason);
  const onOwn = () => controller.abort(own.reason);
  if (run.aborted) onRun();
  else if (own.aborted) onOwn();
  else {
    // Many tasks share both signals; more than 10 listeners is normal, not a leak.
    setMaxListeners(0, run, own);
    run.addEventListener('abort', onRun, { once: true });
    own.addEventListener('abort', onOwn, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      run.removeEventListener('abort', onRun);
      own.removeEventListener('abort', onOwn);
    },
  };
}

/** Settles with `value`, or rejects with the signal's reason as soon as it aborts. */
function raceAbort(value: unknown, signal: AbortSignal): unknown {
  if (!(value instanceof Promise)) return value;
  if (signal.aborted) return Promise.reject(signal.reason as unknown);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as unknown);
    signal.addEventListener('abort', onAbort, { once: true });
    value.then(
      (v: unknown) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
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
    if (signal.aborted) return Promise.reject(signal.reason as unknown);
    if (this.busy < this.limit) {
      this.busy++;
      return;
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        // Leave the queue at once: a cancelled task must not wait for a slot to free.
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal.reason);
      };
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        // The releasing task hands its slot over: `busy` does not change.
        resolve();
      };
      setMaxListeners(0, signal);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.busy--;
  }
}
