import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './open.js';

/** SQLite's own threshold (pages in the WAL), used again if the checkpoint thread is gone. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

export interface Checkpointer {
  /** Stops the thread; the connection checkpoints by itself again. */
  close(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the event loop. SQLite checkpoints inside whichever commit
 * crosses `wal_autocheckpoint` (1,000 pages): that commit then copies the WAL into the
 * database file and fsyncs both, 8–10 ms here, during which no request, run step or socket
 * write is served (the long tail of the commit time, and of event latency under load).
 * Here a worker thread with its own connection runs `wal_checkpoint(PASSIVE)` every
 * `everyMs` instead: PASSIVE never blocks the writer, and the writer starts the WAL over
 * once a checkpoint has caught up. Commits are as durable as before (WAL, synchronous=NORMAL).
 * If the thread cannot start or dies, the connection goes back to checkpointing itself.
 */
export function startCheckpointer(db: Db, file: string, { everyMs = 200, onError }: { everyMs?: number; onError?: (error: unknown) => void } = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file } });
  const exited = new Promise<void>((done) => worker.once('exit', () => done()));
  let inFlight = false;
  let closed = false;
  const fallBack = (error: unknown) => {
    clearInterval(timer);
    if (closed) return;
    closed = true;
    if (db.$client.open) db.$client.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    onError?.(error);
  };
  worker.on('message', (message: { ready?: true; error?: string }) => {
    if (message.error !== undefined) return fallBack(new Error(`WAL checkpoint thread: ${message.error}`));
    // Only once the thread has its connection does the writer stop checkpointing.
    if (message.ready && !closed) db.$client.pragma('wal_autocheckpoint = 0');
    inFlight = false;
  });
  worker.on('error', fallBack);
  worker.on('exit', (code) => {
    if (!closed) fallBack(new Error(`WAL checkpoint thread exited (${code})`));
  });
  worker.unref();
  const timer = setInterval(() => {
    if (inFlight || closed) return;
    inFlight = true;
    worker.postMessage('checkpoint');
  }, everyMs).unref();
  return {
    close: async () => {
      if (!closed) {
        closed = true;
        clearInterval(timer);
        if (db.$client.open) db.$client.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      }
      // The thread closes its connection and ends; a checkpoint in progress finishes first.
      worker.postMessage('close');
      const timeout = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

// CommonJS, evaluated in the worker: better-sqlite3 is loaded from the path the server resolved.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let db;
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.file, { fileMustExist: true });
  parentPort.postMessage({ ready: true });
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message || error) });
}
parentPort.on('message', (message) => {
  if (message === 'close') {
    if (db) db.close();
    process.exit(0);
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({});
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
});
`;
