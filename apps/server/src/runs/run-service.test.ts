import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalProvider, noNetwork, systemClock } from '@loom/engine';
import type { RunEvent } from '@loom/shared';
import { openDatabase, type Db } from '../db/open.js';
import { ConflictError } from '../errors.js';
import { FlowStore } from '../flows/store.js';
import { RunService } from './run-service.js';
import { RunStore, type PendingEvent } from './run-store.js';

const chain = (id: string, delays: number[]) => ({
  version: 1,
  id,
  name: id,
  nodes: [{ id: 'in', kind: 'input' }, ...delays.map((ms, i) => ({ id: `d${i}`, kind: 'skill', config: { skill: 'delay', params: { ms } } })), { id: 'out', kind: 'output' }],
  edges: ['in', ...delays.map((_, i) => `d${i}`), 'out'].slice(1).map((to, i, all) => ({ from: i === 0 ? 'in' : all[i - 1]!, to })),
});

/** A store whose next commits fail while `failing` is set, as a full disk would. */
class FlakyStore extends RunStore {
  failing = false;
  override commit(batch: readonly PendingEvent[]): void {
    if (this.failing) throw new Error('SQLITE_FULL: database or disk is full');
    super.commit(batch);
  }
}

let dir: string;
let db: Db;
let flows: FlowStore;
let store: FlakyStore;
let published: RunEvent[];
let failures: string[][];

function service(maxConcurrentRuns = 10, maxBatchWaitMs?: number): RunService {
  let n = 0;
  return new RunService({
    ...(maxBatchWaitMs !== undefined ? { maxBatchWaitMs } : {}),
    flows,
    store,
    clock: systemClock,
    newId: () => `run-${++n}`,
    llm: new Map([['local', createLocalProvider()]]),
    http: noNetwork,
    maxConcurrentRuns,
    publish: (_runId, events) => published.push(...events),
    commitFailed: (_error, runIds) => failures.push(runIds),
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loom-runs-'));
  db = openDatabase(join(dir, 'db.sqlite'));
  flows = new FlowStore(db, () => Date.now());
  store = new FlakyStore(db);
  published = [];
  failures = [];
});

afterEach(() => {
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('RunService', () => {
  it('publishes only committed events, in seq order, and settles with the committed row', async () => {
    flows.create(chain('c', [1, 1]));
    const runs = service();
    const run = runs.start('c', { input: { x: 1 } });
    expect(run.status).toBe('queued');
    const done = await runs.settled(run.id);
    expect(done).toMatchObject({ status: 'succeeded', output: { x: 1 }, lastSeq: published.length });
    expect(published.map((e) => e.seq)).toEqual(Array.from({ length: published.length }, (_, i) => i + 1));
    expect(runs.events(run.id, 0, 1000)).toEqual(published);
  });

  it('settles with exactly the row a re-read returns: succeeded, failed and cancelled runs', async () => {
    flows.create(chain('ok', [1]));
    flows.create({
      version: 1,
      id: 'boom',
      name: 'boom',
      nodes: [{ id: 'in', kind: 'input' }, { id: 'fail', kind: 'skill', config: { skill: 'error.throw', params: { message: 'no', code: 'broken' } } }, { id: 'out', kind: 'output' }],
      edges: [{ from: 'in', to: 'fail' }, { from: 'fail', to: 'out' }],
    });
    flows.create(chain('slow', [200]));
    const runs = service();
    const ok = runs.start('ok', { input: { nested: { list: [1, 'two', null] } } });
    const boom = runs.start('boom');
    const slow = runs.start('slow');
    await new Promise((resolve) => setTimeout(resolve, 20));
    runs.cancel(slow.id);
    const settled = await Promise.all([ok, boom, slow].map((run) => runs.settled(run.id)));
    expect(settled.map((run) => run.status)).toEqual(['succeeded', 'failed', 'cancelled']);
    for (const run of settled) expect(run).toEqual(runs.get(run.id));
  });

  it('commits within a long tick once the oldest pending event has waited 5 ms, not only at its end', async () => {
    flows.create(chain('c', [50]));
    const runs = service();
    // Everything below runs in one macrotask (microtasks only): a flush by setImmediate cannot happen.
    const microtasks = async () => {
      for (let i = 0; i < 20; i++) await Promise.resolve();
    };
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    const first = runs.start('c');
    await microtasks();
    busy(6);
    const second = runs.start('c');
    try {
      await microtasks();
      // The first run's pending events were committed (and published) without waiting for the tick to end.
      expect(published.filter((e) => e.runId === first.id).map((e) => e.seq)[0]).toBe(1);
      expect(runs.events(first.id, 0, 100).length).toBeGreaterThan(0);
    } finally {
      await Promise.all([runs.settled(first.id), runs.settled(second.id)]);
    }
  });

  it('commitIfDue commits waiting events once the oldest has waited maxBatchWaitMs, and not before', async () => {
    flows.create(chain('c', [50]));
    const runs = service(10, 100);
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    // All in one macrotask: the batch's own flush (setImmediate) cannot run in between.
    const run = runs.start('c');
    for (let i = 0; i < 20; i++) await Promise.resolve();
    try {
      expect(runs.events(run.id, 0, 100)).toEqual([]);
      runs.commitIfDue();
      expect(runs.events(run.id, 0, 100)).toEqual([]);
      busy(101);
      runs.commitIfDue();
      const committed = runs.events(run.id, 0, 100);
      expect(committed.length).toBeGreaterThan(0);
      expect(published.filter((e) => e.runId === run.id)).toEqual(committed);
    } finally {
      await runs.settled(run.id);
    }
  });

  it('stops the runs of a batch that failed to commit, settles them, and writes nothing more of them', async () => {
    flows.create(chain('c', [30, 30, 30]));
    const runs = service();
    const run = runs.start('c');
    await new Promise((resolve) => setTimeout(resolve, 10)); // run.started and the first node are committed
    const committed = runs.get(run.id).lastSeq;
    expect(committed).toBeGreaterThan(0);
    store.failing = true;
    const settled = await runs.settled(run.id);
    store.failing = false;
    expect(failures).toEqual([[run.id]]);
    expect(settled.status).toBe('running'); // what the database holds; the next start marks it interrupted
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(runs.get(run.id).lastSeq).toBe(committed);
    expect(runs.recoverInterrupted().map((r) => [r.id, r.status])).toEqual([[run.id, 'interrupted']]);
    expect(runs.events(run.id, 0, 1000).map((e) => e.seq)).toEqual(Array.from({ length: committed + 1 }, (_, i) => i + 1));
  });

  it('refuses to delete a flow while one of its runs is unfinished', async () => {
    flows.create(chain('c', [50]));
    const runs = service();
    const run = runs.start('c');
    expect(() => flows.delete('c')).toThrow(ConflictError);
    await runs.settled(run.id);
    flows.delete('c');
    expect(flows.list()).toEqual([]);
  });

  it('queues runs beyond the limit and starts them in order as slots free up', async () => {
    flows.create(chain('c', [20]));
    const runs = service(1);
    const first = runs.start('c');
    const second = runs.start('c');
    expect(runs.queueDepth).toBe(1);
    await runs.settled(first.id);
    const done = await runs.settled(second.id);
    expect(done.status).toBe('succeeded');
    expect(done.startedAt!).toBeGreaterThanOrEqual(runs.get(first.id).finishedAt!);
  });

  it('ends unfinished runs as interrupted on close, with their logs closed', async () => {
    flows.create(chain('c', [200]));
    const runs = service(1);
    const running = runs.start('c');
    const queued = runs.start('c');
    await new Promise((resolve) => setTimeout(resolve, 20));
    runs.close();
    expect(runs.get(running.id).status).toBe('interrupted');
    expect(runs.get(queued.id).status).toBe('interrupted');
    const log = runs.events(running.id, 0, 1000);
    expect(log[log.length - 1]).toMatchObject({ type: 'run.finished', status: 'interrupted' });
  });
});
