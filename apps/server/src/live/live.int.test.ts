// The live socket protocol against a real server: catch-up then live events, every event
// exactly once and in order, across late joins, reconnects and many concurrent runs.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '@loom/shared';
import type { RunRecord } from '../runs/run-store.js';
import {
  allEvents,
  delayChainFlow,
  EventCollector,
  expectGapless,
  joinRun,
  openSocket,
  startServer,
  waitFor,
  waitForRunEnd,
  type LoomSocket,
  type TestServer,
} from '../test-support.js';

let t: TestServer | undefined;
const sockets: LoomSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await t?.close();
  t = undefined;
});

async function socketFor(server: TestServer): Promise<LoomSocket> {
  const socket = await openSocket(server.url);
  sockets.push(socket);
  return socket;
}

/** A round trip on the socket: everything the server sent before answering it has arrived. */
async function roundTrip(socket: LoomSocket): Promise<void> {
  await joinRun(socket, 'round-trip-probe', 0);
}

describe('run:join', () => {
  it('a client joining mid-run with afterSeq 0 gets every event exactly once, in seq order (catch-up, then live)', async () => {
    t = await startServer();
    const server = t;
    await t.api.flows.create.mutate({ definition: delayChainFlow('chain', 60, 15) });
    const run = await t.api.runs.start.mutate({ flowId: 'chain', input: { x: 1 } });
    await waitFor('30 events committed', async () => (await server.caller.runs.get({ runId: run.id })).lastSeq >= 30);
    const socket = await socketFor(t);
    const collector = new EventCollector(socket);
    const ack = await joinRun(socket, run.id, 0);
    expect(ack).toMatchObject({ ok: true, status: 'running' });
    const atJoin = ack.ok ? ack.lastSeq : 0;
    expect(atJoin).toBeGreaterThanOrEqual(30);
    const events = await collector.finished(run.id);
    expectGapless(events);
    expect(events).toEqual(await allEvents(t.caller, run.id));
    // Some arrived live, after the join.
    expect(events.length).toBeGreaterThan(atJoin);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
  });

  it('a client that disconnects mid-run and rejoins with its last seq gets the rest: no gap, no duplicate (200-node chain)', async () => {
    t = await startServer();
    const server = t;
    await t.api.flows.create.mutate({ definition: delayChainFlow('long-chain', 200, 1) });
    const run = await t.api.runs.start.mutate({ flowId: 'long-chain', input: {} });
    const socket = await socketFor(t);
    const received: RunEvent[] = [];
    socket.on('run:events', ({ runId, events }) => {
      if (runId === run.id) received.push(...events);
    });
    expect((await joinRun(socket, run.id, 0)).ok).toBe(true);
    await waitFor('100 events on the socket', () => received.length >= 100);
    socket.disconnect();
    const lastSeen = received.at(-1)!.seq;
    const beforeGap = received.length;
    // Events keep being committed while the client is away.
    await waitFor('40 more events committed', async () => (await server.caller.runs.get({ runId: run.id })).lastSeq >= lastSeen + 40);
    expect(received.length).toBe(beforeGap);

    socket.connect();
    await waitFor('the socket to reconnect', () => socket.connected);
    const ack = await joinRun(socket, run.id, lastSeen);
    expect(ack.ok).toBe(true);
    await waitFor('run.finished on the socket', () => received.at(-1)?.type === 'run.finished');
    expectGapless(received);
    expect(received).toEqual(await allEvents(t.caller, run.id));
    expect(received.length).toBe(1 + 2 * 203 + 2);
  });

  it('20 concurrent runs: a client there from the start, one joining late and one reconnecting all get every log exactly once', async () => {
    t = await startServer();
    const server = t;
    await t.api.flows.create.mutate({ definition: delayChainFlow('c', 30, 1) });
    const early = await socketFor(t);
    const earlyCollector = new EventCollector(early);
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => server.api.runs.start.mutate({ flowId: 'c', input: { i } })));
    await Promise.all(runs.map((run) => joinRun(early, run.id, 0)));

    const flaky = await socketFor(t);
    const flakyCollector = new EventCollector(flaky);
    await Promise.all(runs.map((run) => joinRun(flaky, run.id, 0)));
    await waitFor('some events on the reconnecting client', () => runs.every((run) => flakyCollector.lastSeq(run.id) >= 5));
    flaky.disconnect();

    await waitFor('half the events committed', async () => (await server.caller.runs.get({ runId: runs[0]!.id })).lastSeq >= 30);
    const late = await socketFor(t);
    const lateCollector = new EventCollector(late);
    await Promise.all(runs.map((run) => joinRun(late, run.id, 0)));

    flaky.connect();
    await waitFor('the socket to reconnect', () => flaky.connected);
    await Promise.all(runs.map((run) => joinRun(flaky, run.id, flakyCollector.lastSeq(run.id))));

    for (const run of runs) {
      const log = await (async () => {
        await waitForRunEnd(server.caller, run.id);
        return allEvents(server.caller, run.id);
      })();
      expect(log.length).toBe(1 + 2 * 33 + 2);
      for (const [name, collector] of [
        ['early', earlyCollector],
        ['late', lateCollector],
        ['reconnected', flakyCollector],
      ] as const) {
        const events = await collector.finished(run.id);
        expect({ name, seqs: events.map((e) => e.seq) }).toEqual({ name, seqs: log.map((e) => e.seq) });
        expect(events).toEqual(log);
      }
    }
  });

  it('catches up a finished run longer than one catch-up page, in order', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: delayChainFlow('big', 520, 0) });
    const run = await t.api.runs.start.mutate({ flowId: 'big', input: {}, wait: true });
    expect(run.lastSeq).toBeGreaterThan(1_000);
    const socket = await socketFor(t);
    const collector = new EventCollector(socket);
    const ack = await joinRun(socket, run.id, 0);
    expect(ack).toEqual({ ok: true, lastSeq: run.lastSeq, status: 'succeeded' });
    const events = await collector.finished(run.id);
    expectGapless(events);
    expect(events.length).toBe(run.lastSeq);
    expect(collector.batches).toBeGreaterThanOrEqual(2);
    // From the middle: only what follows.
    const other = await socketFor(t);
    const tail = new EventCollector(other);
    expect(await joinRun(other, run.id, 1_000)).toMatchObject({ ok: true, lastSeq: run.lastSeq });
    expect((await tail.finished(run.id)).map((e) => e.seq)).toEqual(Array.from({ length: run.lastSeq - 1_000 }, (_, i) => 1_001 + i));
  });

  it('answers {ok: false, error: "not_found"} for a missing run, and refuses a malformed request', async () => {
    t = await startServer();
    const socket = await socketFor(t);
    expect(await joinRun(socket, 'no-such-run', 0)).toEqual({ ok: false, error: 'not_found' });
    const malformed = await socket.timeout(5_000).emitWithAck('run:join', { runId: '', afterSeq: -1 });
    expect(malformed.ok).toBe(false);
    expect(malformed.ok === false && malformed.error).toContain('invalid run:join request');
  });

  it('run:leave stops the events of that run', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: delayChainFlow('chain', 40, 10) });
    const run = await t.api.runs.start.mutate({ flowId: 'chain', input: {} });
    const socket = await socketFor(t);
    const collector = new EventCollector(socket);
    await joinRun(socket, run.id, 0);
    await waitFor('a few events', () => collector.events(run.id).length >= 5);
    socket.emit('run:leave', { runId: run.id });
    await roundTrip(socket);
    const atLeave = collector.events(run.id).length;
    const ended = await waitForRunEnd(t.caller, run.id);
    await roundTrip(socket);
    expect(collector.events(run.id).length).toBe(atLeave);
    expect(atLeave).toBeLessThan(ended.lastSeq);
  });
});

describe('live metrics', () => {
  it('counts the live messages sent to rooms (not catch-ups, not unwatched runs) and how old their events were', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: delayChainFlow('chain', 10, 5) });
    const run = await t.api.runs.start.mutate({ flowId: 'chain', input: {} });
    const socket = await socketFor(t);
    const collector = new EventCollector(socket);
    const ack = await joinRun(socket, run.id, 0);
    await collector.finished(run.id);
    await t.api.runs.start.mutate({ flowId: 'chain', input: {}, wait: true });
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const value = (series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.slice(series.length + 1));
    const catchUp = ack.ok && ack.lastSeq > 0 ? 1 : 0;
    expect(collector.batches - catchUp).toBeGreaterThan(5);
    expect(value('loom_live_messages_total')).toBe(collector.batches - catchUp);
    expect(value('loom_live_send_delay_seconds_count')).toBe(collector.batches - catchUp);
    expect(value('loom_live_send_delay_seconds_sum')).toBeGreaterThanOrEqual(0);
  });
});

describe('runs:watch', () => {
  it('sends run:updated rows as a run is queued, starts and succeeds', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: delayChainFlow('chain', 3, 5) });
    const socket = await socketFor(t);
    const updates: RunRecord[] = [];
    socket.on('run:updated', (run) => updates.push(run));
    socket.emit('runs:watch');
    await roundTrip(socket);
    const run = await t.api.runs.start.mutate({ flowId: 'chain', input: { w: 1 } });
    const ended = await waitForRunEnd(t.caller, run.id);
    await roundTrip(socket);
    const mine = updates.filter((u) => u.id === run.id);
    expect(mine.map((u) => u.status)).toEqual(['queued', 'running', 'succeeded']);
    expect(mine.at(-1)).toEqual(ended);
    expect(mine[1]!.startedAt).not.toBeNull();
  });

  it('sends the running row of a run that starts and ends within one commit too', async () => {
    t = await startServer();
    const socket = await socketFor(t);
    const updates: RunRecord[] = [];
    socket.on('run:updated', (run) => updates.push(run));
    socket.emit('runs:watch');
    await roundTrip(socket);
    const run = await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Quick' }, wait: true });
    await roundTrip(socket);
    expect(updates.filter((u) => u.id === run.id).map((u) => u.status)).toEqual(['queued', 'running', 'succeeded']);
  });

  it('a socket that does not watch gets no run:updated', async () => {
    t = await startServer();
    const socket = await socketFor(t);
    const updates: RunRecord[] = [];
    socket.on('run:updated', (run) => updates.push(run));
    await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Ada' }, wait: true });
    await roundTrip(socket);
    expect(updates).toEqual([]);
  });
});
