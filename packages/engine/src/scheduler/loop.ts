import { setMaxListeners } from 'node:events';
import type { FlowIssue, FlowSettings, NodeStatus, RunError, RunEvent, RunEventBody, RunEventOf, RunStatus } from '@loom/shared';
import { Cancellation } from '../context/cancellation.js';
import type { Clock, EngineContext } from '../context/context.js';
import type { CompiledFlow, CompiledNode } from '../graph/compile.js';
import { checkRunInput } from '../graph/input.js';
import type { NodeExecution, NodeResult } from '../nodes/node-kind.js';
import { followAttempts, type AttemptFollower, type AttemptsResult } from './attempts.js';
import { Execution, type RunScope } from './execution.js';
import { applyOutcome, collectInput, createSchedulerState, hasReady, NodePhase, takeReady, type Outcome, type SchedulerState } from './plan.js';

export interface RunOptions {
  input?: unknown;
  /** Overrides the id from `context.ids`. */
  runId?: string;
  parentRunId?: string;
  /**
   * Outcomes recorded by the parent run, by node id: these nodes are not executed again,
   * their recorded output flows on (logged with `reused: true`). How a server resumes an
   * interrupted run or forks a run from a node.
   */
  reuse?: ReadonlyMap<string, ReusedOutcome>;
}

/** A node's succeeded outcome as the parent run's log recorded it. */
export interface ReusedOutcome {
  output: unknown;
  ports?: string[];
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  output?: unknown;
  error?: RunError;
}

/** The run input does not match the flow's input fields; nothing was run or logged. */
export class RunInputError extends Error {
  constructor(readonly issues: FlowIssue[]) {
    super(issues.map((i) => `input node "${i.nodeId}": ${i.message}`).join('; '));
    this.name = 'RunInputError';
  }
}

/**
 * Runs a compiled flow: the I/O half of the scheduler. It starts ready nodes up to
 * the flow's concurrency limit, retries failed attempts with backoff, enforces
 * timeouts, cancels on `context.signal`, and writes every step to `context.log`.
 * Resolves when the run has finished, whatever its status; rejects only if the event
 * sink itself fails.
 */
export function runFlow(compiled: CompiledFlow, context: EngineContext, options: RunOptions = {}): Promise<RunResult> {
  const input = options.input ?? {};
  const issues = checkRunInput(compiled, input);
  if (issues.length > 0) return Promise.reject(new RunInputError(issues));
  return new FlowRun(compiled, context, input, options).start();
}

/**
 * Runs a flow inside a node of another run (a sub-flow): the same log and clock, its
 * nodes' events under ids prefixed with the parent task's id (`<task>/<node>`, so the UI
 * can draw them as a group), cancelled with the parent, and no run.started/run.finished of
 * its own. Resolves with its outcome; the caller decides what a failure means.
 */
export function runEmbeddedFlow(compiled: CompiledFlow, parent: NodeExecution, input: unknown): Promise<RunResult> {
  const issues = checkRunInput(compiled, input);
  if (issues.length > 0) return Promise.reject(new RunInputError(issues));
  return new FlowRun(compiled, parent.context, input, { runId: parent.runId }, parent).start();
}

class FlowRun implements RunScope, AttemptFollower<CompiledNode, unknown> {
  readonly runId: string;
  readonly settings: FlowSettings;
  private readonly state: SchedulerState;
  /** Each running node's input, for its retries. */
  private readonly pendingInput: unknown[] = [];
  /**
   * Ends the run's nodes and their waits. Its AbortSignal is made only when a node asks for
   * `signal`: a run that succeeds without its nodes looking at one never needs it.
   */
  readonly cancellation = new Cancellation();
  private readonly capacity: number;
  private seq = 0;
  private running = 0;
  private finished = false;
  private timeoutArmed = false;
  private onCancel: (() => void) | undefined;
  private resolve!: (result: RunResult) => void;
  private reject!: (error: unknown) => void;
  private emitter: ((body: RunEventBody) => void) | undefined;
  /** Ids used in events: the flow's own, or prefixed by the parent task when embedded. */
  private readonly nodeIds: readonly string[];
  /** Pattern nesting depth of this flow's nodes. */
  private readonly depth: number;

  constructor(
    private readonly compiled: CompiledFlow,
    readonly context: EngineContext,
    private readonly input: unknown,
    private readonly options: RunOptions,
    /** Set when this flow runs inside a node of another run. */
    private readonly parent?: NodeExecution,
  ) {
    this.runId = options.runId ?? context.ids.runId(compiled.hash, input);
    this.state = createSchedulerState(compiled);
    this.capacity = compiled.flow.settings.concurrency;
    this.settings = compiled.flow.settings;
    this.nodeIds = parent ? compiled.nodeIds.map((id) => `${parent.taskId}/${id}`) : compiled.nodeIds;
    this.depth = parent ? parent.depth + 1 : 0;
  }

  start(): Promise<RunResult> {
    const done = new Promise<RunResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    try {
      if (this.parent) return this.startEmbedded(done);
      const started: RunEventOf<'run.started'> = {
        v: 1,
        runId: this.runId,
        seq: ++this.seq,
        ts: this.context.clock.now(),
        type: 'run.started',
        flowId: this.compiled.flow.id,
        flowHash: this.compiled.hash,
        nodeIds: this.compiled.nodeIds,
        input: this.input,
      };
      if (this.options.parentRunId !== undefined) started.parentRunId = this.options.parentRunId;
      this.append(started);
      const { signal } = this.context;
      if (signal?.aborted) {
        this.finish('cancelled', cancelledError());
        return done;
      }
      if (signal) {
        // Removed when the run ends, so a signal shared by many runs does not keep them alive.
        this.onCancel = () => this.safely(() => this.finish('cancelled', cancelledError()));
        signal.addEventListener('abort', this.onCancel, { once: true });
      }
      this.armTimeout();
      this.pump();
    } catch (error) {
      this.fail(error);
    }
    return done;
  }

  private startEmbedded(done: Promise<RunResult>): Promise<RunResult> {
    const signal = this.parent!.signal;
    if (signal.aborted) {
      this.finish('cancelled', cancelledError());
      return done;
    }
    this.onCancel = () => this.safely(() => this.finish('cancelled', cancelledError()));
    // Many sub-flows may run inside one execution (a pattern's workers); that is not a leak.
    setMaxListeners(0, signal);
    signal.addEventListener('abort', this.onCancel, { once: true });
    this.armTimeout();
    this.pump();
    return done;
  }

  /** The flow's own `settings.timeoutMs`, for the whole run. */
  private armTimeout(): void {
    const { timeoutMs } = this.compiled.flow.settings;
    if (timeoutMs === undefined) return;
    this.timeoutArmed = true;
    this.context.clock.sleep(timeoutMs, this.cancellation).then(
      () => this.safely(() => this.finish('failed', { message: `run timed out after ${timeoutMs} ms (settings.timeoutMs)`, code: 'run_timeout' })),
      () => undefined,
    );
  }

  /** The signal that cancels this run: the context's, or the parent task's when embedded. */
  private get cancelSignal(): AbortSignal | undefined {
    return this.parent ? this.parent.signal : this.context.signal;
  }

  /** Starts ready nodes while there is capacity; finishes the run when nothing is left. */
  private pump(): void {
    if (this.finished) return;
    if (this.running < this.capacity && hasReady(this.state)) {
      for (const index of takeReady(this.state, this.capacity - this.running)) {
        this.running++;
        this.runNode(this.compiled.nodes[index]!, collectInput(this.compiled, this.state, index, this.input));
      }
    }
    if (this.running === 0 && !hasReady(this.state)) this.finish('succeeded');
  }

  /** One node, from its first attempt to its folded outcome (`settled`). */
  private runNode(node: CompiledNode, input: unknown): void {
    const reused = this.parent ? undefined : this.options.reuse?.get(node.id);
    if (reused) {
      void this.reuseNode(node, reused);
      return;
    }
    this.pendingInput[node.index] = input;
    const id = this.nodeIds[node.index]!;
    followAttempts(this, node, node, id, id);
  }

  /** A node's attempts are over: fold the outcome in. A failing event sink ends the run. */
  settled(node: CompiledNode, result: AttemptsResult<unknown> | null): void {
    try {
      this.pendingInput[node.index] = undefined;
      this.running--;
      if (result === null || this.finished) return;
      if (!result.ok) return this.complete(node, { kind: 'failed', error: result.error });
      if (node.prepared.produce) return this.complete(node, { kind: 'succeeded', output: result.value, ports: undefined });
      const { output, ports } = result.value as NodeResult;
      this.complete(node, { kind: 'succeeded', output, ports });
    } catch (error) {
      this.fail(error);
    }
  }

  /** A node whose outcome the parent run recorded: logged as reused, not run again. */
  private async reuseNode(node: CompiledNode, reused: ReusedOutcome): Promise<void> {
    try {
      // After the caller's loop has started every node it took, as a real node would.
      await undefined;
      this.running--;
      if (this.finished) return;
      this.complete(node, { kind: 'succeeded', output: reused.output, ports: reused.ports }, true);
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Appends an event to the log, for nodes: made when first asked for, as most nodes log
   * nothing of their own. (Not a class field holding an arrow function: tsx/esbuild's
   * `keepNames` would define a `name` on each one, a dictionary of properties per run.)
   */
  get emit(): (body: RunEventBody) => void {
    return (this.emitter ??= (body) => this.write(body));
  }

  // AttemptFollower: how the shared attempt code starts, runs and retries this run's nodes.
  get clock(): Clock {
    return this.context.clock;
  }
  get signal(): AbortSignal {
    return this.cancellation.signal;
  }
  ended(): boolean {
    return this.finished;
  }
  loggingFailed(error: unknown): void {
    this.fail(error);
  }
  attemptStarted(node: CompiledNode, attempt: number): number {
    this.state.attempt[node.index] = attempt;
    // Expressions see the time of this `running` event, so a replay sees the same time.
    return this.emitStatus(this.nodeIds[node.index]!, 'running', attempt);
  }
  attempt(node: CompiledNode, attempt: number, now: number, signal: AbortSignal | undefined): unknown {
    const execution = new Execution(this, this.nodeIds[node.index]!, undefined, attempt, this.pendingInput[node.index], now, signal, this.depth);
    return node.prepared.produce ? node.prepared.produce(execution) : node.prepared.execute(execution);
  }
  attemptFailed(node: CompiledNode, attempt: number, error: RunError, waitMs: number): void {
    this.write({ type: 'node.status', nodeId: this.nodeIds[node.index]!, status: 'failed', attempt, error, retryInMs: waitMs });
  }

  /** Records a node's outcome and folds it into the scheduler state. */
  private complete(node: CompiledNode, outcome: Outcome, reused = false): void {
    const attempt = this.state.attempt[node.index]!;
    if (outcome.kind === 'succeeded') {
      this.emitSucceeded(this.nodeIds[node.index]!, attempt, outcome, reused);
    } else {
      this.write({ type: 'node.status', nodeId: this.nodeIds[node.index]!, status: 'failed', attempt, error: outcome.error, ...(node.continueOnError ? { ports: ['error'] } : {}) });
      if (!node.continueOnError) {
        // Marked here, not by applyOutcome, so `finish` does not report it as cancelled.
        this.state.phase[node.index] = NodePhase.failed;
        this.finish('failed', { ...outcome.error, message: `node "${node.id}" failed: ${outcome.error.message}` });
        return;
      }
    }
    for (const skipped of applyOutcome(this.compiled, this.state, node.index, outcome)) {
      this.emitStatus(this.nodeIds[skipped]!, 'skipped', 0);
    }
    this.pump();
  }

  private finish(status: RunStatus, error?: RunError): void {
    if (this.finished) return;
    this.finished = true;
    if (this.onCancel) this.cancelSignal?.removeEventListener('abort', this.onCancel);
    // A run that succeeded has nothing running; cancelling (which aborts its signal, if a
    // node made one: more than the rest of a small run costs) only stops its timeout timer.
    if (status !== 'succeeded' || this.timeoutArmed) this.abortNodes(status === 'cancelled' ? cancelledError() : error);
    const { phase, attempt } = this.state;
    let succeeded = 0;
    let failed = 0;
    let skipped = 0;
    for (let i = 0; i < phase.length; i++) {
      if (phase[i] === NodePhase.running) {
        phase[i] = NodePhase.cancelled;
        this.emitStatus(this.nodeIds[i]!, 'cancelled', attempt[i]!);
      } else if (phase[i] === NodePhase.succeeded) succeeded++;
      else if (phase[i] === NodePhase.failed) failed++;
      else if (phase[i] === NodePhase.skipped) skipped++;
    }
    const output = status === 'succeeded' ? this.runOutput() : undefined;
    if (this.parent) {
      // A sub-flow's outcome is its parent node's to report.
      this.resolve({ runId: this.runId, status, ...(output !== undefined ? { output } : {}), ...(error !== undefined ? { error } : {}) });
      return;
    }
    this.write({ type: 'metrics', values: { nodesSucceeded: succeeded, nodesFailed: failed, nodesSkipped: skipped, nodesTotal: phase.length } });
    this.write({
      type: 'run.finished',
      status,
      ...(output !== undefined ? { output } : {}),
      ...(error !== undefined ? { error } : {}),
    });
    const result: RunResult = { runId: this.runId, status };
    if (output !== undefined) result.output = output;
    if (error !== undefined) result.error = error;
    this.resolve(result);
  }

  /** One output node: its value. Several: an object by output key, leaving out skipped ones. */
  private runOutput(): unknown {
    const { outputNodes, nodes } = this.compiled;
    const { phase, output } = this.state;
    if (outputNodes.length === 1) return phase[outputNodes[0]!] === NodePhase.succeeded ? output[outputNodes[0]!] : null;
    const result: Record<string, unknown> = {};
    for (const index of outputNodes) if (phase[index] === NodePhase.succeeded) result[nodes[index]!.outputKey] = output[index];
    return result;
  }

  /** A node's `succeeded` event (every node logs one), built as `write` would, without spreading. */
  private emitSucceeded(nodeId: string, attempt: number, { output, ports }: { output: unknown; ports: string[] | undefined }, reused: boolean): void {
    if (this.parent) {
      const body: RunEventBody<'node.status'> = { type: 'node.status', nodeId, status: 'succeeded', attempt, output };
      if (ports !== undefined) body.ports = ports;
      if (reused) body.reused = true;
      return this.parent.emit(body);
    }
    const event: RunEventOf<'node.status'> = { v: 1, runId: this.runId, seq: ++this.seq, ts: this.context.clock.now(), type: 'node.status', nodeId, status: 'succeeded', attempt, output };
    if (ports !== undefined) event.ports = ports;
    if (reused) event.reused = true;
    this.append(event);
  }

  /** The hot path's event, built without spreading; returns its `ts`. */
  private emitStatus(nodeId: string, status: NodeStatus, attempt: number): number {
    if (this.parent) {
      this.parent.emit({ type: 'node.status', nodeId, status, attempt });
      return this.context.clock.now();
    }
    const ts = this.context.clock.now();
    this.append({ v: 1, runId: this.runId, seq: ++this.seq, ts, type: 'node.status', nodeId, status, attempt });
    return ts;
  }

  private write(body: RunEventBody): void {
    // Nodes still winding down after the run ended (cancelled, timed out) may try to log.
    if (this.finished && body.type !== 'run.finished' && body.type !== 'metrics' && body.type !== 'node.status') return;
    if (this.parent) return this.parent.emit(body);
    this.append({ v: 1, runId: this.runId, seq: ++this.seq, ts: this.context.clock.now(), ...body } as RunEvent);
  }

  /**
   * A sink that throws leaves the run unable to record anything: the run stops and its
   * promise rejects with the sink's error. The node that was logging sees the run as
   * finished, so it is not retried.
   */
  private append(event: RunEvent): void {
    try {
      this.context.log.append(event);
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /** Cancels the run's waits and signal; a node still winding down that asks for the signal later sees it aborted. */
  private abortNodes(reason: unknown): void {
    this.cancellation.cancel(reason);
  }

  /** Runs a step from a timer or listener, where a throw would otherwise be unhandled. */
  private safely(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (!this.finished) {
      this.finished = true;
      if (this.onCancel) this.cancelSignal?.removeEventListener('abort', this.onCancel);
      this.abortNodes(error);
    }
    this.reject(error);
  }
}

function cancelledError(): RunError {
  return { message: 'run cancelled', code: 'cancelled' };
}
