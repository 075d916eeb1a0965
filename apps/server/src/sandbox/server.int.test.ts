import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../test-support.js';
import { gvisorAvailable } from './gvisor.js';

const gvisor = gvisorAvailable();
if (!gvisor.ok) console.warn(`server sandbox tests with gVisor skipped: ${gvisor.reason}`);

const codeFlow = {
  version: 1,
  id: 'code-run',
  name: 'Code run',
  nodes: [
    { id: 'in', kind: 'input', config: { fields: { words: { type: 'array', required: true } } } },
    { id: 'count', kind: 'skill', config: { skill: 'code', params: { code: 'console.log("counting"); return { count: input.words.length, env: Object.keys(process.env).sort() }' } } },
    { id: 'out', kind: 'output' },
  ],
  edges: [
    { from: 'in', to: 'count' },
    { from: 'count', to: 'out' },
  ],
};

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('the server runs code skills in its sandbox', () => {
  it.skipIf(!gvisor.ok)('uses gVisor by default, says so in system.info, and logs the sandbox of each code node', { timeout: 60_000 }, async () => {
    process.env['LOOM_TEST_SERVER_SECRET'] = 'must-not-reach-the-sandbox';
    t = await startServer();
    const info = await t.api.system.info.query();
    expect(info.sandbox).toMatchObject({ driver: 'gvisor', isolation: 'strong', notes: [] });
    await t.api.flows.create.mutate({ definition: codeFlow });
    const run = await t.api.runs.start.mutate({ flowId: 'code-run', input: { words: ['a', 'b', 'c'] }, wait: true });
    expect(run.status).toBe('succeeded');
    const { events } = await t.api.runs.events.query({ runId: run.id, afterSeq: 0, limit: 1000 });
    const finished = events.at(-1)!;
    // Only the allow-listed variables reach the code: none of the server's environment.
    expect(finished).toMatchObject({ type: 'run.finished', output: { count: 3, env: ['HOME', 'NODE_OPTIONS', 'PATH'] } });
    expect(events.filter((e) => e.type.startsWith('sandbox.')).map((e) => e.type)).toEqual(['sandbox.created', 'sandbox.output', 'sandbox.cleaned']);
    expect(events.find((e) => e.type === 'sandbox.cleaned')).toMatchObject({ ok: true, leftovers: [] });

    // A replay is the log alone: the code's result and its output come back without a sandbox.
    const replayed = await t.api.runs.replay.query({ runId: run.id });
    expect(replayed.state).toMatchObject({ status: 'succeeded', output: { count: 3 } });
    expect(replayed.state.nodes['count']).toMatchObject({ status: 'succeeded', output: { count: 3 } });
    // A fork after the code node reuses its recorded result: no new sandbox.
    const fork = await t.api.runs.fork.mutate({ runId: run.id, fromNodeId: 'out' });
    const forked = await t.api.runs.get.query({ runId: fork.id });
    await expect.poll(async () => (await t!.api.runs.get.query({ runId: fork.id })).status, { timeout: 20_000 }).toBe('succeeded');
    const forkEvents = (await t.api.runs.events.query({ runId: forked.id, afterSeq: 0, limit: 1000 })).events;
    expect(forkEvents.some((e) => e.type === 'sandbox.created')).toBe(false);
    expect(forkEvents.find((e) => e.type === 'node.status' && e.nodeId === 'count' && e.status === 'succeeded')).toMatchObject({ reused: true });
  });

  it('with LOOM_SANDBOX=none refuses code with a clear error and reports no sandbox', { timeout: 60_000 }, async () => {
    t = await startServer({ env: { LOOM_SANDBOX: 'none' } });
    expect((await t.api.system.info.query()).sandbox).toMatchObject({ driver: 'none', isolation: 'none' });
    await t.api.flows.create.mutate({ definition: codeFlow });
    const run = await t.api.runs.start.mutate({ flowId: 'code-run', input: { words: [] }, wait: true });
    expect(run.status).toBe('failed');
    const { events } = await t.api.runs.events.query({ runId: run.id, afterSeq: 0, limit: 1000 });
    expect(events.find((e) => e.type === 'node.status' && e.status === 'failed')).toMatchObject({ nodeId: 'count', error: { code: 'sandbox_unavailable', message: expect.stringContaining('untrusted code cannot run') } });
    expect(events.some((e) => e.type.startsWith('sandbox.'))).toBe(false);
  });
});
