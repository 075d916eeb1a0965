// The WAL checkpoint thread: it takes over checkpoints (the writer stops doing them), keeps the
// WAL from growing, hands them back when it stops, and falls back when it cannot start.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCheckpointer } from './checkpointer.js';
import { startServer } from '../test-support.js';
import { openDatabase, type Db } from './open.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loom-checkpoint-'));
  db = openDatabase(join(dir, 'loom.db'));
  db.$client.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
});
afterEach(() => {
  if (db.$client.open) db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

const autocheckpoint = () => db.$client.pragma('wal_autocheckpoint', { simple: true }) as number;
const walBytes = () => statSync(join(dir, 'loom.db-wal')).size;
const until = async (condition: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
/** One 4 KB row per commit. */
const write = (commits: number) => {
  const insert = db.$client.prepare('INSERT INTO filler (body) VALUES (?)');
  for (let i = 0; i < commits; i++) insert.run(Buffer.alloc(4_000, i % 251));
};

describe('startCheckpointer', () => {
  it('checkpoints in its thread (the writer does not), so the WAL stays small, and hands back on close', async () => {
    const errors: unknown[] = [];
    const checkpointer = startCheckpointer(db, join(dir, 'loom.db'), { everyMs: 20, onError: (error) => errors.push(error) });
    await until(() => autocheckpoint() === 0);
    for (let round = 0; round < 10; round++) {
      write(200);
      // Let a checkpoint catch up; the next commit then starts the WAL over.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    write(1);
    // 2,001 rows of 4 KB (~8 MB, twice that in WAL frames) reached the database file, which
    // only a checkpoint writes, while the WAL was reused instead of growing.
    expect(statSync(join(dir, 'loom.db')).size).toBeGreaterThan(8_000_000);
    expect(walBytes()).toBeLessThan(5 * 1024 * 1024);
    expect((db.$client.prepare('SELECT count(*) AS n FROM filler').get() as { n: number }).n).toBe(2_001);
    await checkpointer.close();
    expect(autocheckpoint()).toBe(1000);
    expect(errors).toEqual([]);
  });

  it('leaves checkpoints to the writer when its thread cannot open the database', async () => {
    const errors: unknown[] = [];
    const checkpointer = startCheckpointer(db, join(dir, 'missing.db'), { everyMs: 20, onError: (error) => errors.push(error) });
    await until(() => errors.length > 0);
    expect(String(errors[0])).toContain('WAL checkpoint thread');
    expect(autocheckpoint()).toBe(1000);
    await checkpointer.close();
  });

  it('is what a listening server uses, shortly after start-up', async () => {
    const t = await startServer();
    try {
      const serverAutocheckpoint = () => t.server.db.$client.pragma('wal_autocheckpoint', { simple: true }) as number;
      expect(serverAutocheckpoint()).toBe(1000); // not during start-up
      const deadline = Date.now() + 10_000;
      while (serverAutocheckpoint() !== 0) {
        if (Date.now() > deadline) throw new Error('the server never handed checkpoints to the thread');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await t.close();
    }
  });
});
