import type { Db } from '../db/open.js';

export interface RetentionResult {
  runs: number;
  events: number;
}

const DAY_MS = 86_400_000;
/** Runs pruned per transaction: keeps each write lock short while runs go on. */
const RUNS_PER_BATCH = 200;

/**
 * Removes the events of runs that finished more than `days` ago. The run rows stay (status,
 * input, output, error, dates) and are marked, so history still lists them; only their
 * step-by-step replay is gone. `days = 0` keeps everything.
 */
export function pruneRunEvents(db: Db, days: number, now: number): RetentionResult {
  if (days <= 0) return { runs: 0, events: 0 };
  const sqlite = db.$client;
  const cutoff = now - days * DAY_MS;
  const pick = sqlite.prepare<[number, number], { pk: number }>(
    'SELECT pk FROM runs WHERE finished_at IS NOT NULL AND finished_at < ? AND events_pruned_at IS NULL LIMIT ?',
  );
  const deleteEvents = sqlite.prepare<[number]>('DELETE FROM run_events WHERE run_pk = ?');
  const mark = sqlite.prepare<[number, number]>('UPDATE runs SET events_pruned_at = ? WHERE pk = ?');
  const total: RetentionResult = { runs: 0, events: 0 };
  const pruneBatch = sqlite.transaction((pks: number[]) => {
    for (const pk of pks) {
      total.events += deleteEvents.run(pk).changes;
      mark.run(now, pk);
    }
  });
  for (;;) {
    const pks = pick.all(cutoff, RUNS_PER_BATCH).map((r) => r.pk);
    if (pks.length === 0) break;
    pruneBatch(pks);
    total.runs += pks.length;
  }
  return total;
}
