// Runs through the API of a real server: outputs equal to the CLI's (the golden logs), input
// checks, listing with filters and cursors, event pages, cancelling, and the run queue.
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from '@loom/engine';
import type { RunRecord } from './run-store.js';
import { reduceRun, type FlowInput, type RunEvent } from '@loom/shared';
import {
  allEvents,
  apiError,
  delayChainFlow,
  delayNode,
  expectGapless,
  goldenCases,
  goldenLog,
  joinRun,
  ManualClock,
  openSocket,
  startServer,
  twoStepFlow,
  waitFor,
  waitForRunEnd,
  type TestServer,
} from '../test-support.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** `value` with every number under a `metrics` key matched by any number. */
function anyTimings(value: unknown, underMetrics = false): unknown {
  if (typeof value === 'number' && underMetrics) return expect.any(Number);
  if (Array.isArray(value)) return value.map((v) => anyTimings(v, underMetrics));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, anyTimings(v, underMetrics || k === 'metrics')]));
  return value;
}

const statuses = (nodes: Record<string, { status: string }>) => Object.fromEntries(Object.entries(nodes).map(([id, node]) => [id, node.status]));

/** in -> boom (error.throw) -> out: a run that fails. */
const failingFlow: FlowInput = {
  version: 1,
  id: 'failing',
  name: 'Failing',
  nodes: [
    { id: 'in', kind: 'input' },
    { id: 'boom', kind: 'skill', config: { skill: 'error.throw', params: { message: 'boom', code: 'boom' } } },
    { id: 'out', kind: 'output' },
  ],
  edges: [
    { from: 'in', to: 'boom' },
    { from: 'boom', to: 'out' },
  ],
};

describe('runs.start', () => {
  it('with wait: true answers the finished row, whose output is the CLI\'s, for every example case (run at once, real clock)', async () => {
    t = await startServer();
    const server = t;
    const cases = goldenCases();
    expect(cases.length).toBeGreaterThanOrEqual(15);
    const results = await Promise.all(cases.map((c) => server.api.runs.start.mutate({ flowId: c.flowId, input: c.input, wait: true })));
    for (const [i, c] of cases.entries()) {
      const run = results[i]!;
      const golden = reduceRun(goldenLog(c.name));
      // Pattern outputs carry wall-clock measurements (wallMs, utilization…) under `metrics`,
      // which differ from run to run on a real clock, with the CLI as here.
      expect({ case: c.name, status: run.status, output: run.output }).toEqual({ case: c.name, status: golden.status, output: anyTimings(golden.output) });
      expect(run).toMatchObject({ flowId: c.flowId, flowVersion: 1, origin: 'start', parentRunId: null, input: c.input });
      expect(run.finishedAt).toBeGreaterThanOrEqual(run.startedAt!);
      const replay = await server.api.runs.replay.query({ runId: run.id });
      expect({ case: c.name, nodes: statuses(replay.state.nodes) }).toEqual({ case: c.name, nodes: statuses(golden.nodes) });
      expect(replay.run.lastSeq).toBe(replay.events);
    }
  });

  it('logs exactly the golden log of every example case on a virtual clock (apart from the run id and times)', async () => {
    t = await startServer({ clock: createVirtualClock() });
    for (const c of goldenCases()) {
      const run = await t.api.runs.start.mutate({ flowId: c.flowId, input: c.input, wait: true });
      const comparable = (events: RunEvent[]) => events.map(({ runId: _runId, ts: _ts, ...rest }) => rest);
      expect({ case: c.name, events: comparable(await allEvents(t.caller, run.id)) }).toEqual({ case: c.name, events: comparable(goldenLog(c.name)) });
      expect(run.output).toEqual(reduceRun(goldenLog(c.name)).output);
    }
  });

  it('without wait answers the queued row at once', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: delayChainFlow('slow', 3, 20) });
    const run = await t.api.runs.start.mutate({ flowId: 'slow', input: { a: 1 } });
    expect(run).toMatchObject({ status: 'queued', lastSeq: 0, startedAt: null, finishedAt: null });
    const ended = await waitForRunEnd(t.caller, run.id);
    expect(ended).toMatchObject({ status: 'succeeded', output: 'done after 3 delays: {"a":1}' });
  });

  it('refuses bad input with BAD_REQUEST naming the field, and creates no run', async () => {
    t = await startServer();
    const missing = await apiError(t.api.runs.start.mutate({ flowId: 'hello', input: {} }));
    expect(missing.data?.code).toBe('BAD_REQUEST');
    expect(missing.data?.issues).toEqual([{ path: ['input', 'name'], nodeId: 'in', message: 'missing required input "name"' }]);
    expect(missing.message).toContain('input.name');

    const wrongType = await apiError(t.api.runs.start.mutate({ flowId: 'hello', input: { name: 42 } }));
    expect(wrongType.data?.issues).toEqual([expect.objectContaining({ path: ['input', 'name'], message: expect.stringContaining('must be a string') })]);
    const notObject = await apiError(t.api.runs.start.mutate({ flowId: 'hello', input: 'Ada' }));
    expect(notObject.data?.issues).toEqual([expect.objectContaining({ path: ['input'], message: expect.stringContaining('"name"') })]);

    expect((await apiError(t.api.runs.start.mutate({ flowId: 'nope', input: {} }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.runs.start.mutate({ flowId: 'hello', version: 7, input: { name: 'Ada' } }))).data?.code).toBe('NOT_FOUND');
    expect((await t.api.runs.list.query({})).runs).toEqual([]);
  });

  it('runs an older version when asked', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: twoStepFlow('greeter') });
    await t.api.flows.save.mutate({ id: 'greeter', baseVersion: 1, definition: twoStepFlow('greeter', 'Bye') });
    expect((await t.api.runs.start.mutate({ flowId: 'greeter', input: { name: 'ada' }, wait: true })).output).toBe('Bye, ADA!');
    const old = await t.api.runs.start.mutate({ flowId: 'greeter', version: 1, input: { name: 'ada' }, wait: true });
    expect(old).toMatchObject({ flowVersion: 1, output: 'Hello, ADA!' });
  });
});

describe('runs.list', () => {
  it('filters by flow, status and creation time, and pages with a cursor', async () => {
    const clock = new ManualClock();
    t = await startServer({ clock });
    await t.api.flows.create.mutate({ definition: failingFlow });
    const T0 = Date.UTC(2026, 0, 1);
    const made: { id: string; flowId: string; status: string; at: number }[] = [];
    // Nine runs: three per second, alternating flows; every third fails.
    for (let i = 0; i < 9; i++) {
      clock.time = T0 + Math.floor(i / 3) * 1_000;
      const flowId = i % 3 === 2 ? 'failing' : 'hello';
      const run = await t.api.runs.start.mutate({ flowId, input: { name: `n${i}` }, wait: true });
      made.push({ id: run.id, flowId, status: run.status, at: clock.time });
    }
    expect(made.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'failed', 'succeeded', 'succeeded', 'failed', 'succeeded', 'succeeded', 'failed']);
    const newestFirst = [...made].reverse().map((r) => r.id);

    expect((await t.api.runs.list.query({})).runs.map((r) => r.id)).toEqual(newestFirst);
    expect((await t.api.runs.list.query({ flowId: 'failing' })).runs.map((r) => r.id)).toEqual(newestFirst.filter((id) => made.find((r) => r.id === id)!.flowId === 'failing'));
    expect((await t.api.runs.list.query({ status: ['failed'] })).runs.every((r) => r.status === 'failed')).toBe(true);
    expect((await t.api.runs.list.query({ status: ['failed'] })).runs.length).toBe(3);
    expect((await t.api.runs.list.query({ status: ['succeeded', 'failed'] })).runs.length).toBe(9);
    expect((await t.api.runs.list.query({ status: ['cancelled'] })).runs).toEqual([]);
    // from/to are inclusive bounds on createdAt.
    const middle = await t.api.runs.list.query({ from: T0 + 1_000, to: T0 + 1_000 });
    expect(middle.runs.map((r) => r.id)).toEqual(newestFirst.slice(3, 6));
    expect((await t.api.runs.list.query({ from: T0 + 1_000 })).runs.length).toBe(6);
    expect((await t.api.runs.list.query({ to: T0 + 999 })).runs.length).toBe(3);
    expect((await t.api.runs.list.query({ flowId: 'hello', status: ['succeeded'], from: T0 + 2_000 })).runs.map((r) => r.id)).toEqual(newestFirst.slice(1, 3));

    // Pages of 2, across runs created in the same millisecond: every run once, in order.
    const paged: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await t.api.runs.list.query({ limit: 2, ...(cursor ? { cursor } : {}) });
      pages++;
      paged.push(...page.runs.map((r) => r.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(paged).toEqual(newestFirst);
    expect(pages).toBe(5);
    // Filters and cursor together.
    const first = await t.api.runs.list.query({ flowId: 'hello', limit: 4 });
    const second = await t.api.runs.list.query({ flowId: 'hello', limit: 4, cursor: first.nextCursor! });
    expect([...first.runs, ...second.runs].map((r) => r.id)).toEqual(newestFirst.filter((id) => made.find((r) => r.id === id)!.flowId === 'hello'));
    expect(second.nextCursor).toBeNull();
    expect((await apiError(t.api.runs.list.query({ cursor: 'no-such-run' }))).data?.code).toBe('NOT_FOUND');
  });
});

describe('runs.events', () => {
  it('pages the log with afterSeq, limit and nextAfterSeq: seq 1..N without a gap', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: delayChainFlow('chain', 20, 0) });
    const run = await t.api.runs.start.mutate({ flowId: 'chain', input: {}, wait: true });
    expect(run.status).toBe('succeeded');
    const all = (await t.api.runs.events.query({ runId: run.id })).events;
    // run.started, running + succeeded per node (20 delays, in, done, out), metrics, run.finished
    expect(all.length).toBe(1 + 2 * 23 + 2);
    expectGapless(all);
    expect(run.lastSeq).toBe(all.length);

    const paged: typeof all = [];
    let afterSeq = 0;
    let pages = 0;
    for (;;) {
      const page = await t.api.runs.events.query({ runId: run.id, afterSeq, limit: 7 });
      pages++;
      expect(page.events.length).toBeLessThanOrEqual(7);
      paged.push(...page.events);
      if (page.nextAfterSeq === null) break;
      expect(page.nextAfterSeq).toBe(page.events.at(-1)!.seq);
      afterSeq = page.nextAfterSeq;
    }
    // A full last page still names a next one, which comes back empty.
    expect(pages).toBe(Math.floor(all.length / 7) + 1);
    expect(paged).toEqual(all);
    expect((await t.api.runs.events.query({ runId: run.id, afterSeq: 40, limit: 3 })).events.map((e) => e.seq)).toEqual([41, 42, 43]);
    expect(await t.api.runs.events.query({ runId: run.id, afterSeq: all.length })).toEqual({ events: [], nextAfterSeq: null });
    expect((await apiError(t.api.runs.events.query({ runId: 'nope' }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.runs.events.query({ runId: run.id, limit: 0 }))).data?.code).toBe('BAD_REQUEST');
  });
});

describe('runs.cancel', () => {
  it('cancels a long run: status cancelled, its log ends with run.finished cancelled', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: delayChainFlow('long', 3, 60_000) });
    const run = await t.api.runs.start.mutate({ flowId: 'long', input: {} });
    await waitFor('d1 to be running', async () => (await allEvents(t!.caller, run.id)).some((e) => e.type === 'node.status' && e.nodeId === 'd1' && e.status === 'running'));
    const started = Date.now();
    const answer = await t.api.runs.cancel.mutate({ runId: run.id });
    expect(answer.id).toBe(run.id);
    const ended = await waitForRunEnd(t.caller, run.id);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(ended.status).toBe('cancelled');
    expect(ended.finishedAt).not.toBeNull();
    const events = await allEvents(t.caller, run.id);
    expectGapless(events);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'cancelled' });
    expect(events.filter((e) => e.type === 'run.finished').length).toBe(1);
    const state = reduceRun(events);
    expect(state.nodes['d1']!.status).toBe('cancelled');
    expect(state.nodes['d2']!.status).not.toBe('succeeded');

    const again = await apiError(t.api.runs.cancel.mutate({ runId: run.id }));
    expect(again.data?.code).toBe('CONFLICT');
    expect(again.message).toContain('cancelled');
    expect((await apiError(t.api.runs.cancel.mutate({ runId: 'nope' }))).data?.code).toBe('NOT_FOUND');
  });

  it('answers CONFLICT for a run that already succeeded', async () => {
    t = await startServer();
    const run = await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Ada' }, wait: true });
    const error = await apiError(t.api.runs.cancel.mutate({ runId: run.id }));
    expect(error.data).toMatchObject({ code: 'CONFLICT', httpStatus: 409 });
    expect((await t.api.runs.get.query({ runId: run.id })).status).toBe('succeeded');
  });
});

describe('the run queue (LOOM_MAX_CONCURRENT_RUNS=1)', () => {
  it('keeps a second run queued until the first ends, and cancels a queued run', async () => {
    t = await startServer({ env: { LOOM_MAX_CONCURRENT_RUNS: '1' } });
    const server = t;
    // The first run waits until the test ends it (by cancelling it), whatever the machine's speed.
    const gate: FlowInput = { ...delayChainFlow('gate', 1, 0), nodes: [{ id: 'in', kind: 'input' }, delayNode('d1', 60_000), { id: 'done', kind: 'skill', config: { skill: 'noop' } }, { id: 'out', kind: 'output' }] };
    await t.api.flows.create.mutate({ definition: gate });
    const watcher = await openSocket(t.url);
    const updates: RunRecord[] = [];
    watcher.on('run:updated', (run) => updates.push(run));
    watcher.emit('runs:watch');
    await joinRun(watcher, 'sync-probe', 0); // answered after runs:watch was handled
    const first = await t.api.runs.start.mutate({ flowId: 'gate', input: { i: 1 } });
    const second = await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'second' } });
    const third = await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'third' } });
    expect([first.status, second.status, third.status]).toEqual(['queued', 'queued', 'queued']);

    await waitFor('the first run to start', async () => (await server.caller.runs.get({ runId: first.id })).status === 'running');
    expect(server.server.services.runs.queueDepth).toBe(2);
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ ok: true, activeRuns: 1, queueDepth: 2 });
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^loom_run_queue_depth 2$/m);

    // A queued run is cancelled without ever starting: no events.
    const cancelled = await t.api.runs.cancel.mutate({ runId: third.id });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.startedAt).toBeNull();
    expect(cancelled.error?.code).toBe('cancelled');
    expect((await t.api.runs.events.query({ runId: third.id })).events).toEqual([]);
    expect(server.server.services.runs.queueDepth).toBe(1);

    // Still running 'first': the second waits.
    const secondMeanwhile = await t.api.runs.get.query({ runId: second.id });
    const firstMeanwhile = await t.api.runs.get.query({ runId: first.id });
    expect(firstMeanwhile.status).toBe('running');
    expect(secondMeanwhile.status).toBe('queued');
    expect(secondMeanwhile.lastSeq).toBe(0);

    expect((await t.api.runs.get.query({ runId: second.id })).status).toBe('queued');
    await t.api.runs.cancel.mutate({ runId: first.id });
    const firstEnded = await waitForRunEnd(t.caller, first.id);
    const secondEnded = await waitForRunEnd(t.caller, second.id);
    expect(firstEnded.status).toBe('cancelled');
    expect(secondEnded).toMatchObject({ status: 'succeeded', output: 'Hello, second! Welcome to Loom.' });
    expect(secondEnded.startedAt!).toBeGreaterThanOrEqual(firstEnded.finishedAt!);
    expect((await t.api.runs.get.query({ runId: third.id })).status).toBe('cancelled');
    expect((await apiError(t.api.runs.cancel.mutate({ runId: third.id }))).data?.code).toBe('CONFLICT');
    expect(server.server.services.runs.queueDepth).toBe(0);

    await joinRun(watcher, 'sync-probe', 0);
    watcher.close();
    const seen = (id: string) => updates.filter((u) => u.id === id).map((u) => u.status);
    expect(seen(first.id)).toEqual(['queued', 'running', 'cancelled']);
    // (A run short enough to start and end in one commit may skip `running`: see live.int.test.ts.)
    expect([seen(second.id)[0], seen(second.id).at(-1)]).toEqual(['queued', 'succeeded']);
    expect(seen(third.id)).toEqual(['queued', 'cancelled']);
  });

  it('never runs more than the limit at once, and starts queued runs in order (limit 3, 12 runs)', async () => {
    t = await startServer({ env: { LOOM_MAX_CONCURRENT_RUNS: '3' } });
    const server = t;
    await t.api.flows.create.mutate({ definition: delayChainFlow('short', 2, 15) });
    const started = [];
    for (let i = 0; i < 12; i++) started.push(await t.api.runs.start.mutate({ flowId: 'short', input: { i } }));
    const ended = await Promise.all(started.map((run) => waitForRunEnd(server.caller, run.id)));
    expect(ended.map((r) => r.status)).toEqual(Array(12).fill('succeeded'));
    expect(ended.map((r) => r.output)).toEqual(started.map((_, i) => `done after 2 delays: {"i":${i}}`));
    // Runs going at the moment each one started (a run that ended in that millisecond is not).
    const going = ended.map((a) => ended.filter((b) => b.startedAt! <= a.startedAt! && a.startedAt! < b.finishedAt!).length);
    expect(Math.max(...going)).toBeLessThanOrEqual(3);
    expect(Math.max(...going)).toBeGreaterThan(1);
    for (let i = 1; i < ended.length; i++) expect(ended[i]!.startedAt!).toBeGreaterThanOrEqual(ended[i - 1]!.startedAt!);
  });
});
