import type { FlowSettings, RunEventBody } from '@loom/shared';
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
  /** True once the run has ended. */
  ended(): boolean;
}

/**
 * One attempt of a node, or of a task a pattern handed out. A class with getters rather
 * than an object literal: a run creates one per attempt, and most attempts never read
 * most fields.
 */
export class Execution implements NodeExecution {
  readonly emit: (body: RunEventBody) => void;
  private taskScope: TaskScope | undefined;

  constructor(
    readonly run: RunScope,
    readonly nodeId: string,
    readonly taskId: string,
    readonly attempt: number,
    readonly input: unknown,
    /** Start of the attempt: what expressions see as now. */
    readonly now: number,
    readonly signal: AbortSignal,
    readonly depth: number,
  ) {
    this.emit = run.emit;
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
