import { setMaxListeners } from 'node:events';
import type { FlowIssue, NodeStatus, RunError, RunEvent, RunEventBody, RunStatus } from '@loom/shared';
import type { EngineContext } from '../context/context.js';
import { NodeError, toRunError } from '../errors.js';
import type { CompiledFlow, CompiledNode } from '../graph/compile.js';
import { checkRunInput } from '../graph/input.js';
import type { NodeExecution, NodeResult } from '../nodes/node-kind.js';
import { applyOutcome, collectInput, createSchedulerState, hasReady, NodePhase, retryDelay, takeReady, type Outcome, type SchedulerState } from './plan.js';

export interface RunOptions {
  input?: unknown;
  /** Overrides the id from `context.ids`. */
  runId?: string;
  parentRunId?: string;
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

class FlowRun {
  private readonly runId: string;
  private readonly state: SchedulerState;
  private readonly controller = new AbortController();
  private readonly capacity: number;
  private seq = 0;
  private running = 0;
  private finished = false;
  private manyListeners = false;
  private timeoutArmed = false;
  private onCancel: (() => void) | undefined;
  private resolve!: (result: RunResult) => void;
  private reject!: (error: unknown) => void;
  private readonly emitBody = (body: RunEventBody) => this.emit(body);

  constructor(
    private readonly compiled: CompiledFlow,
    private readonly context: EngineContext,
    private readonly input: unknown,
    private readonly options: RunOptions,
  ) {
    this.runId = options.runId ?? context.ids.runId(compiled.hash, input);
    this.state = createSchedulerState(compiled);
    this.capacity = compiled.flow.settings.concurrency;
  }

  start(): Promise<RunResult> {
    const done = new Promise<RunResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    try {
      this.emit({
        type: 'run.started',
        flowId: this.compiled.flow.id,
        flowHash: this.compiled.hash,
        nodeIds: this.compiled.nodeIds,
        input: this.input,
        ...(this.options.parentRunId !== undefined ? { parentRunId: this.options.parentRunId } : {}),
      });
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
      const { timeoutMs } = this.compiled.flow.settings;
      if (timeoutMs !== undefined) {
        this.timeoutArmed = true;
        this.context.clock.sleep(timeoutMs, this.controller.signal).then(
          () => this.safely(() => this.finish('failed', { message: `run timed out after ${timeoutMs} ms (settings.timeoutMs)`, code: 'run_timeout' })),
          () => undefined,
        );
      }
      this.pump();
    } catch (error) {
      this.fail(error);
    }
    return done;
  }

  /** Starts ready nodes while there is capacity; finishes the run when nothing is left. */
  private pump(): void {
    if (this.finished) return;
    if (this.running < this.capacity && hasReady(this.state)) {
      for (const index of takeReady(this.state, this.capacity - this.running)) {
        this.running++;
        void this.runNode(this.compiled.nodes[index]!, collectInput(this.compiled, this.state, index, this.input));
      }
    }
    if (this.running === 0 && !hasReady(this.state)) this.finish('succeeded');
  }

  /**
   * One node, from its first attempt to its folded outcome: attempts until success, a
   * non-retryable error or the policy's last attempt. Never rejects: a failing event
   * sink ends the run instead.
   */
  private async runNode(node: CompiledNode, input: unknown): Promise<void> {
    let outcome: Outcome | null = null;
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.finished) break;
        this.state.attempt[node.index] = attempt;
        // Expressions see the time of this `running` event, so a replay sees the same time.
        const startedAt = this.emitStatus(node.id, 'running', attempt);
        const taskId = `${node.id}/${attempt}`;
        try {
          const execution = this.execution(node, input, attempt, taskId, startedAt);
          if (node.prepared.produce && node.timeoutMs === undefined) {
            outcome = { kind: 'succeeded', output: await node.prepared.produce(execution), ports: undefined };
          } else {
            const result = await (node.timeoutMs === undefined ? node.prepared.execute(execution) : this.withTimeout(node, execution, node.timeoutMs));
            outcome = { kind: 'succeeded', output: result.output, ports: result.ports };
          }
          break;
        } catch (error) {
          if (this.finished) break;
          const runError = toRunError(error, node.id);
          if (runError.retryable === false || attempt >= node.retry.maxAttempts) {
            outcome = { kind: 'failed', error: runError };
            break;
          }
          const wait = retryDelay(node.retry, attempt, taskId);
          this.emit({ type: 'node.status', nodeId: node.id, status: 'failed', attempt, error: runError, retryInMs: wait });
          try {
            await this.context.clock.sleep(wait, this.controller.signal);
          } catch {
            break;
          }
        }
      }
      this.running--;
      if (outcome !== null && !this.finished) this.complete(node, outcome);
    } catch (error) {
      this.fail(error);
    }
  }

  private execution(node: CompiledNode, input: unknown, attempt: number, taskId: string, now: number): NodeExecution {
    return {
      runId: this.runId,
      nodeId: node.id,
      taskId,
      attempt,
      input,
      signal: this.controller.signal,
      context: this.context,
      settings: this.compiled.flow.settings,
      scope: { runId: this.runId, nodeId: node.id, now },
      emit: this.emitBody,
    };
  }

  /** Races the attempt with its timeout; the attempt's signal aborts either way, so it can stop its work. */
  private async withTimeout(node: CompiledNode, execution: NodeExecution, timeoutMs: number): Promise<NodeResult> {
    const attemptController = new AbortController();
    if (!this.manyListeners) {
      // Each node running with a timeout listens on the run's signal; more than 10 is normal, not a leak.
      setMaxListeners(0, this.controller.signal);
      this.manyListeners = true;
    }
    const forward = () => attemptController.abort(this.controller.signal.reason);
    this.controller.signal.addEventListener('abort', forward, { once: true });
    const timeout = new NodeError(`timed out after ${timeoutMs} ms (attempt ${execution.attempt} of ${node.retry.maxAttempts})`, 'timeout', true);
    try {
      return await Promise.race([
        node.prepared.execute({ ...execution, signal: attemptController.signal }),
        this.context.clock.sleep(timeoutMs, attemptController.signal).then(() => {
          throw timeout;
        }),
      ]);
    } finally {
      this.controller.signal.removeEventListener('abort', forward);
      if (!attemptController.signal.aborted) attemptController.abort(timeout);
    }
  }

  /** Records a node's outcome and folds it into the scheduler state. */
  private complete(node: CompiledNode, outcome: Outcome): void {
    const attempt = this.state.attempt[node.index]!;
    if (outcome.kind === 'succeeded') {
      this.emit({
        type: 'node.status',
        nodeId: node.id,
        status: 'succeeded',
        attempt,
        output: outcome.output,
        ...(outcome.ports !== undefined ? { ports: outcome.ports } : {}),
      });
    } else {
      this.emit({ type: 'node.status', nodeId: node.id, status: 'failed', attempt, error: outcome.error, ...(node.continueOnError ? { ports: ['error'] } : {}) });
      if (!node.continueOnError) {
        // Marked here, not by applyOutcome, so `finish` does not report it as cancelled.
        this.state.phase[node.index] = NodePhase.failed;
        this.finish('failed', { ...outcome.error, message: `node "${node.id}" failed: ${outcome.error.message}` });
        return;
      }
    }
    for (const skipped of applyOutcome(this.compiled, this.state, node.index, outcome)) {
      this.emitStatus(this.compiled.nodeIds[skipped]!, 'skipped', 0);
    }
    this.pump();
  }

  private finish(status: RunStatus, error?: RunError): void {
    if (this.finished) return;
    this.finished = true;
    if (this.onCancel) this.context.signal?.removeEventListener('abort', this.onCancel);
    // A run that succeeded has nothing running; aborting (which costs more than the rest
    // of a small run) is only needed to stop its own timeout timer.
    if (status !== 'succeeded' || this.timeoutArmed) this.controller.abort(status === 'cancelled' ? cancelledError() : error);
    const { phase, attempt } = this.state;
    let succeeded = 0;
    let failed = 0;
    let skipped = 0;
    for (let i = 0; i < phase.length; i++) {
      if (phase[i] === NodePhase.running) {
        phase[i] = NodePhase.cancelled;
        this.emitStatus(this.compiled.nodeIds[i]!, 'cancelled', attempt[i]!);
      } else if (phase[i] === NodePhase.succeeded) succeeded++;
      else if (phase[i] === NodePhase.failed) failed++;
      else if (phase[i] === NodePhase.skipped) skipped++;
    }
    this.emit({ type: 'metrics', values: { nodesSucceeded: succeeded, nodesFailed: failed, nodesSkipped: skipped, nodesTotal: phase.length } });
    const output = status === 'succeeded' ? this.runOutput() : undefined;
    this.emit({
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

  /** The hot path's event, built without spreading; returns its `ts`. */
  private emitStatus(nodeId: string, status: NodeStatus, attempt: number): number {
    const ts = this.context.clock.now();
    this.append({ v: 1, runId: this.runId, seq: ++this.seq, ts, type: 'node.status', nodeId, status, attempt });
    return ts;
  }

  private emit(body: RunEventBody): void {
    // Nodes still winding down after the run ended (cancelled, timed out) may try to log.
    if (this.finished && body.type !== 'run.finished' && body.type !== 'metrics' && body.type !== 'node.status') return;
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
      if (this.onCancel) this.context.signal?.removeEventListener('abort', this.onCancel);
      this.controller.abort(error);
    }
    this.reject(error);
  }
}

function cancelledError(): RunError {
  return { message: 'run cancelled', code: 'cancelled' };
}
