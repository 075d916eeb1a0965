import type { FlowNode } from '@loom/shared';
import { isRecord, type JsonSchema } from './schema.js';

/** An input field as the editor holds it: written by a person, so defaults may be missing. */
interface LooseField {
  type?: string;
  required?: boolean;
  default?: unknown;
  description?: string;
}

const TYPE_SCHEMA: Record<string, JsonSchema> = {
  string: { type: 'string' },
  number: { type: 'number' },
  integer: { type: 'integer' },
  boolean: { type: 'boolean' },
  // No properties: edited as JSON.
  object: { type: 'object' },
  array: { type: 'array' },
  any: {},
};

/**
 * The run input the flow's input nodes declare, as a JSON Schema for the run form; null when
 * they declare no fields (the input is then free JSON). Every input node reads the same run
 * input, so their fields are merged: the first declaration gives the type, and a field is
 * required when a node requires it without a default (a default fills it in).
 */
export function runInputSchema(nodes: readonly FlowNode[]): JsonSchema | null {
  const properties: Record<string, JsonSchema> = {};
  const required = new Set<string>();
  for (const node of nodes) {
    if (node.kind !== 'input') continue;
    const fields = (node.config as { fields?: Record<string, LooseField> } | undefined)?.fields ?? {};
    for (const [name, field] of Object.entries(fields)) {
      if (field.required && field.default === undefined) required.add(name);
      if (properties[name]) continue;
      properties[name] = {
        ...(TYPE_SCHEMA[field.type ?? 'any'] ?? {}),
        ...(field.description ? { description: field.description } : {}),
        ...(field.default !== undefined ? { default: field.default } : {}),
      };
    }
  }
  if (Object.keys(properties).length === 0) return null;
  return { type: 'object', properties, required: [...required] };
}

/** The form's first value: the template's sample input, and each declared default it leaves out. */
export function initialRunInput(schema: JsonSchema | null, sample: unknown): unknown {
  if (!schema) return sample ?? {};
  const out: Record<string, unknown> = isRecord(sample) ? structuredClone(sample) : {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (out[name] === undefined && property.default !== undefined) out[name] = structuredClone(property.default);
  }
  return out;
}
