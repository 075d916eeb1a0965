// Flows through the API of a real server: versions, optimistic concurrency, validation with
// paths, not-found answers, the seeded templates.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlowInput } from '@loom/shared';
import { allEvents, apiError, delayChainFlow, expectGapless, REPO_ROOT, startServer, twoStepFlow, waitFor, waitForRunEnd, type TestServer } from '../test-support.js';

let t: TestServer;
beforeEach(async () => {
  t = await startServer();
});
afterEach(async () => {
  await t.close();
});

// In file-name order (`coordinator-with-failures.json` before `coordinator.json`), as the catalog reads them.
const exampleNames = readdirSync(join(REPO_ROOT, 'examples'))
  .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json'))
  .sort()
  .map((f) => f.replace(/\.json$/, ''));

describe('flows', () => {
  it('creates, lists, gets, saves, lists versions, restores, duplicates and deletes', async () => {
    const created = await t.api.flows.create.mutate({ definition: twoStepFlow('greeter'), message: 'first' });
    expect(created).toMatchObject({ id: 'greeter', name: 'Two steps', version: 1, currentVersion: 1 });
    expect(created.definition).toEqual(expect.objectContaining({ id: 'greeter', nodes: expect.any(Array) }));
    expect((await t.api.flows.list.query()).find((f) => f.id === 'greeter')).toMatchObject({ currentVersion: 1, nodeCount: 4 });

    // A second create with the same id gets a free one.
    expect((await t.api.flows.create.mutate({ definition: twoStepFlow('greeter') })).id).toBe('greeter-2');

    const v2 = await t.api.flows.save.mutate({ id: 'greeter', baseVersion: 1, definition: { ...twoStepFlow('greeter', 'Hi'), name: 'Greeter v2' }, message: 'say hi' });
    expect(v2).toMatchObject({ id: 'greeter', version: 2, currentVersion: 2, name: 'Greeter v2' });
    expect((await t.api.flows.get.query({ id: 'greeter' })).definition.name).toBe('Greeter v2');
    expect((await t.api.flows.get.query({ id: 'greeter', version: 1 })).definition.name).toBe('Two steps');

    // A document cannot rename the flow it is saved into.
    const v3 = await t.api.flows.save.mutate({ id: 'greeter', baseVersion: 2, definition: { ...twoStepFlow('other-id', 'Hey') } });
    expect(v3.definition.id).toBe('greeter');

    const restored = await t.api.flows.restore.mutate({ id: 'greeter', version: 1, baseVersion: 3 });
    expect(restored.version).toBe(4);
    expect(restored.definition).toEqual((await t.api.flows.get.query({ id: 'greeter', version: 1 })).definition);
    const versions = await t.api.flows.versions.query({ id: 'greeter' });
    expect(versions.map((v) => [v.version, v.message, v.restoredFrom])).toEqual([
      [4, 'restored version 1', 1],
      [3, '', null],
      [2, 'say hi', null],
      [1, 'first', null],
    ]);
    expect(versions[0]!.hash).toBe(versions[3]!.hash);
    expect(versions[1]!.hash).not.toBe(versions[3]!.hash);

    const copy = await t.api.flows.duplicate.mutate({ id: 'greeter' });
    expect(copy).toMatchObject({ id: 'greeter-copy', name: 'Two steps (copy)', version: 1 });
    expect({ ...copy.definition, id: 'greeter', name: 'Two steps' }).toEqual(restored.definition);
    expect((await t.api.flows.duplicate.mutate({ id: 'greeter', name: 'Mine' })).name).toBe('Mine');

    expect(await t.api.flows.delete.mutate({ id: 'greeter' })).toEqual({ deleted: 'greeter' });
    expect((await t.api.flows.list.query()).map((f) => f.id)).not.toContain('greeter');
    expect((await apiError(t.api.flows.get.query({ id: 'greeter' }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.flows.versions.query({ id: 'greeter' }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.flows.delete.mutate({ id: 'greeter' }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.flows.save.mutate({ id: 'greeter', baseVersion: 4, definition: twoStepFlow('greeter') }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.flows.duplicate.mutate({ id: 'greeter' }))).data?.code).toBe('NOT_FOUND');
    // The copy is a flow of its own.
    expect((await t.api.flows.get.query({ id: 'greeter-copy' })).version).toBe(1);
  });

  it('refuses a save based on a stale version: CONFLICT, nothing saved', async () => {
    await t.api.flows.create.mutate({ definition: twoStepFlow('race') });
    await t.api.flows.save.mutate({ id: 'race', baseVersion: 1, definition: twoStepFlow('race', 'First editor') });
    const error = await apiError(t.api.flows.save.mutate({ id: 'race', baseVersion: 1, definition: twoStepFlow('race', 'Second editor') }));
    expect(error.data?.code).toBe('CONFLICT');
    expect(error.data?.httpStatus).toBe(409);
    expect(error.message).toContain('version 2');
    expect((await t.api.flows.versions.query({ id: 'race' })).length).toBe(2);
    const current = await t.api.flows.get.query({ id: 'race' });
    expect(current.version).toBe(2);
    expect(JSON.stringify(current.definition)).toContain('First editor');
    // Of saves racing from the same base, exactly one wins.
    const racing = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((who) => t.api.flows.save.mutate({ id: 'race', baseVersion: 2, definition: twoStepFlow('race', `Racer ${who}`) })));
    expect(racing.filter((r) => r.status === 'fulfilled').length).toBe(1);
    expect(racing.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.data?.code)).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT']);
    expect((await t.api.flows.versions.query({ id: 'race' })).length).toBe(3);
    // A restore on a stale base is refused the same way.
    expect((await apiError(t.api.flows.restore.mutate({ id: 'race', version: 1, baseVersion: 1 }))).data?.code).toBe('CONFLICT');
    expect((await apiError(t.api.flows.restore.mutate({ id: 'race', version: 9, baseVersion: 3 }))).data?.code).toBe('NOT_FOUND');
    expect((await t.api.flows.versions.query({ id: 'race' })).length).toBe(3);
  });

  it('refuses invalid documents with BAD_REQUEST and every issue at its path, creating nothing', async () => {
    const before = await t.api.flows.list.query();
    const edgeToNowhere: FlowInput = {
      version: 1,
      id: 'broken',
      name: 'Broken',
      nodes: [
        { id: 'in', kind: 'input' },
        { id: 'out', kind: 'output' },
      ],
      edges: [
        { from: 'in', to: 'out' },
        { from: 'in', to: 'ghost' },
      ],
    };
    const missing = await apiError(t.api.flows.create.mutate({ definition: edgeToNowhere }));
    expect(missing.data?.code).toBe('BAD_REQUEST');
    expect(missing.data?.httpStatus).toBe(400);
    expect(missing.data?.issues).toEqual([expect.objectContaining({ path: ['edges', 1, 'to'], message: expect.stringContaining('no node "ghost"') })]);

    const wrongKind = { ...edgeToNowhere, nodes: [{ id: 'in', kind: 'input' }, { id: 'x', kind: 'banana' }, { id: 'out', kind: 'output' }], edges: [{ from: 'in', to: 'out' }] };
    const kind = await apiError(t.api.flows.create.mutate({ definition: wrongKind }));
    expect(kind.data?.code).toBe('BAD_REQUEST');
    expect(kind.data?.issues).toEqual([expect.objectContaining({ path: ['nodes', 1, 'kind'], nodeId: 'x', message: expect.stringContaining('unknown node kind "banana"') })]);

    expect(await t.api.flows.list.query()).toEqual(before);

    // A save of an invalid document leaves the flow as it was.
    await t.api.flows.create.mutate({ definition: twoStepFlow('valid') });
    const save = await apiError(t.api.flows.save.mutate({ id: 'valid', baseVersion: 1, definition: { ...edgeToNowhere, id: 'valid' } }));
    expect(save.data?.code).toBe('BAD_REQUEST');
    expect(save.data?.issues?.map((i) => i.path)).toEqual([['edges', 1, 'to']]);
    expect((await t.api.flows.versions.query({ id: 'valid' })).length).toBe(1);
  });

  it('validates without saving: schema and graph issues, and what would stop a run', async () => {
    const before = await t.api.flows.list.query();
    expect(await t.api.flows.validate.mutate({ definition: twoStepFlow('check') })).toEqual({ ok: true, issues: [], problems: [] });
    const unconnected = await t.api.flows.validate.mutate({ definition: { ...twoStepFlow('check'), edges: [] } });
    expect(unconnected.ok).toBe(false);
    expect(unconnected.issues).toEqual([]);
    expect(unconnected.problems.map((i) => i.path)).toEqual([['nodes', 1], ['nodes', 2], ['nodes', 3]]);
    const broken = await t.api.flows.validate.mutate({ definition: { ...twoStepFlow('check'), edges: [{ from: 'in', to: 'nowhere' }] } });
    expect(broken.ok).toBe(false);
    expect(broken.issues.map((i) => i.path)).toEqual([['edges', 0, 'to']]);
    expect(await t.api.flows.list.query()).toEqual(before);
  });

  it('saves a flow still being drawn (unconnected nodes) but will not run it', async () => {
    const draft = await t.api.flows.create.mutate({ definition: { ...twoStepFlow('draft'), edges: [{ from: 'in', to: 'upper' }] } });
    expect(draft.version).toBe(1);
    const got = await t.api.flows.get.query({ id: 'draft' });
    expect(got.problems.map((p) => [p.path, p.nodeId])).toEqual([
      [['nodes', 2], 'greet'],
      [['nodes', 3], 'out'],
    ]);
    const refused = await apiError(t.api.runs.start.mutate({ flowId: 'draft', input: { name: 'x' } }));
    expect(refused.data?.code).toBe('BAD_REQUEST');
    expect(refused.data?.issues?.map((i) => i.path)).toEqual([['nodes', 2], ['nodes', 3]]);
    expect((await t.api.runs.list.query({ flowId: 'draft' })).runs).toEqual([]);
    // Connected, it runs.
    await t.api.flows.save.mutate({ id: 'draft', baseVersion: 1, definition: twoStepFlow('draft') });
    expect((await t.api.flows.get.query({ id: 'draft' })).problems).toEqual([]);
    expect((await t.api.runs.start.mutate({ flowId: 'draft', input: { name: 'x' }, wait: true })).output).toBe('Hello, X!');
  });

  it('answers NOT_FOUND (HTTP 404) for a missing flow or version', async () => {
    const flow = await apiError(t.api.flows.get.query({ id: 'no-such-flow' }));
    expect(flow.data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
    expect(flow.message).toContain('no-such-flow');
    const version = await apiError(t.api.flows.get.query({ id: 'hello', version: 99 }));
    expect(version.data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });

    const raw = await fetch(`${t.url}/trpc/flows.get?input=${encodeURIComponent(JSON.stringify({ id: 'hello', version: 99 }))}`);
    expect(raw.status).toBe(404);
    expect(((await raw.json()) as { error: { data: { code: string } } }).error.data.code).toBe('NOT_FOUND');
  });

  it('starts with every example seeded as a flow, and makes flows from templates', async () => {
    const flows = await t.api.flows.list.query();
    expect(flows.map((f) => f.id).sort()).toEqual([...exampleNames].sort());
    expect(flows.every((f) => f.currentVersion === 1)).toBe(true);

    const templates = await t.api.templates.list.query();
    expect(templates.map((tpl) => tpl.name)).toEqual(exampleNames);
    const hello = templates.find((tpl) => tpl.name === 'hello')!;
    expect(hello).toMatchObject({ title: 'Hello', sampleInput: { name: 'Ada' } });

    const used = await t.api.templates.use.mutate({ name: 'hello' });
    expect(used).toMatchObject({ id: 'hello-2', name: 'Hello', version: 1 });
    expect({ ...used.definition, id: 'hello' }).toEqual((await t.api.flows.get.query({ id: 'hello' })).definition);
    expect((await t.api.flows.versions.query({ id: 'hello-2' }))[0]!.message).toBe('from template hello');
    expect((await t.api.flows.list.query()).length).toBe(exampleNames.length + 1);
    expect((await apiError(t.api.templates.use.mutate({ name: 'nope' }))).data?.code).toBe('NOT_FOUND');
  });

  it('deleting a flow removes its finished runs', async () => {
    const run = await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Ada' }, wait: true });
    expect(run.status).toBe('succeeded');
    await t.api.flows.delete.mutate({ id: 'hello' });
    expect((await apiError(t.api.runs.get.query({ runId: run.id }))).data?.code).toBe('NOT_FOUND');
    expect((await t.api.runs.list.query({})).runs.map((r) => r.id)).not.toContain(run.id);
  });

  it("refuses to delete a flow while one of its runs is going (CONFLICT), without disturbing another flow's run", async () => {
    await t.api.flows.create.mutate({ definition: delayChainFlow('busy', 400, 5) });
    await t.api.flows.create.mutate({ definition: delayChainFlow('other', 40, 5) });
    const busy = await t.api.runs.start.mutate({ flowId: 'busy', input: { n: 1 } });
    const other = await t.api.runs.start.mutate({ flowId: 'other', input: { n: 2 } });
    await waitFor('both runs to be running', async () => (await t.caller.runs.get({ runId: other.id })).lastSeq > 5 && (await t.caller.runs.get({ runId: busy.id })).lastSeq > 5);
    const refused = await apiError(t.api.flows.delete.mutate({ id: 'busy' }));
    expect(refused.data?.code).toBe('CONFLICT');
    expect(refused.message).toContain('unfinished run');
    expect((await t.api.flows.get.query({ id: 'busy' })).id).toBe('busy');

    const ended = await waitForRunEnd(t.caller, other.id);
    expect(ended.status).toBe('succeeded');
    expect(ended.output).toBe('done after 40 delays: {"n":2}');
    const events = await allEvents(t.caller, other.id);
    expectGapless(events);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });

    await t.api.runs.cancel.mutate({ runId: busy.id });
    await waitForRunEnd(t.caller, busy.id);
    expect(await t.api.flows.delete.mutate({ id: 'busy' })).toEqual({ deleted: 'busy' });
    expect((await apiError(t.api.runs.get.query({ runId: busy.id }))).data?.code).toBe('NOT_FOUND');
  });
});
