// Export, import and share links through the API of a real server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FLOW_LIMITS, type FlowInput } from '@loom/shared';
import { apiError, startServer, twoStepFlow, type TestServer } from '../test-support.js';

let t: TestServer;
beforeEach(async () => {
  t = await startServer();
});
afterEach(async () => {
  await t.close();
});

const SECRET = 'sk-live-0123456789-do-not-leak';

/** A flow calling an API with a literal Authorization header, and one credential by name. */
const leakyFlow: FlowInput = {
  version: 1,
  id: 'leaky',
  name: 'Leaky',
  description: 'Calls an API two ways',
  nodes: [
    { id: 'in', kind: 'input' },
    { id: 'literal', kind: 'skill', config: { skill: 'http.request', params: { url: 'https://api.example.test/a', headers: { Authorization: `Bearer ${SECRET}` } } } },
    { id: 'named', kind: 'skill', config: { skill: 'http.request', params: { url: 'https://api.example.test/b', auth: { credential: 'example-key' } } } },
    { id: 'out', kind: 'output' },
  ],
  edges: [
    { from: 'in', to: 'literal' },
    { from: 'literal', to: 'named' },
    { from: 'named', to: 'out' },
  ],
  settings: { allowHosts: ['api.example.test'] },
};

/** Calls `flows.import` and returns its BAD_REQUEST issues, checking that no flow was created. */
async function refusedImport(text: string) {
  const before = await t.api.flows.list.query();
  const error = await apiError(t.api.flows.import.mutate({ text }));
  expect(error.data?.code).toBe('BAD_REQUEST');
  expect(error.data?.httpStatus).toBe(400);
  expect(await t.api.flows.list.query()).toEqual(before);
  return error.data?.issues ?? [];
}

describe('export and import', () => {
  it('round-trips every seeded flow into a new, identical flow', async () => {
    const flows = await t.api.flows.list.query();
    await Promise.all(
      flows.map(async (summary) => {
        const original = await t.api.flows.get.query({ id: summary.id });
        const exported = await t.api.flows.export.query({ id: summary.id });
        expect(exported.fileName).toBe(`${summary.id}.loom.json`);
        expect(exported.strippedSecrets).toEqual([]);
        const { flow, warnings, missingCredentials } = await t.api.flows.import.mutate({ text: exported.text });
        expect(flow.id).toBe(`${summary.id}-2`);
        expect(flow.version).toBe(1);
        expect({ id: summary.id, definition: { ...flow.definition, id: summary.id } }).toEqual({ id: summary.id, definition: original.definition });
        expect(flow.name).toBe(original.name);
        expect(flow.description).toBe(original.description);
        expect(warnings).toEqual([]);
        expect(missingCredentials).toEqual([]);
      }),
    );
    expect((await t.api.flows.list.query()).length).toBe(flows.length * 2);
    expect((await t.api.flows.versions.query({ id: 'hello-2' }))[0]!.message).toBe('imported');
  });

  it('round-trips a flow still being drawn (unconnected nodes), which can be saved, so also exported and imported', async () => {
    const draft = { ...twoStepFlow('draft'), edges: [{ from: 'in', to: 'upper' }] };
    const saved = await t.api.flows.create.mutate({ definition: draft });
    const exported = await t.api.flows.export.query({ id: 'draft' });
    const { flow } = await t.api.flows.import.mutate({ text: exported.text });
    expect({ ...flow.definition, id: 'draft' }).toEqual(saved.definition);
    // As a bare flow file too.
    expect((await t.api.flows.import.mutate({ text: JSON.stringify(draft) })).flow.id).toBe('draft-3');
  });

  it('carries notes (also inside a sub-flow) through save, export and import unchanged', async () => {
    const inner = { ...twoStepFlow('inner'), notes: [{ id: 'inside', text: 'inner note', position: { x: 0, y: 90 } }] };
    const withNotes = {
      ...twoStepFlow('noted'),
      nodes: [...twoStepFlow('noted').nodes, { id: 'group', kind: 'subflow' as const, config: { flow: inner } }],
      notes: [{ id: 'why', text: 'Upper-cases the name.\nAsk Ada first.', position: { x: 40, y: -120 }, size: { width: 260, height: 140 }, color: 'blue' as const }],
    };
    const saved = await t.api.flows.create.mutate({ definition: withNotes });
    expect(saved.definition.notes).toEqual(withNotes.notes);
    const exported = await t.api.flows.export.query({ id: 'noted' });
    const { flow } = await t.api.flows.import.mutate({ text: exported.text });
    expect({ ...flow.definition, id: 'noted' }).toEqual(saved.definition);
    expect((flow.definition.nodes.find((n) => n.id === 'group') as { config: { flow: { notes: unknown } } }).config.flow.notes).toEqual(inner.notes);
  });

  it('imports a bare flow file too', async () => {
    const { flow } = await t.api.flows.import.mutate({ text: JSON.stringify(twoStepFlow('bare')) });
    expect(flow).toMatchObject({ id: 'bare', name: 'Two steps', version: 1 });
  });

  it('strips a literal Authorization header on export and says so; credentials travel by name', async () => {
    await t.api.flows.create.mutate({ definition: leakyFlow });
    // Stored as written: only the export strips it.
    expect(JSON.stringify(await t.api.flows.get.query({ id: 'leaky' }))).toContain(SECRET);
    const exported = await t.api.flows.export.query({ id: 'leaky' });
    expect(exported.text).not.toContain(SECRET);
    expect(exported.text).not.toContain('sk-live');
    expect(exported.strippedSecrets).toEqual([{ path: 'nodes[1].config.params.headers.Authorization', reason: expect.stringContaining('Authorization') }]);
    expect(exported.credentials).toEqual(['example-key']);
    const file = JSON.parse(exported.text) as { format: string; flow: { nodes: { config: { params: { headers?: Record<string, string> } } }[] } };
    expect(file.format).toBe('loom.flow');
    expect(file.flow.nodes[1]!.config.params.headers).toEqual({ Authorization: '' });

    const imported = await t.api.flows.import.mutate({ text: exported.text });
    expect(imported.flow.id).toBe('leaky-2');
    expect(imported.credentials).toEqual(['example-key']);
    expect(imported.missingCredentials).toEqual(['example-key']);
    expect(imported.warnings).toEqual([expect.objectContaining({ path: ['strippedSecrets'], message: expect.stringContaining('nodes[1].config.params.headers.Authorization') })]);
    expect(JSON.stringify(imported)).not.toContain(SECRET);

    await t.api.credentials.set.mutate({ name: 'example-key', value: 'whatever-value-123' });
    expect((await t.api.flows.import.mutate({ text: exported.text })).missingCredentials).toEqual([]);
  });

  it('refuses malformed JSON, with where it broke', async () => {
    expect(await refusedImport('{ "version": 1, nope')).toEqual([{ path: [], message: expect.stringMatching(/^not valid JSON: .*line 1, column/) }]);
  });

  it('refuses a text over the size limit', async () => {
    const text = JSON.stringify(twoStepFlow('big')) + ' '.repeat(FLOW_LIMITS.maxBytes);
    expect(await refusedImport(text)).toEqual([{ path: [], message: `file is ${Buffer.byteLength(text)} bytes; the limit is ${FLOW_LIMITS.maxBytes} bytes` }]);
  });

  it('refuses __proto__ keys anywhere, without polluting prototypes', async () => {
    const text = JSON.stringify(twoStepFlow('proto')).replace('"params":{"expression"', '"params":{"__proto__":{"polluted":true},"expression"');
    expect(text).toContain('__proto__');
    const issues = await refusedImport(text);
    expect(issues).toEqual([{ path: ['nodes', 1, 'config', 'params', '__proto__'], message: 'key "__proto__" is not allowed' }]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const exported = JSON.parse((await t.api.flows.export.query({ id: 'hello' })).text) as Record<string, unknown>;
    const inEnvelope = JSON.stringify(exported).replace('"format":', '"__proto__":{"x":1},"format":');
    expect((await refusedImport(inEnvelope)).map((i) => i.path)).toEqual([['__proto__']]);
  });

  it('refuses an unknown format or format version', async () => {
    const file = JSON.parse((await t.api.flows.export.query({ id: 'hello' })).text) as Record<string, unknown>;
    expect(await refusedImport(JSON.stringify({ ...file, format: 'other.tool' }))).toEqual([{ path: ['format'], message: expect.stringContaining('unknown format "other.tool"') }]);
    expect((await refusedImport(JSON.stringify({ ...file, formatVersion: 99 }))).map((i) => i.path)).toEqual([['formatVersion']]);
  });

  it('refuses a flow with a graph error, at its path inside the file', async () => {
    const file = JSON.parse((await t.api.flows.export.query({ id: 'hello' })).text) as { flow: { edges: { from: string; to: string }[] } };
    file.flow.edges.push({ from: 'greet', to: 'ghost' });
    const issues = await refusedImport(JSON.stringify(file));
    expect(issues).toEqual([expect.objectContaining({ path: ['flow', 'edges', 2, 'to'], message: expect.stringContaining('no node "ghost"') })]);
  });

  it('answers NOT_FOUND for the export of a missing flow or version', async () => {
    expect((await apiError(t.api.flows.export.query({ id: 'nope' }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.flows.export.query({ id: 'hello', version: 5 }))).data?.code).toBe('NOT_FOUND');
  });
});

describe('share links', () => {
  it('opens the flow read-only by token, following the latest version unless pinned', async () => {
    await t.api.flows.create.mutate({ definition: twoStepFlow('shared-flow') });
    const latest = await t.api.flows.share.mutate({ id: 'shared-flow' });
    expect(latest).toMatchObject({ flowId: 'shared-flow', version: null });
    expect(latest.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const pinned = await t.api.flows.share.mutate({ id: 'shared-flow', version: 1 });
    expect(pinned.token).not.toBe(latest.token);

    const opened = await t.api.flows.shared.query({ token: latest.token });
    const flow = await t.api.flows.get.query({ id: 'shared-flow' });
    // Only what a reader needs: no share list, no version history, no problems.
    expect(opened).toEqual({ id: 'shared-flow', name: flow.name, description: flow.description, version: 1, definition: flow.definition });

    await t.api.flows.save.mutate({ id: 'shared-flow', baseVersion: 1, definition: twoStepFlow('shared-flow', 'Ahoy') });
    expect((await t.api.flows.shared.query({ token: latest.token })).version).toBe(2);
    expect(JSON.stringify((await t.api.flows.shared.query({ token: latest.token })).definition)).toContain('Ahoy');
    expect((await t.api.flows.shared.query({ token: pinned.token })).version).toBe(1);

    expect((await t.api.flows.shares.query({ id: 'shared-flow' })).map((s) => s.token).sort()).toEqual([latest.token, pinned.token].sort());
  });

  it('answers NOT_FOUND for an unknown or revoked token, and for links to a deleted flow', async () => {
    await t.api.flows.create.mutate({ definition: twoStepFlow('temp') });
    const a = await t.api.flows.share.mutate({ id: 'temp' });
    const b = await t.api.flows.share.mutate({ id: 'temp', version: 1 });
    expect((await apiError(t.api.flows.shared.query({ token: 'AAAAAAAAAAAAAAAAAAAAAA' }))).data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });

    expect(await t.api.flows.unshare.mutate({ token: a.token })).toEqual({ revoked: a.token });
    expect((await apiError(t.api.flows.shared.query({ token: a.token }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.flows.unshare.mutate({ token: a.token }))).data?.code).toBe('NOT_FOUND');
    expect((await t.api.flows.shares.query({ id: 'temp' })).map((s) => s.token)).toEqual([b.token]);
    expect((await t.api.flows.shared.query({ token: b.token })).id).toBe('temp');

    await t.api.flows.delete.mutate({ id: 'temp' });
    expect((await apiError(t.api.flows.shared.query({ token: b.token }))).data?.code).toBe('NOT_FOUND');
    // A new flow under the same id does not revive old links.
    await t.api.flows.create.mutate({ definition: twoStepFlow('temp') });
    expect((await apiError(t.api.flows.shared.query({ token: b.token }))).data?.code).toBe('NOT_FOUND');
    expect(await t.api.flows.shares.query({ id: 'temp' })).toEqual([]);
  });

  it('answers NOT_FOUND when sharing a missing flow or version', async () => {
    expect((await apiError(t.api.flows.share.mutate({ id: 'nope' }))).data?.code).toBe('NOT_FOUND');
    expect((await apiError(t.api.flows.share.mutate({ id: 'hello', version: 3 }))).data?.code).toBe('NOT_FOUND');
  });
});
