import { describe, expect, it } from 'vitest';
import { flowJsonSchema, nodeConfigJsonSchema, runEventJsonSchema } from './json-schema.js';
import { NODE_KINDS } from './schema.js';

interface SchemaNode {
  type?: string;
  const?: unknown;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: unknown;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
}

const EVENT_TYPES = [
  'run.started',
  'node.status',
  'task.assigned',
  'task.succeeded',
  'task.failed',
  'task.skipped',
  'llm.request',
  'llm.delta',
  'llm.response',
  'tool.call',
  'mcp.call',
  'mcp.tool',
  'supervision.entry',
  'metrics',
  'run.finished',
  'sandbox.created',
  'sandbox.output',
  'sandbox.violation',
  'sandbox.killed',
  'sandbox.cleaned',
];

describe('flowJsonSchema', () => {
  const schema = flowJsonSchema() as SchemaNode & Record<string, unknown>;
  // Nodes are recursive (patterns contain nodes), so they live in $defs and are referenced.
  const nodeRef = (schema.properties!['nodes']!.items as { $ref: string }).$ref;
  const nodeVariants = (schema as unknown as { $defs: Record<string, SchemaNode> }).$defs[nodeRef.replace('#/$defs/', '')]!.oneOf!;

  it('is a draft 2020-12 object schema with an id and a title', () => {
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'https://loom.dev/schemas/flow.v1.json',
      title: expect.stringContaining('version 1'),
      type: 'object',
    });
  });

  it('is plain JSON, so it can be written to a file as is', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('describes the top-level fields and refuses others, like the parser', () => {
    expect(Object.keys(schema.properties!)).toEqual(['version', 'id', 'name', 'description', 'settings', 'nodes', 'edges', 'notes']);
    expect(schema.properties!['version']).toMatchObject({ const: 1 });
    expect(schema.properties!['nodes']!.type).toBe('array');
    expect(schema.properties!['edges']!.type).toBe('array');
    expect(schema.additionalProperties).toBe(false);
  });

  it('requires what an author must write and leaves defaulted fields optional', () => {
    expect([...schema.required!].sort()).toEqual(['edges', 'id', 'name', 'nodes', 'version']);
    expect(schema.properties!['settings']!.required ?? []).not.toContain('concurrency');
  });

  it('describes notes: optional, each with an id, text and position, and nothing else', () => {
    const notes = schema.properties!['notes']!;
    expect(notes.type).toBe('array');
    expect(notes.items!.required).toEqual(['id', 'text', 'position']);
    expect(notes.items!.additionalProperties).toBe(false);
    expect(Object.keys(notes.items!.properties!)).toEqual(['id', 'text', 'position', 'size', 'color']);
  });

  it('names the recursive node definition', () => {
    expect(nodeRef).toBe('#/$defs/FlowNode');
  });

  it('has one variant per node kind, told apart by a constant kind', () => {
    expect(nodeVariants.map((variant) => variant.properties!['kind']!.const)).toEqual([...NODE_KINDS]);
    for (const variant of nodeVariants) {
      expect(variant.required).toEqual(expect.arrayContaining(['id', 'kind']));
      expect(variant.additionalProperties).toBe(false);
    }
    const text = JSON.stringify(schema);
    for (const kind of NODE_KINDS) expect(text).toContain(`"const":"${kind}"`);
  });

  it('requires config only for the kinds that have no default config', () => {
    const needsConfig = nodeVariants.filter((variant) => variant.required!.includes('config')).map((variant) => variant.properties!['kind']!.const);
    expect(needsConfig).toEqual(['skill', 'router', 'agent', 'chain', 'parallel', 'master_worker', 'supervisor', 'coordinator', 'subflow', 'mcp']);
  });
});

describe('runEventJsonSchema', () => {
  const schema = runEventJsonSchema() as SchemaNode & Record<string, unknown>;

  it('is a draft 2020-12 schema with an id', () => {
    expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'https://loom.dev/schemas/run-event.v1.json' });
  });

  it('lists every event type, each with the common fields required', () => {
    const variants = schema.oneOf!;
    expect(variants.map((variant) => variant.properties!['type']!.const)).toEqual(EVENT_TYPES);
    for (const variant of variants) {
      expect(variant.required).toEqual(expect.arrayContaining(['v', 'runId', 'seq', 'ts', 'type']));
      expect(variant.properties!['v']).toMatchObject({ const: 1 });
    }
  });
});

describe('nodeConfigJsonSchema', () => {
  it('describes each kind\'s config as an object that refuses unknown fields', () => {
    for (const kind of NODE_KINDS) {
      const schema = nodeConfigJsonSchema(kind) as SchemaNode;
      expect(schema.type, kind).toBe('object');
      expect(schema.additionalProperties, kind).toBe(false);
      expect(JSON.parse(JSON.stringify(schema)), kind).toEqual(schema);
    }
  });

  it('leaves defaulted fields optional and keeps their defaults for placeholders', () => {
    const agent = nodeConfigJsonSchema('agent') as SchemaNode;
    expect(agent.required ?? []).toEqual([]);
    expect(agent.properties!['model']).toMatchObject({ type: 'string', default: 'local/echo' });
    expect(agent.properties!['outputFormat']).toMatchObject({ enum: ['text', 'json'], default: 'text' });
    expect(agent.properties!['tools']!.items!.required).toContain('name');
    expect((nodeConfigJsonSchema('skill') as SchemaNode).required).toEqual(['skill']);
  });

  it('refers to nested nodes through the recursive FlowNode definition', () => {
    const supervisor = nodeConfigJsonSchema('supervisor') as unknown as SchemaNode & { $defs: Record<string, SchemaNode> };
    expect(supervisor.properties!['agents']!.properties!['planning']).toEqual({ $ref: '#/$defs/FlowNode' });
    expect(supervisor.$defs['FlowNode']!.oneOf!.map((variant) => variant.properties!['kind']!.const)).toEqual([...NODE_KINDS]);
    const decompose = (nodeConfigJsonSchema('master_worker') as SchemaNode).properties!['decompose'] as { $ref: string };
    expect(decompose.$ref).toMatch(/^#\/\$defs\//);
  });
});
