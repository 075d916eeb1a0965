import type { FlowIssue, InputField } from '@loom/shared';
import type { CompiledFlow } from './compile.js';

/**
 * Checks a run's input against the fields its input nodes declare, before the run
 * starts: `missing required input "text" (input node "in")`.
 */
export function checkRunInput(compiled: CompiledFlow, input: unknown): FlowIssue[] {
  const issues: FlowIssue[] = [];
  for (const index of compiled.inputNodes) {
    const node = compiled.nodes[index]!.node;
    if (node.kind !== 'input') continue;
    const fields = Object.entries(node.config.fields);
    if (fields.length === 0) continue;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      issues.push({ path: [], nodeId: node.id, message: `the run input must be an object with ${fields.map(([n]) => `"${n}"`).join(', ')}` });
      continue;
    }
    const record = input as Record<string, unknown>;
    for (const [name, field] of fields) {
      const value = Object.hasOwn(record, name) ? record[name] : undefined;
      if (value === undefined) {
        if (field.required && field.default === undefined) issues.push({ path: [name], nodeId: node.id, message: `missing required input "${name}"` });
        continue;
      }
      if (!matchesType(value, field.type)) {
        issues.push({ path: [name], nodeId: node.id, message: `input "${name}" must be ${article(field.type)}, got ${describe(value)}` });
      }
    }
  }
  return issues;
}

function matchesType(value: unknown, type: InputField['type']): boolean {
  switch (type) {
    case 'any':
      return true;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    default:
      return typeof value === type;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `${article(typeof value)} (${(JSON.stringify(value) ?? String(value)).slice(0, 40)})`;
}

/**
 * The JSON Schema of a flow's run input: an object with the fields of its input nodes (the
 * first declaration of a name wins); a field with a default is never required. Undefined
 * when the flow declares no fields (it takes any input). Shown to models for sub-flow tools
 * and to MCP clients for flows served as tools.
 */
export function inputJsonSchema(compiled: CompiledFlow): Record<string, unknown> | undefined {
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  for (const index of compiled.inputNodes) {
    const node = compiled.nodes[index]!.node;
    if (node.kind !== 'input') continue;
    for (const [name, field] of Object.entries(node.config.fields)) {
      if (Object.hasOwn(properties, name)) continue;
      properties[name] = {
        ...(field.type === 'any' ? {} : { type: field.type }),
        ...(field.description === undefined ? {} : { description: field.description }),
        ...(field.default === undefined ? {} : { default: field.default }),
      };
      if (field.required && field.default === undefined) required.push(name);
    }
  }
  if (Object.keys(properties).length === 0) return undefined;
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
}
