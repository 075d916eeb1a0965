import { describe, expect, it } from 'vitest';
import { nodeConfigJsonSchema, type FlowNode } from '@loom/shared';
import { Unfinished, sameValue, stripUnfinished } from './draft.js';
import { initialRunInput, runInputSchema } from './run-input.js';
import { defaultsOf, shapeOf, type JsonSchema } from './schema.js';
import { validateValue } from './validate.js';

// The http.request skill's parameters as the server describes them (describeSkills).
const http: JsonSchema = {
  type: 'object',
  properties: {
    method: { default: 'GET', type: 'string', enum: ['GET', 'POST'] },
    url: { type: 'string', minLength: 1, maxLength: 8192 },
    headers: { default: {}, type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'string', maxLength: 8192 } },
    maxResponseBytes: { default: 5000000, type: 'integer', minimum: 1, maximum: 100000000 },
    auth: {
      type: 'object',
      properties: { credential: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' } },
      required: ['credential'],
      additionalProperties: false,
    },
  },
  required: ['url'],
  additionalProperties: false,
};

describe('validateValue', () => {
  it('accepts a value that fits', () => {
    expect(validateValue(http, { url: 'https://example.com', headers: { a: 'b' }, auth: { credential: 'api' } })).toEqual([]);
  });

  it('names each problem at its path', () => {
    expect(validateValue(http, { method: 'GET!', headers: { a: 1 }, maxResponseBytes: 1.5, auth: { credential: '-x' }, extra: true })).toEqual([
      { path: ['url'], message: 'missing required field' },
      { path: ['method'], message: 'must be one of "GET", "POST"' },
      { path: ['headers', 'a'], message: 'must be a string, not a whole number' },
      { path: ['maxResponseBytes'], message: 'must be a whole number, not 1.5' },
      { path: ['auth', 'credential'], message: 'must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
      { path: [], message: 'unknown field "extra"' },
    ]);
    expect(validateValue(http, { url: '' })).toEqual([{ path: ['url'], message: 'must not be empty' }]);
    expect(validateValue(http, { url: 'u', maxResponseBytes: 0 })).toEqual([{ path: ['maxResponseBytes'], message: 'must be at least 1' }]);
  });

  it('checks a union by the variant its constant field names, through $refs', () => {
    const schema = nodeConfigJsonSchema('master_worker') as JsonSchema;
    const worker = { id: 'w', node: { id: 'n', kind: 'skill', config: { skill: 'noop' } } };
    expect(validateValue(schema, { decompose: { by: 'rule', expression: 'x' }, workers: [worker] })).toEqual([]);
    expect(validateValue(schema, { decompose: { by: 'rule' }, workers: [] })).toEqual([
      { path: ['decompose', 'expression'], message: 'missing required field' },
      { path: ['workers'], message: 'needs at least 1 item' },
    ]);
    expect(validateValue(schema, { decompose: { by: 'magic' }, workers: [worker] })).toEqual([{ path: ['decompose', 'by'], message: 'must be one of "rule", "node"' }]);
    expect(validateValue(schema, { decompose: { by: 'rule', expression: 'x' }, workers: [{ id: 'w', node: { id: 'n', kind: 'robot' } }] })).toEqual([
      { path: ['workers', 0, 'node', 'kind'], message: expect.stringContaining('must be one of "input", "output"') as string },
    ]);
  });

  it('reports unfinished text where it is', () => {
    expect(validateValue(http, { url: 'u', maxResponseBytes: new Unfinished('"1e" is not a number', '1e') })).toEqual([{ path: ['maxResponseBytes'], message: '"1e" is not a number' }]);
  });
});

describe('stripUnfinished', () => {
  it('leaves unfinished parts out and says where they were', () => {
    const value = { a: 1, b: new Unfinished('bad', 'x'), c: [{ d: new Unfinished('worse', '{') }] };
    expect(stripUnfinished(value, ['config'])).toEqual({
      clean: { a: 1, c: [{}] },
      issues: [
        { path: ['config', 'b'], message: 'bad' },
        { path: ['config', 'c', 0, 'd'], message: 'worse' },
      ],
    });
  });

  it('compares values as JSON does', () => {
    expect(sameValue({ a: 1, b: undefined, c: [1, { d: 2 }] }, { c: [1, { d: 2 }], a: 1 })).toBe(true);
    expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });
});

describe('schema shapes', () => {
  it('shows a recursive definition (a node) as JSON but expands the ones that only contain it', () => {
    const supervisor = nodeConfigJsonSchema('supervisor') as JsonSchema;
    const agents = supervisor.properties!['agents']!;
    expect(shapeOf(agents.properties!['planning']!, supervisor)).toMatchObject({ kind: 'nested', definition: 'FlowNode' });
    const masterWorker = nodeConfigJsonSchema('master_worker') as JsonSchema;
    expect(shapeOf(masterWorker.properties!['decompose']!, masterWorker)).toMatchObject({ kind: 'union', discriminator: 'by' });
  });

  it('starts a fresh object from its defaults', () => {
    expect(defaultsOf(http, http)).toEqual({ method: 'GET', headers: {}, maxResponseBytes: 5000000 });
  });
});

describe('run input form', () => {
  const nodes = [
    { id: 'in', kind: 'input', config: { fields: { name: { type: 'string', required: true, description: 'Who' }, count: { type: 'integer', default: 2 }, data: { type: 'object' }, extra: {} } } },
    { id: 'in2', kind: 'input', config: { fields: { name: { type: 'number' }, flag: { type: 'boolean', required: true, default: false } } } },
    { id: 'x', kind: 'output', config: {} },
  ] as unknown as FlowNode[];

  it('merges the input nodes\' fields into one object schema; a default makes a field optional', () => {
    expect(runInputSchema(nodes)).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Who' },
        count: { type: 'integer', default: 2 },
        data: { type: 'object' },
        extra: {},
        flag: { type: 'boolean', default: false },
      },
      required: ['name'],
    });
    expect(runInputSchema([{ id: 'in', kind: 'input', config: { fields: {} } }])).toBeNull();
  });

  it('starts from the sample input, then the defaults', () => {
    const schema = runInputSchema(nodes);
    expect(initialRunInput(schema, { name: 'Ada', count: 5 })).toEqual({ name: 'Ada', count: 5, flag: false });
    expect(initialRunInput(schema, undefined)).toEqual({ count: 2, flag: false });
    expect(validateValue(schema!, { count: 'many' })).toEqual([
      { path: ['name'], message: 'missing required field' },
      { path: ['count'], message: 'must be a whole number, not text' },
    ]);
  });
});
