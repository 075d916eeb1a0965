import { describe, expect, it } from 'vitest';
import { FLOW_MIGRATIONS, FlowVersionError, migrateFlowDocument, type FlowMigration } from './migrations.js';
import { parseFlow } from './parse.js';
import { FLOW_FORMAT_VERSION } from './schema.js';
import { flowDoc, minimalFlowDoc } from './__fixtures__/flows.js';

/**
 * How a future format 2 would open format 1 files. Suppose v2 renames
 * `settings.concurrency` to `settings.maxParallel` and a node's `name` to `label`.
 * Migrations see raw JSON, so this one checks shapes instead of trusting them.
 */
const v1ToV2: FlowMigration = {
  from: 1,
  to: 2,
  description: 'v2: settings.concurrency is now settings.maxParallel; node "name" is now "label"',
  up(doc) {
    const out: Record<string, unknown> = { ...doc };
    if (isRecord(doc['settings'])) {
      const { concurrency, ...settings } = doc['settings'];
      out['settings'] = concurrency === undefined ? settings : { ...settings, maxParallel: concurrency };
    }
    if (Array.isArray(doc['nodes'])) {
      out['nodes'] = doc['nodes'].map((node: unknown) => {
        if (!isRecord(node) || !('name' in node)) return node;
        const { name, ...rest } = node;
        return { ...rest, label: name };
      });
    }
    return out;
  },
};

/** A later step, to show migrations chain: v3 adds `tags`. */
const v2ToV3: FlowMigration = {
  from: 2,
  to: 3,
  description: 'v3: flows have tags',
  up: (doc) => ({ ...doc, tags: [] }),
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function versionError(fn: () => unknown): FlowVersionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof FlowVersionError) return error;
    throw error;
  }
  throw new Error('expected a FlowVersionError, but nothing was thrown');
}

const v1File = (): Record<string, unknown> => ({
  ...flowDoc([{ id: 'in', kind: 'input', name: 'Question' }, { id: 'out', kind: 'output' }], [{ from: 'in', to: 'out' }]),
  settings: { concurrency: 8, allowHosts: ['example.com'] },
});

describe('the current format', () => {
  it('is version 1 with nothing to migrate', () => {
    expect(FLOW_FORMAT_VERSION).toBe(1);
    expect(FLOW_MIGRATIONS).toEqual([]);
  });

  it('opens a v1 file through parseFlow without migrating it', () => {
    const result = parseFlow(minimalFlowDoc());
    expect(result.ok && result.migrations).toEqual([]);
  });
});

describe('migrateFlowDocument: how a future v2 opens v1 files', () => {
  it('lifts a v1 file to v2 and lists what changed', () => {
    const original = v1File();
    const { doc, applied } = migrateFlowDocument(original, [v1ToV2], 2);
    expect(doc).toEqual({
      version: 2,
      id: 'test-flow',
      name: 'Test flow',
      settings: { maxParallel: 8, allowHosts: ['example.com'] },
      nodes: [{ id: 'in', kind: 'input', label: 'Question' }, { id: 'out', kind: 'output' }],
      edges: [{ from: 'in', to: 'out' }],
    });
    expect(applied).toEqual([v1ToV2.description]);
    expect(original).toEqual(v1File());
  });

  it('stamps the new version even when a step does not set it', () => {
    const forgetful: FlowMigration = { from: 1, to: 2, description: 'no changes', up: (doc) => ({ ...doc }) };
    expect(migrateFlowDocument(v1File(), [forgetful], 2).doc['version']).toBe(2);
  });

  it('leaves a file already at the target version alone', () => {
    const v2 = { ...v1File(), version: 2 };
    expect(migrateFlowDocument(v2, [v1ToV2], 2)).toEqual({ doc: v2, applied: [] });
  });

  it('chains steps oldest first, whatever order they are listed in', () => {
    const { doc, applied } = migrateFlowDocument(v1File(), [v2ToV3, v1ToV2], 3);
    expect(doc).toMatchObject({ version: 3, settings: { maxParallel: 8 }, tags: [] });
    expect(applied).toEqual([v1ToV2.description, v2ToV3.description]);
  });

  it('refuses a v3 file in a v2 build as newer', () => {
    const error = versionError(() => migrateFlowDocument({ ...v1File(), version: 3 }, [v1ToV2], 2));
    expect(error.message).toBe('flow format 3 is newer than this build understands (2); upgrade to open it');
    expect(error.path).toEqual(['version']);
  });

  it('names the missing step of a broken chain', () => {
    expect(versionError(() => migrateFlowDocument(v1File(), [v1ToV2], 3)).message).toBe('no migration from flow format 2 to 3');
    expect(versionError(() => migrateFlowDocument(v1File(), [v2ToV3], 3)).message).toBe('no migration from flow format 1 to 2');
  });

  it('refuses a step that skips a version', () => {
    const leap: FlowMigration = { from: 1, to: 3, description: 'leap', up: (doc) => doc };
    expect(versionError(() => migrateFlowDocument(v1File(), [leap], 3)).message).toBe('no migration from flow format 1 to 2');
  });

  it('refuses documents without a usable version before running any step', () => {
    let ran = false;
    const spy: FlowMigration = { ...v1ToV2, up: (doc) => ((ran = true), doc) };
    const { version: _version, ...unversioned } = v1File();
    expect(versionError(() => migrateFlowDocument(unversioned, [spy], 2)).message).toMatch(/^missing "version"/);
    expect(versionError(() => migrateFlowDocument({ ...unversioned, version: 'two' }, [spy], 2)).message).toBe(
      '"version" must be a positive integer, got "two"',
    );
    expect(ran).toBe(false);
  });
});
