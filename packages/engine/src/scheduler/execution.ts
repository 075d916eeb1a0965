import type { FlowSettings, RunEventBody } from '@loom/shared';
import type { Cancellation } from '../context/cancellation.js';
import type { EngineContext } from '../context/context.js';
import type { ExpressionScope } from '../expressions/jsonata.js';
import type { NodeExecution } from '../nodes/node-kind.js';
import { TaskScope } from './tasks.js';

/** What every execution in a run shares. */
export interface RunScope {
  readonly runId: string;
  readonly context: EngineContext;
  readonly settings: FlowSettings;
  /** Appends an event to the run's log. */
  readonly emit: (body: RunEventBody) => void;
  /** Aborts when the run ends before its nodes do (may be created when first read). */
  readonly signal: AbortSignal;
  /** Cancels when the run ends: what its sleeps wait on, without making `signal`. */
  readonly cancellation: Cancellation;
  /** True once the run has ended. */
  ended(): boolean;
}

/**
 * One attempt of a node, or of a task a pattern handed out. A class with getters rather
 * than an object literal: a run creates one per attempt, and most attempts never read
 * most fields.
 */
export class Execution implements NodeExecution {
  private taskScope: TaskScope | undefined;

  constructor(
    readonly run: RunScope,
    readonly nodeId: string,
    /** Undefined for a node's attempt: `<nodeId>/<attempt>`, made when first read. */
    private ownTaskId: string | undefined,
    readonly attempt: number,
    readonly input: unknown,
    /** Start of the attempt: what expressions see as now. */
    readonly now: number,
    /** Undefined when the attempt stops with the run alone: the run's signal, read when needed. */
    private readonly ownSignal: AbortSignal | undefined,
    readonly depth: number,
  ) {}

  /** The run's `emit` (a function of its own, so it can be passed around). */
  get emit(): (body: RunEventBody) => void {
    return this.run.emit;
  }

  get taskId(): string {
    return (this.ownTaskId ??= `${this.nodeId}/${this.attempt}`);
  }
  get signal(): AbortSignal {
    return this.ownSignal ?? this.run.signal;
  }
  /** Sleeps on the run's clock until `ms` have passed or this execution is cancelled. */
  sleep(ms: number): Promise<void> {
    return this.run.context.clock.sleep(ms, this.ownSignal ?? this.run.cancellation);
  }

  get runId(): string {
    return this.run.runId;
  }
  get context(): EngineContext {
    return this.run.context;
  }
  get settings(): FlowSettings {
    return this.run.settings;
  }
  get scope(): ExpressionScope {
    return { runId: this.run.runId, nodeId: this.nodeId, now: this.now };
  }
  get tasks(): TaskScope {
    return (this.taskScope ??= new TaskScope(this));
  }

  /**
   * The execution of a task this execution handed out, one level deeper. A retried task's
   * later attempts get their own id (`<task>@<attempt>`), so the tasks a nested pattern
   * hands out in attempt 2 do not reuse the ids of attempt 1.
   */
  child(taskId: string, attempt: number, input: unknown, now: number, signal: AbortSignal): Execution {
    const id = attempt === 1 ? taskId : `${taskId}@${attempt}`;
    return new Execution(this.run, this.nodeId, id, attempt, input, now, signal, this.depth + 1);
  }
}
