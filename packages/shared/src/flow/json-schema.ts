import { z } from 'zod';
import { Flow, FlowNode, type NodeKind } from './schema.js';
import { RunEvent } from '../events/schema.js';

/** JSON Schema (draft 2020-12) of the flow format, for editors and other tools. */
export function flowJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://loom.dev/schemas/flow.v1.json',
    title: 'Loom flow (format version 1)',
    ...z.toJSONSchema(Flow, { io: 'input', unrepresentable: 'any' }),
  };
}

/** JSON Schema of one run event (the NDJSON log's lines). */
export function runEventJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://loom.dev/schemas/run-event.v1.json',
    title: 'Loom run event (version 1)',
    ...z.toJSONSchema(RunEvent, { io: 'output', unrepresentable: 'any' }),
  };
}

/**
 * JSON Schema of one node kind's `config`, as a person writes it (defaults may be left out),
 * for the editor's forms. Nodes nested in patterns are `$ref`s to `#/$defs/FlowNode`.
 */
export function nodeConfigJsonSchema(kind: NodeKind): Record<string, unknown> {
  const variant = FlowNode.options.find((option) => option.shape.kind.value === kind);
  if (!variant) throw new Error(`nodeConfigJsonSchema: unknown node kind "${kind}"`);
  return z.toJSONSchema(variant.shape.config, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
