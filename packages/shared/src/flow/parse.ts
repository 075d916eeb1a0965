import { z } from 'zod';
import { Flow, NODE_KINDS } from './schema.js';
import { FlowVersionError, migrateFlowDocument, type FlowMigration, FLOW_MIGRATIONS } from './migrations.js';
import { checkFlowGraph, type GraphCheckOptions } from './graph.js';

/** One problem in a flow document, located by its JSON path and, when inside a node, the node id. */
export interface FlowIssue {
  path: (string | number)[];
  message: string;
  /** Id of the node the problem is in, when there is one. */
  nodeId?: string;
}

export type ParseFlowResult =
  | { ok: true; flow: Flow; migrations: string[] }
  | { ok: false; issues: FlowIssue[] };

export const FLOW_LIMITS = {
  /** Largest flow file accepted, in bytes. */
  maxBytes: 10 * 1024 * 1024,
  /** Deepest nesting of objects and arrays accepted. */
  /** Patterns nest up to 8 levels and each level adds a few: 128 leaves room for params. */
  maxDepth: 128,
} as const;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses flow JSON text: size, syntax, depth and prototype-key checks, then `parseFlow`. */
export function parseFlowText(text: string, options: { migrations?: readonly FlowMigration[] } = {}): ParseFlowResult {
  const read = readFlowJson(text);
  if (!read.ok) return read;
  const shapeIssue = checkJsonShape(read.doc);
  if (shapeIssue) return { ok: false, issues: [shapeIssue] };
  return parseFlow(read.doc, options);
}

/** The size limit and JSON syntax, with the line and column of a syntax error. Other readers of flow files share it. */
export function readFlowJson(text: string): { ok: true; doc: unknown } | { ok: false; issues: FlowIssue[] } {
  const bytes = utf8Length(text);
  if (bytes > FLOW_LIMITS.maxBytes) {
    return fail([], `file is ${bytes} bytes; the limit is ${FLOW_LIMITS.maxBytes} bytes`);
  }
  try {
    return { ok: true, doc: JSON.parse(text) as unknown };
  } catch (error) {
    return fail([], `not valid JSON: ${describeJsonError(text, error)}`);
  }
}

/** Validates a parsed document: migrates old versions, checks the schema, then the graph. */
export function parseFlow(doc: unknown, options: { migrations?: readonly FlowMigration[] } & GraphCheckOptions = {}): ParseFlowResult {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return fail([], 'a flow must be a JSON object with "version", "id", "name", "nodes" and "edges"');
  }
  let migrated: Record<string, unknown>;
  let applied: string[];
  try {
    ({ doc: migrated, applied } = migrateFlowDocument(doc as Record<string, unknown>, options.migrations ?? FLOW_MIGRATIONS));
  } catch (error) {
    if (error instanceof FlowVersionError) return fail(error.path, error.message);
    throw error;
  }
  const parsed = Flow.safeParse(migrated);
  if (!parsed.success) {
    return { ok: false, issues: zodIssuesToFlowIssues(parsed.error.issues, migrated) };
  }
  const graphIssues = checkFlowGraph(parsed.data, options);
  if (graphIssues.length > 0) return { ok: false, issues: graphIssues };
  return { ok: true, flow: parsed.data, migrations: applied };
}

/** `nodes[3].config.template` -> node id of nodes[3], so messages name nodes as people do. */
export function zodIssuesToFlowIssues(issues: readonly z.core.$ZodIssue[], doc: unknown): FlowIssue[] {
  const nodes = isRecord(doc) && Array.isArray(doc['nodes']) ? (doc['nodes'] as unknown[]) : [];
  return issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const result: FlowIssue = { path, message: describeZodIssue(issue, doc) };
    if (path[0] === 'nodes' && typeof path[1] === 'number') {
      const node = nodes[path[1]];
      if (isRecord(node) && typeof node['id'] === 'string') result.nodeId = node['id'];
    }
    return result;
  });
}

function describeZodIssue(issue: z.core.$ZodIssue, doc: unknown): string {
  if (isDiscriminatorIssue(issue)) {
    // zod 4 reports the issue at the discriminator (`nodes[1].kind`); older releases at the node.
    const kindPath = issue.path.at(-1) === 'kind' ? issue.path : [...issue.path, 'kind'];
    const value = valueAt(doc, kindPath);
    if (value === undefined) return `missing "kind" (one of ${kindList()})`;
    return `unknown node kind ${JSON.stringify(value)} (expected one of ${kindList()})`;
  }
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  if (issue.code === 'invalid_type' && valueAt(doc, issue.path) === undefined) return `missing required field (${issue.expected})`;
  return issue.message;
}

function isDiscriminatorIssue(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_union' && (issue as { note?: string }).note === 'No matching discriminator';
}

function kindList(): string {
  return NODE_KINDS.map((k) => `"${k}"`).join(', ');
}

/** Formats an issue for a person: `flow.json: node "x" field config.template: message`. */
export function formatFlowIssue(issue: FlowIssue, source?: string): string {
  const where: string[] = [];
  if (issue.nodeId !== undefined) where.push(`node "${issue.nodeId}"`);
  const field = fieldPath(issue.path, issue.nodeId !== undefined);
  if (field) where.push(`field ${field}`);
  const prefix = [source, where.join(' ')].filter(Boolean).join(': ');
  return prefix ? `${prefix}: ${issue.message}` : issue.message;
}

/** `['nodes', 3, 'config', 'routes', 0, 'when']` -> `config.routes[0].when` inside a node. */
export function fieldPath(path: readonly (string | number)[], insideNode: boolean): string {
  const rest = insideNode && path[0] === 'nodes' && typeof path[1] === 'number' ? path.slice(2) : path;
  let out = '';
  for (const part of rest) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

/**
 * The depth limit and prototype keys. `at` is where `doc` sits in a larger file (a flow inside
 * an export file): issues carry the full path, and depth counts from `doc`.
 */
export function checkJsonShape(doc: unknown, at: readonly (string | number)[] = []): FlowIssue | undefined {
  // Iterative walk: a hostile file must not be able to overflow the stack here.
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: doc, path: [...at] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (path.length - at.length >= FLOW_LIMITS.maxDepth) {
      return { path, message: `nested deeper than ${FLOW_LIMITS.maxDepth} levels` };
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
      continue;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return { path: [...path, key], message: `key "${key}" is not allowed` };
      stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return undefined;
}

function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /position (\d+)/.exec(message);
  const position = match ? Number(match[1]) : findUnexpectedToken(text);
  if (position === undefined) return message;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  const reason = message
    .replace(/ (in JSON )?at position \d+.*$/s, '')
    // V8's `Unexpected token 'x', "...snippet..." is not valid JSON`: the location replaces the snippet.
    .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '');
  return `${reason} at line ${line}, column ${column}`;
}

/**
 * V8 leaves the position out of `Unexpected token` messages (`[1,]`, `{"a": oops}`).
 * The token is the last character of the shortest prefix that fails that way; only
 * failing files pay for this search.
 */
function findUnexpectedToken(text: string): number | undefined {
  const failsOnToken = (end: number): boolean => {
    try {
      JSON.parse(text.slice(0, end));
      return false;
    } catch (error) {
      return error instanceof Error && error.message.startsWith('Unexpected token');
    }
  };
  if (!failsOnToken(text.length)) return undefined;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (failsOnToken(mid)) high = mid;
    else low = mid + 1;
  }
  return low - 1;
}

function fail(path: (string | number)[], message: string): { ok: false; issues: FlowIssue[] } {
  return { ok: false, issues: [{ path, message }] };
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let current = doc;
  for (const part of path) {
    if (!isRecord(current) && !Array.isArray(current)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function utf8Length(text: string): number {
  // Counting avoids allocating a buffer the size of a hostile file.
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
