import { and, desc, eq, gte, inArray, lt, lte, or, type SQL } from 'drizzle-orm';
import type { RunError, RunEvent } from '@loom/shared';
import type { Db } from '../db/open.js';
import { runs, type RunRowStatus } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { decodeEvent, encodeEvent, type EncodedEvent } from './event-codec.js';

export interface RunRecord {
  id: string;
  flowId: string;
  flowVersion: number;
  status: RunRowStatus;
  input: unknown;
  output?: unknown;
  error?: RunError;
  parentRunId: string | null;
  origin: 'start' | 'resume' | 'fork';
  forkNodeId: string | null;
  lastSeq: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  eventsPrunedAt: number | null;
}

export interface RunFilter {
  flowId?: string;
  status?: RunRowStatus[];
  /** createdAt bounds, epoch ms, inclusive. */
  from?: number;
  to?: number;
  /** Page after this run (the previous page's `nextCursor`). */
  cursor?: string;
  limit: number;
}

export interface NewRun {
  id: string;
  flowId: string;
  flowVersion: number;
  input: unknown;
  parentRunId?: string;
  origin: RunRecord['origin'];
  forkNodeId?: string;
}

/** A batch of events to commit: each run's events in seq order. */
export interface PendingEvent {
  runPk: number;
  event: RunEvent;
}

type RunRow = typeof runs.$inferSelect;

/**
 * Run rows and their event logs. Synchronous (better-sqlite3): a read and the join of a
 * socket room happen in the same tick, with no commit in between — how live streams
 * resume without a gap or a duplicate. Event statements are prepared once and bypass the
 * query builder: they are the hot path.
 */
export class RunStore {
  private readonly insertEvent;
  private readonly selectPage;
  private readonly selectUpTo;
  /** Read on every run start and end: prepared once (the query builder would prepare it each time). */
  private readonly selectById;
  private readonly updateLastSeq;
  private readonly updateStarted;
  private readonly updateFinished;
  private readonly insertRun;

  constructor(private readonly db: Db) {
    const sqlite = db.$client;
    this.insertEvent = sqlite.prepare<[number, number, number, string, Buffer]>('INSERT INTO run_events (run_pk, seq, ts, type, body) VALUES (?, ?, ?, ?, ?)');
    this.selectPage = sqlite.prepare<[number, number, number], EncodedEvent>('SELECT seq, ts, type, body FROM run_events WHERE run_pk = ? AND seq > ? ORDER BY seq LIMIT ?');
    this.selectUpTo = sqlite.prepare<[number, number], EncodedEvent>('SELECT seq, ts, type, body FROM run_events WHERE run_pk = ? AND seq <= ? ORDER BY seq');
    // Plain better-sqlite3 (the query builder's prepared statement still maps each row through
    // its own layer, ~0.1 ms a call): columns aliased to the row type's names.
    this.selectById = sqlite.prepare<[string], RunRow>(
      'SELECT pk, id, flow_id AS flowId, flow_version AS flowVersion, status, input, output, error, parent_run_id AS parentRunId, origin, fork_node_id AS forkNodeId, last_seq AS lastSeq, created_at AS createdAt, started_at AS startedAt, finished_at AS finishedAt, events_pruned_at AS eventsPrunedAt FROM runs WHERE id = ?',
    );
    this.insertRun = sqlite.prepare<[string, string, number, string, string | null, string, string | null, number]>(
      "INSERT INTO runs (id, flow_id, flow_version, status, input, parent_run_id, origin, fork_node_id, created_at) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
    );
    this.updateLastSeq = sqlite.prepare<[number, number]>('UPDATE runs SET last_seq = ? WHERE pk = ?');
    this.updateStarted = sqlite.prepare<[number, number]>("UPDATE runs SET status = 'running', started_at = ? WHERE pk = ?");
    this.updateFinished = sqlite.prepare<[string, number, string | null, string | null, number]>('UPDATE runs SET status = ?, finished_at = ?, output = ?, error = ? WHERE pk = ?');
  }

  create(run: NewRun, now: number): { pk: number; record: RunRecord } {
    const input = JSON.stringify(run.input ?? {});
    const { lastInsertRowid } = this.insertRun.run(run.id, run.flowId, run.flowVersion, input, run.parentRunId ?? null, run.origin, run.forkNodeId ?? null, now);
    const record: RunRecord = {
      id: run.id,
      flowId: run.flowId,
      flowVersion: run.flowVersion,
      status: 'queued',
      input: JSON.parse(input) as unknown,
      parentRunId: run.parentRunId ?? null,
      origin: run.origin,
      forkNodeId: run.forkNodeId ?? null,
      lastSeq: 0,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      eventsPrunedAt: null,
    };
    return { pk: Number(lastInsertRowid), record };
  }

  get(id: string): RunRecord {
    return toRecord(this.row(id));
  }

  pk(id: string): number {
    return this.row(id).pk;
  }

  list(filter: RunFilter): { runs: RunRecord[]; nextCursor: string | null } {
    const where: (SQL | undefined)[] = [];
    if (filter.flowId !== undefined) where.push(eq(runs.flowId, filter.flowId));
    if (filter.status?.length) where.push(inArray(runs.status, filter.status));
    if (filter.from !== undefined) where.push(gte(runs.createdAt, filter.from));
    if (filter.to !== undefined) where.push(lte(runs.createdAt, filter.to));
    if (filter.cursor !== undefined) {
      const after = this.row(filter.cursor);
      where.push(or(lt(runs.createdAt, after.createdAt), and(eq(runs.createdAt, after.createdAt), lt(runs.pk, after.pk))));
    }
    const rows = this.db
      .select()
      .from(runs)
      .where(and(...where))
      .orderBy(desc(runs.createdAt), desc(runs.pk))
      .limit(filter.limit + 1)
      .all();
    const page = rows.slice(0, filter.limit).map(toRecord);
    return { runs: page, nextCursor: rows.length > filter.limit ? page[page.length - 1]!.id : null };
  }

  /** Events after `afterSeq`, at most `limit`. */
  events(runId: string, runPk: number, afterSeq: number, limit: number): RunEvent[] {
    return this.selectPage.all(runPk, afterSeq, limit).map((row) => decodeEvent(runId, row));
  }

  /** The log from its start up to `seq` (all of it when absent). */
  eventsUpTo(runId: string, runPk: number, seq = Number.MAX_SAFE_INTEGER): RunEvent[] {
    return this.selectUpTo.all(runPk, seq).map((row) => decodeEvent(runId, row));
  }

  /**
   * Commits events in one transaction and brings each run's row up to date: started,
   * last seq, and the outcome of runs whose `run.finished` is in the batch.
   */
  commit(batch: readonly PendingEvent[]): void {
    this.db.$client.transaction(() => {
      const touched = new Map<number, { lastSeq: number; started?: RunEvent; finished?: RunEvent & { type: 'run.finished' } }>();
      for (const { runPk, event } of batch) {
        const encoded = encodeEvent(event);
        this.insertEvent.run(runPk, encoded.seq, encoded.ts, encoded.type, encoded.body);
        const entry = touched.get(runPk) ?? { lastSeq: 0 };
        entry.lastSeq = event.seq;
        if (event.type === 'run.started') entry.started = event;
        if (event.type === 'run.finished') entry.finished = event;
        touched.set(runPk, entry);
      }
      for (const [pk, { lastSeq, started, finished }] of touched) {
        this.updateLastSeq.run(lastSeq, pk);
        if (started) this.updateStarted.run(started.ts, pk);
        if (finished) {
          this.updateFinished.run(
            finished.status,
            finished.ts,
            finished.output === undefined ? null : JSON.stringify(finished.output),
            finished.error === undefined ? null : JSON.stringify(finished.error),
            pk,
          );
        }
      }
    })();
  }

  /** Ends a run that never started (cancelled or interrupted while queued): it has no events. */
  endQueued(id: string, status: 'cancelled' | 'interrupted', error: RunError, now: number): void {
    this.db
      .update(runs)
      .set({ status, error: JSON.stringify(error), finishedAt: now })
      .where(and(eq(runs.id, id), eq(runs.status, 'queued')))
      .run();
  }

  /** Runs a previous process left queued or running. */
  unfinished(): RunRecord[] {
    return this.db.select().from(runs).where(inArray(runs.status, ['queued', 'running'])).all().map(toRecord);
  }

  private row(id: string): RunRow {
    const row = this.selectById.get(id);
    if (!row) throw new NotFoundError('run', id);
    return row;
  }
}

/**
 * The row a run has after `commit` wrote `events` (one run's, in seq order) over `record`:
 * what a re-read would return, without the read. Mirrors the updates in `commit`.
 */
export function recordAfter(record: RunRecord, events: readonly RunEvent[]): RunRecord {
  if (events.length === 0) return record;
  const next: RunRecord = { ...record, lastSeq: events[events.length - 1]!.seq };
  for (const event of events) {
    if (event.type === 'run.started') {
      next.status = 'running';
      next.startedAt = event.ts;
    } else if (event.type === 'run.finished') {
      next.status = event.status;
      next.finishedAt = event.ts;
      // Through JSON, as the row stores them.
      if (event.output === undefined) delete next.output;
      else next.output = JSON.parse(JSON.stringify(event.output)) as unknown;
      if (event.error === undefined) delete next.error;
      else next.error = JSON.parse(JSON.stringify(event.error)) as RunError;
    }
  }
  return next;
}

function toRecord(row: RunRow): RunRecord {
  const record: RunRecord = {
    id: row.id,
    flowId: row.flowId,
    flowVersion: row.flowVersion,
    status: row.status,
    input: JSON.parse(row.input) as unknown,
    parentRunId: row.parentRunId,
    origin: row.origin,
    forkNodeId: row.forkNodeId,
    lastSeq: row.lastSeq,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    eventsPrunedAt: row.eventsPrunedAt,
  };
  if (row.output !== null) record.output = JSON.parse(row.output) as unknown;
  if (row.error !== null) record.error = JSON.parse(row.error) as RunError;
  return record;
}
