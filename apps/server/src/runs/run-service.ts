import { checkRunInput, compileFlow, derivedIds, planReuse, ReusePlanError, runFlow, type Clock, type CompiledFlow, type CredentialSource, type HttpClient, type LlmProvider, type McpToolSource, type ReusedOutcome } from '@loom/engine';
import type { SandboxDriver } from '@loom/engine';
import { checkFlowGraph, reduceRun, type RunError, type RunEvent, type RunState } from '@loom/shared';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { FlowRecord, FlowStore } from '../flows/store.js';
import { recordAfter, type PendingEvent, type RunFilter, type RunRecord, type RunStore } from './run-store.js';

export interface RunServiceOptions {
  flows: FlowStore;
  store: RunStore;
  clock: Clock;
  newId: () => string;
  llm: ReadonlyMap<string, LlmProvider>;
  http: HttpClient;
  /** Named secrets for skills and providers (the encrypted store); values never reach the log. */
  credentials?: CredentialSource;
  /** Tools of the registered MCP servers. */
  mcp?: McpToolSource;
  /** Where code skills run. */
  sandbox?: SandboxDriver;
  /** Runs executing at once; more wait in a queue, in order. */
  maxConcurrentRuns: number;
  /** Longest an event waits for its commit while other work keeps the loop busy (MAX_BATCH_WAIT_MS by default). */
  maxBatchWaitMs?: number;
  /** Called after each commit with the committed events of one run, in seq order. */
  publish: (runId: string, events: RunEvent[]) => void;
  /** Called when a run's row changed status (queued, running, finished). */
  runChanged?: (run: RunRecord) => void;
  /** Called after each commit: events, runs touched, and how long the transaction took. */
  committed?: (stats: { events: number; ms: number; oldestWaitMs: number }) => void;
  /** A commit failed: the runs in it are stopped. */
  commitFailed?: (error: unknown, runIds: string[]) => void;
}

export interface StartOptions {
  version?: number;
  input?: unknown;
}

interface ActiveRun {
  id: string;
  pk: number;
  compiled: CompiledFlow;
  input: unknown;
  parentRunId?: string;
  reuse?: ReadonlyMap<string, ReusedOutcome>;
  controller: AbortController;
  /** Highest seq handed to the writer. */
  lastSeq: number;
  /** Its row as last committed (kept in step by `flush`, so a start or an end needs no re-read). */
  record: RunRecord;
  started: boolean;
  /** Set when a commit of its events failed: nothing more of it is written (the log would have a gap). */
  broken: boolean;
  /** Resolved when the run's final status is committed. */
  settled: Promise<RunRecord>;
  settle: (run: RunRecord) => void;
}

/**
 * Longest an event waits for its commit while other work keeps appending (ms). Below it, events
 * of one tick share a transaction; the cap bounds their delay when a tick runs long.
 */
const MAX_BATCH_WAIT_MS = 5;

const INTERRUPTED: RunError = {
  message: 'the server stopped while this run was in progress; resume it to continue from its last completed nodes',
  code: 'interrupted',
};

/**
 * Runs flows in the server: starts, queues, cancels, resumes and forks them, and writes
 * their events. The engine's sink is synchronous; events collect in a batch committed in
 * one transaction per tick (or sooner, once the oldest has waited `maxBatchWaitMs`), and only
 * after the commit are they published to sockets — so a client never sees an event the
 * database could lose.
 */
export class RunService {
  private readonly active = new Map<string, ActiveRun>();
  private readonly queue: ActiveRun[] = [];
  private running = 0;
  private batch: PendingEvent[] = [];
  private batchSince = 0;
  /** performance.now() of the batch's oldest event. */
  private batchStartedAt = 0;
  private flushScheduled = false;
  private earlyFlushQueued = false;
  private closing = false;
  private readonly compiledByHash = new Map<string, CompiledFlow>();

  private readonly maxBatchWaitMs: number;

  constructor(private readonly options: RunServiceOptions) {
    this.maxBatchWaitMs = options.maxBatchWaitMs ?? MAX_BATCH_WAIT_MS;
  }

  /** Runs a flow's current (or given) version. Rejects an invalid flow or input before creating anything. */
  start(flowId: string, { version, input = {} }: StartOptions = {}): RunRecord {
    const flow = this.options.flows.get(flowId, version);
    return this.launch(flow, input, { origin: 'start' });
  }

  /** Continues an interrupted, failed or cancelled run as a new run that reuses its completed nodes. */
  resume(runId: string): RunRecord {
    const parent = this.options.store.get(runId);
    if (!['interrupted', 'failed', 'cancelled'].includes(parent.status)) {
      throw new ConflictError(`run "${runId}" is ${parent.status}: only interrupted, failed or cancelled runs can be resumed`);
    }
    const flow = this.options.flows.get(parent.flowId, parent.flowVersion);
    const plan = planReuse({ flow: flow.definition, parentFlow: flow.definition, parentEvents: this.parentLog(parent) });
    return this.launch(flow, parent.input, { origin: 'resume', parentRunId: parent.id, reuse: plan.reuse });
  }

  /**
   * A new run from `fromNodeId` on: nodes upstream of it keep their recorded outputs.
   * Uses the flow's current version unless told otherwise, so an edited node runs as edited.
   */
  fork(runId: string, fromNodeId: string, version?: number): RunRecord {
    const parent = this.options.store.get(runId);
    if (parent.status === 'queued' || parent.status === 'running') throw new ConflictError(`run "${runId}" is still ${parent.status}: fork it once it has finished`);
    const parentFlow = this.options.flows.get(parent.flowId, parent.flowVersion);
    const flow = version === parent.flowVersion ? parentFlow : this.options.flows.get(parent.flowId, version);
    let reuse: Map<string, ReusedOutcome>;
    try {
      reuse = planReuse({ flow: flow.definition, parentFlow: parentFlow.definition, parentEvents: this.parentLog(parent), fromNodeId }).reuse;
    } catch (error) {
      if (error instanceof ReusePlanError) throw new InvalidInputError(`cannot fork run "${runId}"`, [{ path: ['fromNodeId'], message: error.message }]);
      throw error;
    }
    return this.launch(flow, parent.input, { origin: 'fork', parentRunId: parent.id, forkNodeId: fromNodeId, reuse });
  }

  /** Stops a queued or running run. */
  cancel(runId: string): RunRecord {
    const run = this.active.get(runId);
    if (!run) {
      const record = this.options.store.get(runId);
      throw new ConflictError(`run "${runId}" has already finished (${record.status})`);
    }
    if (!run.started) {
      this.queue.splice(this.queue.indexOf(run), 1);
      this.endQueued(run, 'cancelled', { message: 'run cancelled before it started', code: 'cancelled' });
    } else {
      run.controller.abort();
    }
    return this.options.store.get(runId);
  }

  /** Resolves with the run's row once its final status is committed. */
  settled(runId: string): Promise<RunRecord> {
    const run = this.active.get(runId);
    return run ? run.settled : Promise.resolve(this.options.store.get(runId));
  }

  get(runId: string): RunRecord {
    return this.options.store.get(runId);
  }

  list(filter: RunFilter): { runs: RunRecord[]; nextCursor: string | null } {
    return this.options.store.list(filter);
  }

  events(runId: string, afterSeq: number, limit: number): RunEvent[] {
    return this.options.store.events(runId, this.options.store.pk(runId), afterSeq, limit);
  }

  /** The run's state rebuilt from its log alone, at `seq` or at its end: nothing is executed. */
  replay(runId: string, atSeq?: number): { run: RunRecord; state: RunState; events: number } {
    const run = this.options.store.get(runId);
    if (run.eventsPrunedAt !== null) throw new ConflictError(`run "${runId}" cannot be replayed: its events were removed by retention`);
    const events = this.options.store.eventsUpTo(runId, this.options.store.pk(runId), atSeq);
    return { run, state: reduceRun(events), events: events.length };
  }

  /** Runs waiting for a slot. */
  get queueDepth(): number {
    return this.queue.length;
  }

  get activeRuns(): number {
    return this.running;
  }

  /**
   * On start: runs a previous process left behind end `interrupted` (a `run.finished`
   * closes their log), ready to be resumed.
   */
  recoverInterrupted(): RunRecord[] {
    const now = this.options.clock.now();
    const recovered: RunRecord[] = [];
    for (const run of this.options.store.unfinished()) {
      if (run.status === 'queued') this.options.store.endQueued(run.id, 'interrupted', INTERRUPTED, now);
      else this.options.store.commit([{ runPk: this.options.store.pk(run.id), event: interruptedEvent(run.id, run.lastSeq + 1, now) }]);
      recovered.push(this.options.store.get(run.id));
    }
    return recovered;
  }

  /**
   * Stops taking work, then ends every unfinished run as `interrupted` (as a crash would,
   * but with the log closed and everything committed): they can be resumed after a restart.
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.flush();
    const now = this.options.clock.now();
    const ending: PendingEvent[] = [];
    for (const run of this.active.values()) {
      if (run.started) ending.push({ runPk: run.pk, event: interruptedEvent(run.id, run.lastSeq + 1, now) });
      else this.options.store.endQueued(run.id, 'interrupted', INTERRUPTED, now);
    }
    if (ending.length) this.options.store.commit(ending);
    for (const run of this.active.values()) run.controller.abort();
    this.active.clear();
    this.queue.length = 0;
  }

  private launch(flow: FlowRecord, input: unknown, lineage: { origin: RunRecord['origin']; parentRunId?: string; forkNodeId?: string; reuse?: ReadonlyMap<string, ReusedOutcome> }): RunRecord {
    if (this.closing) throw new ConflictError('the server is shutting down');
    const compiled = this.compile(flow);
    const inputIssues = checkRunInput(compiled, input);
    if (inputIssues.length) throw new InvalidInputError('the run input is not valid', inputIssues.map((issue) => ({ ...issue, path: ['input', ...issue.path] })));
    const id = this.options.newId();
    const { pk, record } = this.options.store.create(
      { id, flowId: flow.id, flowVersion: flow.version, input, origin: lineage.origin, ...(lineage.parentRunId ? { parentRunId: lineage.parentRunId } : {}), ...(lineage.forkNodeId ? { forkNodeId: lineage.forkNodeId } : {}) },
      this.options.clock.now(),
    );
    let settle!: (run: RunRecord) => void;
    const settled = new Promise<RunRecord>((resolve) => (settle = resolve));
    const run: ActiveRun = { id, pk, compiled, input, controller: new AbortController(), lastSeq: 0, record, started: false, broken: false, settled, settle };
    if (lineage.parentRunId) run.parentRunId = lineage.parentRunId;
    if (lineage.reuse) run.reuse = lineage.reuse;
    this.active.set(id, run);
    this.options.runChanged?.(record);
    if (this.running < this.options.maxConcurrentRuns) this.execute(run);
    else this.queue.push(run);
    return record;
  }

  private execute(run: ActiveRun): void {
    this.running++;
    run.started = true;
    const context = {
      clock: this.options.clock,
      ids: derivedIds,
      llm: this.options.llm,
      http: this.options.http,
      ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
      ...(this.options.mcp ? { mcp: this.options.mcp } : {}),
      ...(this.options.sandbox ? { sandbox: this.options.sandbox } : {}),
      log: { append: (event: RunEvent) => this.append(run, event) },
      signal: run.controller.signal,
    };
    runFlow(run.compiled, context, { input: run.input, runId: run.id, ...(run.parentRunId ? { parentRunId: run.parentRunId } : {}), ...(run.reuse ? { reuse: run.reuse } : {}) })
      .catch(() => {
        // Only a failing sink rejects; the commit that failed has reported it.
      })
      .finally(() => {
        this.running--;
        const next = this.queue.shift();
        if (next && !this.closing) this.execute(next);
      });
  }

  private append(run: ActiveRun, event: RunEvent): void {
    if (this.closing || run.broken) return;
    run.lastSeq = event.seq;
    if (this.batch.length === 0) {
      this.batchSince = this.options.clock.now();
      this.batchStartedAt = performance.now();
    }
    this.batch.push({ runPk: run.pk, event });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    } else if (!this.earlyFlushQueued && performance.now() - this.batchStartedAt >= this.maxBatchWaitMs) {
      // The batch waits for the end of the event loop's current phase, which a burst of work
      // (100 runs.start and run:join requests at once, a wave of 100 run steps) can make long:
      // then commit what waited from within the phase, once the engine's current step is done.
      this.earlyFlushQueued = true;
      queueMicrotask(() => {
        this.earlyFlushQueued = false;
        this.flush();
      });
    }
  }

  /**
   * Commits (and publishes) the waiting events once the oldest has waited `maxBatchWaitMs`.
   * The server calls it as each HTTP request and socket message arrives: a batch is otherwise
   * committed after the event loop's I/O phase, which a burst (100 starts and joins at once)
   * makes long, and the events timers made before it would wait for every request in it.
   */
  commitIfDue(): void {
    if (this.batch.length > 0 && performance.now() - this.batchStartedAt >= this.maxBatchWaitMs) this.flush();
  }

  /** Commits the batch, then publishes it, run by run. */
  private flush(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    const started = performance.now();
    try {
      this.options.store.commit(batch);
    } catch (error) {
      // The runs in the batch stop here: their rows stay `running` with the log committed so
      // far, and become `interrupted` (resumable) at the next start.
      const runIds = [...new Set(batch.map(({ event }) => event.runId))];
      this.options.commitFailed?.(error, runIds);
      for (const id of runIds) {
        const run = this.active.get(id);
        if (!run) continue;
        run.broken = true;
        run.controller.abort();
        this.active.delete(id);
        run.settle(this.options.store.get(id));
      }
      return;
    }
    this.options.committed?.({ events: batch.length, ms: performance.now() - started, oldestWaitMs: this.options.clock.now() - this.batchSince });
    const byRun = new Map<string, RunEvent[]>();
    for (const { event } of batch) {
      const events = byRun.get(event.runId);
      if (events) events.push(event);
      else byRun.set(event.runId, [event]);
    }
    for (const [runId, events] of byRun) {
      this.options.publish(runId, events);
      const run = this.active.get(runId);
      if (run) run.record = recordAfter(run.record, events);
      const started = events.some((e) => e.type === 'run.started');
      const finished = events[events.length - 1]!.type === 'run.finished';
      if (!started && !finished) continue;
      const record = run ? run.record : this.options.store.get(runId);
      if (started && finished) {
        // A short run starts and ends within one commit: watchers still see it running first.
        const { output: _output, error: _error, ...running } = record;
        this.options.runChanged?.({ ...running, status: 'running', finishedAt: null });
      }
      this.options.runChanged?.(record);
      if (finished) {
        run?.settle(record);
        this.active.delete(runId);
      }
    }
  }

  private endQueued(run: ActiveRun, status: 'cancelled' | 'interrupted', error: RunError): void {
    this.options.store.endQueued(run.id, status, error, this.options.clock.now());
    this.active.delete(run.id);
    const record = this.options.store.get(run.id);
    this.options.runChanged?.(record);
    run.settle(record);
  }

  private parentLog(parent: RunRecord): RunEvent[] {
    if (parent.eventsPrunedAt !== null) throw new ConflictError(`run "${parent.id}" has no events left (removed by retention): start a new run instead`);
    return this.options.store.eventsUpTo(parent.id, this.options.store.pk(parent.id));
  }

  private compile(flow: FlowRecord): CompiledFlow {
    const cached = this.compiledByHash.get(flow.hash);
    if (cached) return cached;
    const graph = checkFlowGraph(flow.definition);
    if (graph.length) throw new InvalidInputError(`flow "${flow.id}" version ${flow.version} cannot run`, graph);
    const result = compileFlow(flow.definition);
    if (!result.ok) throw new InvalidInputError(`flow "${flow.id}" version ${flow.version} cannot run`, result.issues);
    if (this.compiledByHash.size >= 256) this.compiledByHash.delete(this.compiledByHash.keys().next().value!);
    this.compiledByHash.set(flow.hash, result.compiled);
    return result.compiled;
  }
}

function interruptedEvent(runId: string, seq: number, ts: number): RunEvent {
  return { v: 1, runId, seq, ts, type: 'run.finished', status: 'interrupted', error: INTERRUPTED };
}
