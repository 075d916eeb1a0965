/**
 * The part of JSON Schema (draft 2020-12) that zod's `toJSONSchema` writes for Loom's
 * contracts, and what a form does with each shape. Anything outside it is edited as JSON.
 */
export interface JsonSchema {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: boolean | JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  /** Not JSON Schema: asks for a text area (for schemas written by hand, like the inspector's). */
  'x-multiline'?: boolean;
}

export type Path = (string | number)[];

/** How a schema is shown. `json`: a JSON text field (any value, or a shape the form does not know). */
export type Shape =
  | { kind: 'string' | 'number' | 'boolean' | 'enum' | 'const' | 'object' | 'record' | 'array' | 'json'; schema: JsonSchema; refs: string[] }
  | { kind: 'union'; schema: JsonSchema; refs: string[]; variants: JsonSchema[]; discriminator: string }
  /** A recursive definition (a node inside a node): a form would nest without end. */
  | { kind: 'nested'; schema: JsonSchema; refs: string[]; definition: string };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DEF_PREFIX = '#/$defs/';

function definitionOf(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith(DEF_PREFIX)) return undefined;
  return root.$defs?.[ref.slice(DEF_PREFIX.length)];
}

const selfReferencing = new WeakMap<JsonSchema, Map<string, boolean>>();

/** Whether a definition refers to itself inside its own body (FlowNode: patterns contain nodes). */
function isSelfReferencing(root: JsonSchema, name: string): boolean {
  let known = selfReferencing.get(root);
  if (!known) selfReferencing.set(root, (known = new Map()));
  let answer = known.get(name);
  if (answer === undefined) {
    answer = JSON.stringify(root.$defs?.[name] ?? null).includes(JSON.stringify(DEF_PREFIX + name));
    known.set(name, answer);
  }
  return answer;
}

/** Follows `$ref`s; undefined when one points outside `root.$defs`. */
export function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema | undefined {
  let current: JsonSchema | undefined = schema;
  for (let hops = 0; current?.$ref !== undefined; hops++) {
    if (hops > 32) return undefined;
    current = definitionOf(root, current.$ref);
  }
  return current;
}

/** The property every variant fixes to a different constant (`by`, `kind`), if there is one. */
export function discriminatorOf(variants: readonly JsonSchema[]): string | undefined {
  const first = variants[0]?.properties;
  if (!first || variants.length < 2) return undefined;
  for (const key of Object.keys(first)) {
    const values = variants.map((v) => v.properties?.[key]?.const);
    if (values.every((v) => v !== undefined) && new Set(values.map((v) => JSON.stringify(v))).size === values.length) return key;
  }
  return undefined;
}

function types(schema: JsonSchema): string[] {
  return schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
}

/**
 * What to show for `schema`. `refs` are the definitions being expanded around it: one met
 * again is a cycle, shown as JSON like a self-referencing definition.
 */
export function shapeOf(schema: JsonSchema, root: JsonSchema, refs: string[] = []): Shape {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.startsWith(DEF_PREFIX) ? schema.$ref.slice(DEF_PREFIX.length) : schema.$ref;
    const target = definitionOf(root, schema.$ref);
    if (!target) return { kind: 'json', schema, refs };
    if (refs.includes(name) || isSelfReferencing(root, name)) return { kind: 'nested', schema: target, refs, definition: name };
    return shapeOf(target, root, [...refs, name]);
  }
  const union = schema.oneOf ?? schema.anyOf;
  if (union) {
    const variants = union.map((v) => resolve(v, root));
    if (variants.some((v) => v === undefined || !v.properties)) return { kind: 'json', schema, refs };
    const discriminator = discriminatorOf(variants as JsonSchema[]);
    return discriminator ? { kind: 'union', schema, refs, variants: variants as JsonSchema[], discriminator } : { kind: 'json', schema, refs };
  }
  if (schema.const !== undefined) return { kind: 'const', schema, refs };
  if (schema.enum && schema.enum.length > 0 && schema.enum.every((v) => typeof v === 'string' || typeof v === 'number')) return { kind: 'enum', schema, refs };
  const t = types(schema);
  if (t.length !== 1) return { kind: 'json', schema, refs };
  switch (t[0]) {
    case 'string':
      return { kind: 'string', schema, refs };
    case 'number':
    case 'integer':
      return { kind: 'number', schema, refs };
    case 'boolean':
      return { kind: 'boolean', schema, refs };
    case 'object': {
      const extra = schema.additionalProperties;
      if (schema.properties && (Object.keys(schema.properties).length > 0 || extra === false)) return { kind: 'object', schema, refs };
      // A map with typed values gets key/value rows; a map of anything (a JSON Schema, free
      // parameters) reads better as one JSON text.
      if (isRecord(extra) && Object.keys(extra).length > 0) return { kind: 'record', schema, refs };
      return { kind: 'json', schema, refs };
    }
    case 'array':
      return isRecord(schema.items) && !schema.prefixItems ? { kind: 'array', schema, refs } : { kind: 'json', schema, refs };
    default:
      return { kind: 'json', schema, refs };
  }
}

/** `maxIterations` → "Max iterations". */
export function humanize(key: string): string {
  const words = key
    .replace(/[_.-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : key;
}

/**
 * The values a fresh object of this schema starts with: each property's default (what the
 * person would get anyway, now visible and editable) and the constants it must have.
 */
export function defaultsOf(schema: JsonSchema, root: JsonSchema): Record<string, unknown> {
  const resolved = resolve(schema, root);
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(resolved?.properties ?? {})) {
    const p = resolve(property, root);
    if (p?.default !== undefined) out[key] = structuredClone(p.default);
    else if (p?.const !== undefined) out[key] = p.const;
  }
  return out;
}

/** A new list item: something of the right type that the person then fills in. */
export function newItem(schema: JsonSchema, root: JsonSchema): unknown {
  const shape = shapeOf(schema, root);
  const s = shape.schema;
  if (s.default !== undefined) return structuredClone(s.default);
  switch (shape.kind) {
    case 'string':
      return '';
    case 'number':
      return s.minimum ?? 0;
    case 'boolean':
      return false;
    case 'enum':
      return s.enum![0];
    case 'const':
      return s.const;
    case 'object':
      return requiredConstants(s, root);
    case 'record':
      return {};
    case 'array':
      return [];
    case 'union':
      return { ...requiredConstants(shape.variants[0]!, root), [shape.discriminator]: shape.variants[0]!.properties![shape.discriminator]!.const };
    default:
      return null;
  }
}

function requiredConstants(schema: JsonSchema, root: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of schema.required ?? []) {
    const p = schema.properties?.[key] && resolve(schema.properties[key], root);
    if (p?.const !== undefined) out[key] = p.const;
  }
  return out;
}

/** Whether `path` starts with `prefix`. */
export function startsWith(path: readonly (string | number)[], prefix: readonly (string | number)[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
}

export function dotted(path: readonly (string | number)[]): string {
  return path.join('.');
}
