import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { EventSink } from '@loom/engine';
import type { RunEvent } from '@loom/shared';

/**
 * A batched SQLite event sink, for benchmark W5 only. The server (a later issue) will
 * own the real event store; this one exists to measure what durable event logging
 * costs per node, with the same shape the server is expected to use:
 *
 * - better-sqlite3, WAL journal, synchronous=NORMAL;
 * - events buffered and written in one transaction per batch: every `batchSize`
 *   events, or at the end of the current macrotask (setImmediate), whichever first;
 * - a run counts as done only once `flush()` has committed its last events.
 *
 * `append` is synchronous and never blocks on I/O except when a batch fills up.
 */

export const RUN_EVENTS_DDL = `CREATE TABLE IF NOT EXISTS run_events (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID`;

export type BenchDatabase = Database.Database;

/** Opens (creating) a database with the pragmas and table the sink expects. */
export function openEventDb(file: string): BenchDatabase {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(RUN_EVENTS_DDL);
  return db;
}

/** A fresh database file under the OS temp dir, and a function that closes and deletes it. */
export function tempEventDb(label = 'bench'): { db: BenchDatabase; file: string; dispose(): void } {
  const file = join(tmpdir(), `loom-${label}-${process.pid}-${Date.now()}.sqlite`);
  const db = openEventDb(file);
  return {
    db,
    file,
    dispose: () => {
      if (db.open) db.close();
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
    },
  };
}

export class SqliteEventSink implements EventSink {
  /** Events committed so far. */
  committed = 0;
  /** Transactions committed so far. */
  batches = 0;
  private buffer: RunEvent[] = [];
  private immediate: NodeJS.Immediate | undefined;
  private failure: unknown;
  private readonly writeBatch: (events: RunEvent[]) => void;
  private readonly onImmediate = () => {
    this.immediate = undefined;
    try {
      this.flush();
    } catch (error) {
      // Reported by the next append or flush: the run then fails instead of losing events silently.
      this.failure ??= error;
    }
  };

  constructor(
    db: BenchDatabase,
    private readonly batchSize = 1_000,
  ) {
    const insert = db.prepare('INSERT INTO run_events (run_id, seq, ts, type, body) VALUES (?, ?, ?, ?, ?)');
    this.writeBatch = db.transaction((events: RunEvent[]) => {
      for (const e of events) insert.run(e.runId, e.seq, e.ts, e.type, JSON.stringify(e));
    });
  }

  append(event: RunEvent): void {
    if (this.failure !== undefined) throw this.failure;
    this.buffer.push(event);
    if (this.buffer.length >= this.batchSize) this.flush();
    else this.immediate ??= setImmediate(this.onImmediate);
  }

  /** Commits everything buffered, in one transaction. */
  flush(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.writeBatch(batch);
    this.committed += batch.length;
    this.batches++;
  }

  get pending(): number {
    return this.buffer.length;
  }
}
