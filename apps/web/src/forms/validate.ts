import type { FlowIssue } from '@loom/shared';
import { Unfinished, sameValue } from './draft.js';
import { discriminatorOf, isRecord, resolve, type JsonSchema, type Path } from './schema.js';

/**
 * Checks a value against the JSON Schema subset the forms render, for values that have no
 * zod schema in the browser (a skill's parameters, the run input). Messages are written for
 * the field they appear under. Keywords outside the subset are not checked here: the server
 * checks the whole flow again when it is saved or run.
 */
export function validateValue(schema: JsonSchema, value: unknown, root: JsonSchema = schema, path: Path = []): FlowIssue[] {
  const issues: FlowIssue[] = [];
  check(schema, value, root, path, issues, 0);
  return issues;
}

function check(schema: JsonSchema, value: unknown, root: JsonSchema, path: Path, out: FlowIssue[], depth: number): void {
  const add = (message: string, at: Path = path): void => {
    out.push({ path: at, message });
  };
  if (value instanceof Unfinished) return add(value.message);
  // Presence is the parent's business (its `required`).
  if (value === undefined) return;
  if (depth > 64) return;
  const s = resolve(schema, root);
  if (!s) return;

  if (s.const !== undefined && !sameValue(value, s.const)) return add(`must be ${JSON.stringify(s.const)}`);
  if (s.enum && !s.enum.some((option) => sameValue(option, value))) return add(`must be one of ${s.enum.map((o) => JSON.stringify(o)).join(', ')}`);

  const union = s.oneOf ?? s.anyOf;
  if (union) {
    const variants = union.map((v) => resolve(v, root)).filter((v): v is JsonSchema => v !== undefined);
    const key = discriminatorOf(variants);
    if (key && isRecord(value)) {
      const chosen = variants.find((v) => sameValue(v.properties![key]!.const, value[key]));
      if (chosen) return check(chosen, value, root, path, out, depth + 1);
      return add(`must be one of ${variants.map((v) => JSON.stringify(v.properties![key]!.const)).join(', ')}`, [...path, key]);
    }
    if (!variants.some((v) => validateValue(v, value, root).length === 0)) add('does not match any of the allowed forms');
    return;
  }

  const allowed = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (allowed.length > 0 && !allowed.some((t) => hasType(value, t))) return add(`must be ${allowed.map(article).join(' or ')}, not ${describe(value)}`);

  if (typeof value === 'string') {
    if (s.minLength !== undefined && value.length < s.minLength) add(s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters long`);
    if (s.maxLength !== undefined && value.length > s.maxLength) add(`must be at most ${s.maxLength} characters long`);
    if (s.pattern !== undefined && !safeTest(s.pattern, value)) add(`must match ${s.pattern}`);
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) add(`must be at least ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) add(`must be at most ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) add(`must be more than ${s.exclusiveMinimum}`);
    if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum) add(`must be less than ${s.exclusiveMaximum}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) add(`needs at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
    if (s.maxItems !== undefined && value.length > s.maxItems) add(`takes at most ${s.maxItems} item${s.maxItems === 1 ? '' : 's'}`);
    if (isRecord(s.items)) value.forEach((item, i) => check(s.items as JsonSchema, item, root, [...path, i], out, depth + 1));
  }
  if (isRecord(value)) {
    for (const key of s.required ?? []) if (value[key] === undefined) add('missing required field', [...path, key]);
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const property = s.properties?.[key];
      if (property) check(property, item, root, [...path, key], out, depth + 1);
      else if (s.additionalProperties === false) add(`unknown field "${key}"`);
      else if (isRecord(s.additionalProperties)) {
        if (s.propertyNames) check(s.propertyNames, key, root, [...path, key], out, depth + 1);
        check(s.additionalProperties, item, root, [...path, key], out, depth + 1);
      }
    }
  }
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return isRecord(value);
    case 'array':
      return Array.isArray(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function article(type: string): string {
  if (type === 'integer') return 'a whole number';
  if (type === 'boolean') return 'true or false';
  if (type === 'null') return 'null';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : String(value);
  if (typeof value === 'string') return 'text';
  return typeof value === 'object' ? 'an object' : `${typeof value}`;
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true; // A pattern this browser cannot compile is left to the server.
  }
}
