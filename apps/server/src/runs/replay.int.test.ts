// Replay, fork and resume through a real server: the state rebuilt from the stored log equals
// the live run's row and the state a client rebuilds from the socket stream; forks and resumes
// reuse recorded outputs instead of running nodes again.
import { afterEach, describe, expect, it } from 'vitest';
import { reduceRun, type FlowInput, type RunEvent } from '@loom/shared';
import {
  allEvents,
  apiError,
  delayChainFlow,
  EventCollector,
  expectGapless,
  joinRun,
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

const statuses = (nodes: Record<string, { status: string }>) => Object.fromEntries(Object.entries(nodes).map(([id, node]) => [id, node.status]));
const nodeEvents = (events: RunEvent[], nodeId: string) => events.filter((e): e is Extract<RunEvent, { type: 'node.status' }> => e.type === 'node.status' && e.nodeId === nodeId);
/** Events a node caused by executing: its `running` statuses and everything it logged under its id. */
const executed = (events: RunEvent[], nodeId: string) =>
  events.filter((e) => 'nodeId' in e && e.nodeId === nodeId && !(e.type === 'node.status' && (e.reused || e.status === 'pending' || e.status === 'skipped')));

const REPLAY_CASES = [
  { flowId: 'supervisor', input: { version: 'v2.4.0' } },
  { flowId: 'coordinator', input: { product: 'Aurora Lamp' } },
  { flowId: 'master-worker', input: { topic: 'Electric city buses' } },
  { flowId: 'parallel-skills', input: { product: 'Aurora headphones' } },
  { flowId: 'support-triage', input: { subject: 'Where is my parcel?', body: 'Ordered last week, nothing yet.', orderId: 'A-1042' } },
  { flowId: 'support-triage', input: { subject: 'Checkout is down', body: 'Outage since 9:00' } },
  { flowId: 'parallel-report', input: { orders: [{ customer: 'ana', amount: 50 }, { customer: 'bo', amount: 145 }] } },
];

describe('runs.replay', () => {
  it('rebuilds, for several templates, the state of the live row and of the socket stream', async () => {
    t = await startServer();
    const server = t;
    // The golden inputs, where the example has them.
    const templates = await server.api.templates.list.query();
    const cases = REPLAY_CASES.map((c) => ({ ...c, input: c.flowId === 'support-triage' ? c.input : (templates.find((tpl) => tpl.name === c.flowId)?.sampleInput ?? c.input) }));
    const socket = await openSocket(server.url);
    const collector = new EventCollector(socket);
    try {
      const runs = [];
      for (const c of cases) {
        const run = await server.api.runs.start.mutate({ flowId: c.flowId, input: c.input });
        const ack = await joinRun(socket, run.id, 0);
        expect(ack.ok).toBe(true);
        runs.push(run);
      }
      for (const [i, run] of runs.entries()) {
        const streamed = await collector.finished(run.id);
        const row = await waitForRunEnd(server.caller, run.id);
        const replay = await server.api.runs.replay.query({ runId: run.id });
        const label = `${cases[i]!.flowId} #${i}`;
        expect({ label, status: row.status }).toEqual({ label, status: 'succeeded' });
        expectGapless(streamed);
        expect(streamed).toEqual(await allEvents(server.caller, run.id));
        const fromStream = reduceRun(streamed);
        expect(replay.state).toEqual(JSON.parse(JSON.stringify(fromStream)));
        expect(replay.events).toBe(streamed.length);
        expect(replay.run).toEqual(row);
        expect({ label, status: replay.state.status, output: replay.state.output, error: replay.state.error }).toEqual({ label, status: row.status, output: row.output, error: row.error });
        expect(replay.state.runId).toBe(run.id);
        expect(replay.state.lastSeq).toBe(row.lastSeq);
        expect(Object.values(statuses(replay.state.nodes)).every((s) => s === 'succeeded' || s === 'skipped')).toBe(true);
      }
    } finally {
      socket.close();
    }
  });

  it('gives the state at any seq with atSeq (node statuses mid-run)', async () => {
    t = await startServer();
    const run = await t.api.runs.start.mutate({ flowId: 'supervisor', input: { version: 'v2.4.0' }, wait: true });
    const events = await allEvents(t.caller, run.id);
    expect(events.length).toBeGreaterThan(20);
    for (let seq = 0; seq <= events.length + 1; seq++) {
      const at = await t.api.runs.replay.query({ runId: run.id, atSeq: seq });
      expect({ seq, state: at.state }).toEqual({ seq, state: JSON.parse(JSON.stringify(reduceRun(events.slice(0, seq)))) });
      expect(at.events).toBe(Math.min(seq, events.length));
    }
    // Just before the supervisor finished: it is running, the report after it still pending.
    const shipDone = nodeEvents(events, 'ship').find((e) => e.status === 'succeeded')!;
    const before = await t.api.runs.replay.query({ runId: run.id, atSeq: shipDone.seq - 1 });
    expect(before.state.status).toBe('running');
    expect(statuses(before.state.nodes)).toEqual({ release: 'succeeded', ship: 'running', report: 'pending', out: 'pending' });
    expect(before.state.output).toBeUndefined();
    const at = await t.api.runs.replay.query({ runId: run.id, atSeq: shipDone.seq });
    expect(at.state.nodes['ship']).toMatchObject({ status: 'succeeded', output: shipDone.output });
    // Replaying runs nothing: the row is untouched.
    expect(at.run).toEqual(await t.api.runs.get.query({ runId: run.id }));
    expect((await apiError(t.api.runs.replay.query({ runId: 'nope' }))).data?.code).toBe('NOT_FOUND');
  });
});

describe('runs.fork', () => {
  it('forks a finished run from a middle node: upstream nodes reused, not executed, same output', async () => {
    t = await startServer();
    const input = { orders: [{ customer: 'ana', amount: 50 }, { customer: 'bo', amount: 145 }, { customer: 'ana', amount: 0 }] };
    const parent = await t.api.runs.start.mutate({ flowId: 'parallel-report', input, wait: true });
    expect(parent.status).toBe('succeeded');
    const fork = await t.api.runs.fork.mutate({ runId: parent.id, fromNodeId: 'report' });
    expect(fork).toMatchObject({ parentRunId: parent.id, origin: 'fork', forkNodeId: 'report', flowId: 'parallel-report', flowVersion: 1, input });
    const ended = await waitForRunEnd(t.caller, fork.id);
    expect(ended.status).toBe('succeeded');
    expect(ended.output).toEqual(parent.output);

    const events = await allEvents(t.caller, fork.id);
    expectGapless(events);
    expect(events[0]).toMatchObject({ type: 'run.started', parentRunId: parent.id });
    const upstream = ['in', 'wait_a', 'totals', 'wait_b', 'top', 'wait_c', 'customers', 'gather'];
    for (const nodeId of upstream) {
      expect({ nodeId, events: nodeEvents(events, nodeId).map((e) => [e.status, e.reused]) }).toEqual({ nodeId, events: [['succeeded', true]] });
      expect(executed(events, nodeId)).toEqual([]);
    }
    for (const nodeId of ['report', 'out']) {
      expect({ nodeId, events: nodeEvents(events, nodeId).map((e) => [e.status, e.reused]) }).toEqual({ nodeId, events: [['running', undefined], ['succeeded', undefined]] });
    }
    // Reused outputs are the parent's.
    const parentState = reduceRun(await allEvents(t.caller, parent.id));
    const state = (await t.api.runs.replay.query({ runId: fork.id })).state;
    for (const nodeId of upstream) expect(state.nodes[nodeId]).toMatchObject({ status: 'succeeded', reused: true, output: parentState.nodes[nodeId]!.output });
    // The delays upstream were not waited again.
    expect(ended.finishedAt! - ended.startedAt!).toBeLessThan(parent.finishedAt! - parent.startedAt!);

    // A fork of the fork: its log alone is enough (reused outputs are in it), from a later node.
    const grandchild = await t.api.runs.fork.mutate({ runId: fork.id, fromNodeId: 'out' });
    const grandEnded = await waitForRunEnd(t.caller, grandchild.id);
    expect(grandEnded).toMatchObject({ status: 'succeeded', output: parent.output, parentRunId: fork.id });
    const grandEvents = await allEvents(t.caller, grandchild.id);
    for (const nodeId of [...upstream, 'report']) expect({ nodeId, executed: executed(grandEvents, nodeId) }).toEqual({ nodeId, executed: [] });
  });

  it('forks a supervisor run after the supervisor: the pattern is reused whole, with none of its tasks', async () => {
    t = await startServer();
    const parent = await t.api.runs.start.mutate({ flowId: 'supervisor', input: { version: 'v2.4.0' }, wait: true });
    const fork = await t.api.runs.fork.mutate({ runId: parent.id, fromNodeId: 'report' });
    const ended = await waitForRunEnd(t.caller, fork.id);
    expect(ended).toMatchObject({ status: 'succeeded', output: parent.output });
    const events = await allEvents(t.caller, fork.id);
    expect(executed(events, 'ship')).toEqual([]);
    expect(events.some((e) => e.type.startsWith('task.') || e.type === 'supervision.entry')).toBe(false);
    expect(nodeEvents(events, 'ship')).toEqual([expect.objectContaining({ status: 'succeeded', reused: true })]);
    expect(nodeEvents(events, 'report').map((e) => e.status)).toEqual(['running', 'succeeded']);
  });

  it('runs the edited version of a node saved after the run (the current version by default)', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: twoStepFlow('greeter') });
    const parent = await t.api.runs.start.mutate({ flowId: 'greeter', input: { name: 'ada' }, wait: true });
    expect(parent.output).toBe('Hello, ADA!');
    await t.api.flows.save.mutate({ id: 'greeter', baseVersion: 1, definition: twoStepFlow('greeter', 'Goodbye') });

    const fromGreet = await t.api.runs.fork.mutate({ runId: parent.id, fromNodeId: 'greet' });
    expect(fromGreet.flowVersion).toBe(2);
    const greetEnded = await waitForRunEnd(t.caller, fromGreet.id);
    expect(greetEnded.output).toBe('Goodbye, ADA!');
    const greetEvents = await allEvents(t.caller, fromGreet.id);
    expect(nodeEvents(greetEvents, 'upper')).toEqual([expect.objectContaining({ status: 'succeeded', reused: true, output: 'ADA' })]);

    // Forking after the edited node still runs it again: a changed node's recorded output is never reused.
    const fromOut = await t.api.runs.fork.mutate({ runId: parent.id, fromNodeId: 'out' });
    const outEnded = await waitForRunEnd(t.caller, fromOut.id);
    expect(outEnded.output).toBe('Goodbye, ADA!');
    const outEvents = await allEvents(t.caller, fromOut.id);
    expect(nodeEvents(outEvents, 'greet').map((e) => e.status)).toEqual(['running', 'succeeded']);
    expect(nodeEvents(outEvents, 'upper')[0]?.reused).toBe(true);

    // The parent's own version, when asked for.
    const pinned = await t.api.runs.fork.mutate({ runId: parent.id, fromNodeId: 'greet', version: 1 });
    expect((await waitForRunEnd(t.caller, pinned.id)).output).toBe('Hello, ADA!');
    expect(pinned.flowVersion).toBe(1);
  });

  it('refuses a fork from a node the flow does not have (BAD_REQUEST, no run), and of an unfinished run (CONFLICT)', async () => {
    t = await startServer();
    const parent = await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Ada' }, wait: true });
    const missing = await apiError(t.api.runs.fork.mutate({ runId: parent.id, fromNodeId: 'ghost' }));
    expect(missing.data?.code).toBe('BAD_REQUEST');
    expect(missing.data?.issues).toEqual([{ path: ['fromNodeId'], message: expect.stringContaining('"ghost"') }]);
    expect((await t.api.runs.list.query({})).runs.map((r) => r.id)).toEqual([parent.id]);
    expect((await apiError(t.api.runs.fork.mutate({ runId: 'nope', fromNodeId: 'greet' }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.runs.fork.mutate({ runId: parent.id, fromNodeId: 'greet', version: 9 }))).data?.code).toBe('NOT_FOUND');

    await t.api.flows.create.mutate({ definition: delayChainFlow('slow', 2, 60_000) });
    const running = await t.api.runs.start.mutate({ flowId: 'slow', input: {} });
    await waitFor('the run to start', async () => (await t!.caller.runs.get({ runId: running.id })).status === 'running');
    expect((await apiError(t.api.runs.fork.mutate({ runId: running.id, fromNodeId: 'd2' }))).data?.code).toBe('CONFLICT');
    await t.api.runs.cancel.mutate({ runId: running.id });
  });
});

describe('runs.resume', () => {
  it('resumes a cancelled run: completed nodes reused, the rest run, the same output as a whole run', async () => {
    t = await startServer();
    await t.api.flows.create.mutate({ definition: delayChainFlow('chain', 12, 50) });
    const parent = await t.api.runs.start.mutate({ flowId: 'chain', input: { k: 'v' } });
    await waitFor('two delays to succeed', async () => nodeEvents(await allEvents(t!.caller, parent.id), 'd2').some((e) => e.status === 'succeeded'));
    await t.api.runs.cancel.mutate({ runId: parent.id });
    const cancelled = await waitForRunEnd(t.caller, parent.id);
    expect(cancelled.status).toBe('cancelled');
    const parentState = reduceRun(await allEvents(t.caller, parent.id));
    const done = Object.entries(parentState.nodes).filter(([, n]) => n.status === 'succeeded').map(([id]) => id);
    expect(done).toEqual(expect.arrayContaining(['in', 'd1', 'd2']));
    expect(done).not.toContain('out');

    const resumed = await t.api.runs.resume.mutate({ runId: parent.id });
    expect(resumed).toMatchObject({ origin: 'resume', parentRunId: parent.id, forkNodeId: null, input: { k: 'v' } });
    const ended = await waitForRunEnd(t.caller, resumed.id);
    expect(ended).toMatchObject({ status: 'succeeded', output: 'done after 12 delays: {"k":"v"}' });
    const events = await allEvents(t.caller, resumed.id);
    expectGapless(events);
    for (const nodeId of done) expect({ nodeId, executed: executed(events, nodeId), reused: nodeEvents(events, nodeId)[0]?.reused }).toEqual({ nodeId, executed: [], reused: true });
    const rest = Object.keys(parentState.nodes).filter((id) => !done.includes(id));
    for (const nodeId of rest) expect({ nodeId, statuses: nodeEvents(events, nodeId).map((e) => e.status) }).toEqual({ nodeId, statuses: ['running', 'succeeded'] });

    expect((await apiError(t.api.runs.resume.mutate({ runId: resumed.id }))).data?.code).toBe('CONFLICT');
  });

  it('resumes a failed run from the failed node', async () => {
    t = await startServer();
    const flow: FlowInput = {
      version: 1,
      id: 'flaky',
      name: 'Flaky',
      nodes: [
        { id: 'in', kind: 'input' },
        { id: 'prep', kind: 'skill', config: { skill: 'json.transform', params: { expression: '{ "n": n * 2 }' } } },
        { id: 'boom', kind: 'skill', config: { skill: 'error.throw', params: { message: 'still broken', code: 'broken' } } },
        { id: 'out', kind: 'output' },
      ],
      edges: [
        { from: 'in', to: 'prep' },
        { from: 'prep', to: 'boom' },
        { from: 'boom', to: 'out' },
      ],
    };
    await t.api.flows.create.mutate({ definition: flow });
    const parent = await t.api.runs.start.mutate({ flowId: 'flaky', input: { n: 21 }, wait: true });
    expect(parent.status).toBe('failed');
    const resumed = await t.api.runs.resume.mutate({ runId: parent.id });
    const ended = await waitForRunEnd(t.caller, resumed.id);
    expect(ended.status).toBe('failed');
    expect(ended.error?.message).toContain('still broken');
    const events = await allEvents(t.caller, resumed.id);
    expect(nodeEvents(events, 'prep')).toEqual([expect.objectContaining({ status: 'succeeded', reused: true, output: { n: 42 } })]);
    expect(nodeEvents(events, 'boom').map((e) => e.status)).toEqual(['running', 'failed']);
  });
});
