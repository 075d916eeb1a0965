import { round } from '../measure.js';
import { SqliteEventSink, tempEventDb } from '../sqlite-sink.js';
import { measureChain, type ChainParams } from './chain.js';

/**
 * W5: W1 with the event log persisted to SQLite (WAL, synchronous=NORMAL, one
 * transaction per batch of <= 1,000 events or per macrotask). A run's clock stops only
 * after its last events are committed.
 */
export async function runW5(params: ChainParams & { batchSize?: number }) {
  const batchSize = params.batchSize ?? 1_000;
  const store = tempEventDb('bench-w5');
  try {
    let transactions = 0;
    const { sizes, totalEvents } = await measureChain('W5', params, () => {
      const sink = new SqliteEventSink(store.db, batchSize);
      return {
        sink,
        finish: () => {
          sink.flush();
          transactions += sink.batches;
          return sink.committed;
        },
      };
    });
    const rows = (store.db.prepare('SELECT count(*) AS n FROM run_events').get() as { n: number }).n;
    if (rows !== totalEvents) throw new Error(`W5: ${rows} rows in run_events, sinks committed ${totalEvents}`);
    return {
      description: 'W1 chain with a batched better-sqlite3 sink (WAL, synchronous=NORMAL, <= 1,000 events per transaction); clock stops after the final commit',
      batchSize,
      sizes: sizes.map((s) => ({ ...s, rowsPerSec: s.eventsPerSec })),
      rowsWritten: rows,
      transactions,
      meanRowsPerTransaction: round(rows / Math.max(1, transactions), 1),
    };
  } finally {
    store.dispose();
  }
}
