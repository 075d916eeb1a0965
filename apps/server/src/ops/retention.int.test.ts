// Event retention on a real server's database: old finished runs lose their events but keep
// their row, and say so when replayed; recent and unfinished runs keep everything.
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneRunEvents } from './retention.js';
import { allEvents, apiError, delayChainFlow, ManualClock, startServer, tempDir, waitFor, type TestServer } from '../test-support.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 10);

const servers: TestServer[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('pruneRunEvents', () => {
  it('removes the events of runs finished before the cutoff, keeps their rows, and replay says they were pruned', async () => {
    const clock = new ManualClock();
    clock.time = T0;
    const t = await startServer({ clock });
    servers.push(t);
    const old = await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Old' }, wait: true });
    clock.time = T0 + 20 * DAY;
    const recent = await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Recent' }, wait: true });
    // An unfinished run, however old, keeps its events.
    await t.api.flows.create.mutate({ definition: delayChainFlow('slow', 1, 60_000) });
    clock.time = T0 - 100 * DAY;
    const running = await t.api.runs.start.mutate({ flowId: 'slow', input: {} });
    await waitFor('the slow run to start', async () => (await t.caller.runs.get({ runId: running.id })).lastSeq >= 3);
    const runningEventsBefore = (await allEvents(t.caller, running.id)).length;
    const oldEvents = (await allEvents(t.caller, old.id)).length;

    const now = T0 + 31 * DAY;
    expect(pruneRunEvents(t.server.db, 30, now)).toEqual({ runs: 1, events: oldEvents });
    // Again: nothing left to do.
    expect(pruneRunEvents(t.server.db, 30, now)).toEqual({ runs: 0, events: 0 });
    // 0 days keeps everything.
    expect(pruneRunEvents(t.server.db, 0, now + 1_000 * DAY)).toEqual({ runs: 0, events: 0 });

    const row = await t.api.runs.get.query({ runId: old.id });
    expect(row).toEqual({ ...old, eventsPrunedAt: now });
    expect(row.output).toBe('Hello, Old! Welcome to Loom.');
    expect((await t.api.runs.events.query({ runId: old.id })).events).toEqual([]);
    const replay = await apiError(t.api.runs.replay.query({ runId: old.id }));
    expect(replay.data?.code).toBe('CONFLICT');
    expect(replay.message).toContain('removed by retention');
    expect((await apiError(t.api.runs.fork.mutate({ runId: old.id, fromNodeId: 'greet' }))).data?.code).toBe('CONFLICT');
    expect((await t.api.runs.list.query({})).runs.map((r) => r.id)).toContain(old.id);

    expect((await t.api.runs.replay.query({ runId: recent.id })).state.output).toBe('Hello, Recent! Welcome to Loom.');
    expect((await t.api.runs.get.query({ runId: recent.id })).eventsPrunedAt).toBeNull();
    expect((await allEvents(t.caller, running.id)).length).toBeGreaterThanOrEqual(runningEventsBefore);
    await t.api.runs.cancel.mutate({ runId: running.id });
  });

  it('runs at start-up with LOOM_RETENTION_DAYS', async () => {
    dir = await tempDir();
    const clock = new ManualClock();
    clock.time = T0;
    const first = await startServer({ dir, clock, env: { LOOM_RETENTION_DAYS: '7' } });
    const run = await first.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Ada' }, wait: true });
    await first.close();

    clock.time = T0 + 6 * DAY;
    const soon = await startServer({ dir, clock, env: { LOOM_RETENTION_DAYS: '7' } });
    servers.push(soon);
    expect((await soon.api.runs.get.query({ runId: run.id })).eventsPrunedAt).toBeNull();
    await servers.pop()!.close();

    clock.time = T0 + 8 * DAY;
    const later = await startServer({ dir, clock, env: { LOOM_RETENTION_DAYS: '7' } });
    servers.push(later);
    expect((await later.api.runs.get.query({ runId: run.id })).eventsPrunedAt).toBe(T0 + 8 * DAY);
    expect((await apiError(later.api.runs.replay.query({ runId: run.id }))).data?.code).toBe('CONFLICT');
  });
});
