import { z } from 'zod';
import { Flow } from './schema.js';
import type { FlowMigration } from './migrations.js';
import type { GraphCheckOptions } from './graph.js';
import { checkJsonShape, fieldPath, parseFlow, readFlowJson, zodIssuesToFlowIssues, type FlowIssue } from './parse.js';

/**
 * Sharing flows as files. An export file wraps a flow with what the person importing it
 * needs to know: which credentials it expects to find under which names, and which literal
 * secrets were blanked out on the way out. Secrets never leave in an export; credential
 * references (`{ "credential": "<name>" }`) do, because they are names, not values.
 */

export const FLOW_EXPORT_FORMAT = 'loom.flow' as const;
/** The newest export envelope this build writes and reads. */
export const FLOW_EXPORT_FORMAT_VERSION = 1 as const;

export const StrippedSecret = z
  .object({
    /** Where the secret was, inside the flow: `nodes[2].config.params.headers.Authorization`. */
    path: z.string().min(1).max(10_000),
    /** Which rule matched, so a person knows what to put back. */
    reason: z.string().min(1).max(1_000),
  })
  .strict();
export type StrippedSecret = z.infer<typeof StrippedSecret>;

const envelopeFields = {
  format: z.literal(FLOW_EXPORT_FORMAT),
  formatVersion: z.literal(FLOW_EXPORT_FORMAT_VERSION),
  exportedAt: z.iso.datetime({ offset: true }),
  name: z.string().min(1).max(200),
  description: z.string().max(20_000).optional(),
  /** Names of the credentials the flow references, sorted: set them up before running it. */
  credentials: z.array(z.string().min(1).max(256)).max(10_000),
  strippedSecrets: z.array(StrippedSecret).max(100_000),
};

/** An export file: `exportFlow` writes it, `parseFlowExport` reads it. */
export const FlowExportFile = z.object({ ...envelopeFields, flow: Flow }).strict();
export type FlowExportFile = z.infer<typeof FlowExportFile>;

/** The envelope alone: the flow inside is read by `parseFlow`, which migrates and locates its issues. */
const FlowExportEnvelope = z.object({ ...envelopeFields, flow: z.unknown().optional() }).strict();

const ExportMeta = z.object({ name: envelopeFields.name, description: envelopeFields.description, exportedAt: envelopeFields.exportedAt });

export interface FlowExportMeta {
  name: string;
  description?: string;
  /** ISO 8601 time; passed in rather than read from the clock so the same flow exports to the same bytes. */
  exportedAt: string;
}

/**
 * Writes `flow` as an export file with its literal secrets replaced by `""` (and listed in
 * `strippedSecrets`) and its credential references kept (and listed in `credentials`).
 * Works on a copy: `flow` is left as it was. Throws when `meta` is not valid.
 */
export function exportFlow(flow: Flow, meta: FlowExportMeta): { file: FlowExportFile; text: string } {
  const checked = ExportMeta.safeParse(meta);
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`exportFlow: invalid export metadata (${problems.join('; ')})`);
  }
  const copy = structuredClone(flow);
  const { credentials, strippedSecrets } = scanSecrets(copy, true);
  const file: FlowExportFile = {
    format: FLOW_EXPORT_FORMAT,
    formatVersion: FLOW_EXPORT_FORMAT_VERSION,
    exportedAt: meta.exportedAt,
    name: meta.name,
    ...(meta.description === undefined ? {} : { description: meta.description }),
    flow: copy,
    credentials,
    strippedSecrets,
  };
  return { file, text: `${JSON.stringify(file, null, 2)}\n` };
}

/** Names of the credentials a flow references, sorted and unique. */
export function flowCredentials(flow: Flow): string[] {
  return scanSecrets(flow, false).credentials;
}

/** The literal secrets `exportFlow` would strip from `flow`, in document order; `flow` is not changed. */
export function findFlowSecrets(flow: Flow): StrippedSecret[] {
  return scanSecrets(flow, false).strippedSecrets;
}

export type ParseFlowExportResult =
  | {
      ok: true;
      flow: Flow;
      name: string;
      description?: string;
      credentials: string[];
      /** The flow's format version in the file, when it was older than this build's and was migrated. */
      migratedFrom?: number;
      warnings: FlowIssue[];
    }
  | { ok: false; issues: FlowIssue[] };

/**
 * Reads an export file, or a bare flow file (written by hand, or from `examples/`). Same size,
 * depth and prototype-key limits as `parseFlowText`; migrates older flows; checks the schema
 * and the graph. Every problem comes back with its path in the file (`flow.nodes[1]...` inside
 * an export file). Reads only: nothing in the file is run.
 */
export function parseFlowExport(text: string, options: { migrations?: readonly FlowMigration[] } & GraphCheckOptions = {}): ParseFlowExportResult {
  const read = readFlowJson(text);
  if (!read.ok) return read;
  const doc = read.doc;
  if (!isEnvelope(doc)) return parseBareFlow(doc, options);

  // The flow's depth counts from the flow, not the file: a flow at the depth limit must
  // still open when it arrives one level down, inside `flow`.
  const { flow: flowDoc, ...rest } = doc;
  const shapeIssue = checkJsonShape(rest) ?? checkJsonShape(flowDoc, ['flow']);
  if (shapeIssue) return { ok: false, issues: [shapeIssue] };
  // Without a known format and version, nothing else in the file can be trusted to mean what this build thinks.
  const versionIssue = checkFormat(doc);
  if (versionIssue) return { ok: false, issues: [versionIssue] };

  const issues: FlowIssue[] = [];
  const envelope = FlowExportEnvelope.safeParse(doc);
  if (!envelope.success) issues.push(...zodIssuesToFlowIssues(envelope.error.issues, doc));
  if (flowDoc === undefined) issues.push({ path: ['flow'], message: 'missing required field (the flow document)' });
  const parsed = flowDoc === undefined ? undefined : parseFlow(flowDoc, options);
  if (parsed && !parsed.ok) issues.push(...parsed.issues.map((issue) => ({ ...issue, path: ['flow', ...issue.path] })));
  if (!envelope.success || !parsed?.ok) return { ok: false, issues };

  const file = envelope.data;
  const credentials = flowCredentials(parsed.flow);
  const warnings: FlowIssue[] = [];
  if (file.strippedSecrets.length > 0) {
    warnings.push({
      path: ['strippedSecrets'],
      message: `this flow had secrets removed at export: set them again (${file.strippedSecrets.map((s) => s.path).join(', ')})`,
    });
  }
  if (!sameList(file.credentials, credentials)) {
    // The list is derived from the flow; the flow is what will run, so its references win.
    warnings.push({
      path: ['credentials'],
      message: `"credentials" lists ${describeNames(file.credentials)} but the flow references ${describeNames(credentials)}; using the flow's references`,
    });
  }
  return {
    ok: true,
    flow: parsed.flow,
    name: file.name,
    ...(file.description === undefined ? {} : { description: file.description }),
    credentials,
    ...migratedFrom(isRecord(flowDoc) ? flowDoc['version'] : undefined, parsed.migrations),
    warnings,
  };
}

function parseBareFlow(doc: unknown, options: { migrations?: readonly FlowMigration[] } & GraphCheckOptions): ParseFlowExportResult {
  const shapeIssue = checkJsonShape(doc);
  if (shapeIssue) return { ok: false, issues: [shapeIssue] };
  const version = isRecord(doc) ? doc['version'] : undefined;
  const parsed = parseFlow(doc, options);
  if (!parsed.ok) return parsed;
  const { flow } = parsed;
  return {
    ok: true,
    flow,
    // `name` is required by the schema today; the id keeps a later format that drops it importable.
    name: flow.name || flow.id,
    ...(flow.description === undefined ? {} : { description: flow.description }),
    credentials: flowCredentials(flow),
    ...migratedFrom(version, parsed.migrations),
    warnings: [],
  };
}

/** Export files say what they are; a bare flow never has these fields (its schema is strict). */
function isEnvelope(doc: unknown): doc is Record<string, unknown> {
  return isRecord(doc) && (Object.hasOwn(doc, 'format') || Object.hasOwn(doc, 'formatVersion') || Object.hasOwn(doc, 'flow'));
}

function checkFormat(doc: Record<string, unknown>): FlowIssue | undefined {
  const format = doc['format'];
  if (format !== FLOW_EXPORT_FORMAT) {
    return {
      path: ['format'],
      message:
        format === undefined
          ? `missing "format" (an export file has "format": "${FLOW_EXPORT_FORMAT}")`
          : `unknown format ${JSON.stringify(format)} (expected "${FLOW_EXPORT_FORMAT}")`,
    };
  }
  const version = doc['formatVersion'];
  if (version === undefined) {
    return { path: ['formatVersion'], message: `missing "formatVersion" (this build reads export format 1 to ${FLOW_EXPORT_FORMAT_VERSION})` };
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return { path: ['formatVersion'], message: `"formatVersion" must be a positive integer, got ${JSON.stringify(version)}` };
  }
  if (version > FLOW_EXPORT_FORMAT_VERSION) {
    return {
      path: ['formatVersion'],
      message: `export format ${version} is newer than this build understands (${FLOW_EXPORT_FORMAT_VERSION}); upgrade to open it`,
    };
  }
  return undefined;
}

function migratedFrom(version: unknown, applied: readonly string[]): { migratedFrom?: number } {
  return applied.length > 0 && typeof version === 'number' ? { migratedFrom: version } : {};
}

// ---------------------------------------------------------------------------------------
// Finding secrets. The walk is generic over the JSON, not kind by kind: every `params`
// object (skill and parallel configs, chain steps, parallel instances, agent tools) and
// every `default` value (input fields, chain steps), at any depth, so nested patterns and
// sub-flows (a pattern's or an agent tool's `flow`) are covered, and so is any node kind
// added later. The one field outside them is an agent's `config.credential`: a name.
// ---------------------------------------------------------------------------------------

/** Keys whose values are user-written data that may hold a pasted secret. */
const SCANNED_KEYS = new Set(['params', 'default']);

/** HTTP headers whose value is a credential. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key', 'x-auth-token']);

const SECRET_KEY = /^(api[-_]?key|apikey|password|passwd|secret|client[-_]?secret|access[-_]?token|refresh[-_]?token|token|bearer|private[-_]?key)$/i;

/** Well-known key formats; the lookbehind keeps `task-...` from matching `sk-`. */
const KEY_SHAPES: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}/, what: 'an API secret key ("sk-...")' },
  { pattern: /(?<![A-Za-z0-9])ghp_[A-Za-z0-9]{20,}/, what: 'a GitHub personal access token ("ghp_...")' },
  { pattern: /(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{20,}/, what: 'a GitHub fine-grained token ("github_pat_...")' },
  { pattern: /(?<![A-Za-z0-9])xox[bp]-[A-Za-z0-9-]{10,}/, what: 'a Slack token ("xoxb-..." or "xoxp-...")' },
  { pattern: /(?<![A-Za-z0-9])AKIA[A-Z0-9]{16}(?![A-Za-z0-9])/, what: 'an AWS access key id ("AKIA...")' },
];

interface ScanResult {
  credentials: string[];
  strippedSecrets: StrippedSecret[];
}

/** Lists credential references and literal secrets; with `strip`, also blanks the secrets in place. */
function scanSecrets(root: unknown, strip: boolean): ScanResult {
  const credentials = new Set<string>();
  const strippedSecrets: StrippedSecret[] = [];
  interface Item {
    value: unknown;
    path: (string | number)[];
    /** Inside a `params` or `default` value. */
    scanned: boolean;
    /** The object or array holding `value`, to blank it there. */
    holder?: Record<string | number, unknown>;
    /** `value` is an agent node's `config`. */
    agentConfig?: boolean;
    /** `value` is an agent node's `config.credential`. */
    agentCredential?: boolean;
  }
  // Iterative, children pushed in reverse: document order without recursion on deep params.
  const stack: Item[] = [{ value: root, path: [], scanned: false }];
  while (stack.length > 0) {
    const { value, path, scanned, holder, agentConfig, agentCredential } = stack.pop()!;
    if (typeof value === 'string') {
      if (agentCredential && holder !== undefined && value !== '') {
        const reason = secretReason(value, 'credential', false);
        if (!reason) credentials.add(value);
        else {
          strippedSecrets.push({ path: fieldPath(path, false), reason });
          // Removed rather than blanked: "" is not a valid credential name, and without one the
          // agent uses its provider's default credential until a person sets it again.
          if (strip) delete holder['credential'];
        }
        continue;
      }
      if (!scanned || holder === undefined) continue;
      const key = path.at(-1)!;
      const reason = secretReason(value, key, path.at(-2) === 'headers');
      if (reason) {
        strippedSecrets.push({ path: fieldPath(path, false), reason });
        if (strip) holder[key] = '';
      } else if (key === 'credential' && value !== '') {
        credentials.add(value);
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((item, i) => [i, item]) : Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      const childScanned = scanned || (typeof key === 'string' && SCANNED_KEYS.has(key));
      const child: Item = { value: item, path: [...path, key], scanned: childScanned, holder: value as Record<string | number, unknown> };
      if (!scanned && key === 'config' && (value as Record<string, unknown>)['kind'] === 'agent') child.agentConfig = true;
      if (agentConfig && key === 'credential') child.agentCredential = true;
      stack.push(child);
    }
  }
  return { credentials: [...credentials].sort(), strippedSecrets };
}

/** Why `value`, found under `key`, is a secret; undefined when it is not. */
function secretReason(value: string, key: string | number, inHeaders: boolean): string | undefined {
  if (value === '') return undefined;
  if (typeof key === 'string' && key !== 'credential' && !onlyRunInput(value)) {
    if (inHeaders && SECRET_HEADERS.has(key.toLowerCase())) return `value of the "${key}" header, which carries credentials`;
    if (SECRET_KEY.test(key)) return `"${key}" names a secret`;
  }
  for (const shape of KEY_SHAPES) {
    if (shape.pattern.test(value)) return `looks like ${shape.what}`;
  }
  return undefined;
}

/**
 * `{{ token }}` or `{{ $.auth }}`: the value comes from the run's input when it runs, so the
 * file holds no secret. Any literal text around the placeholders, or a quoted string inside
 * one (`{{ 'abc' }}`), could be a secret, so it does not count.
 */
function onlyRunInput(value: string): boolean {
  let rest = value;
  let placeholders = 0;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    if (rest.slice(0, open).trim() !== '') return false;
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) return false;
    const expression = rest.slice(open + 2, close);
    if (expression.trim() === '' || /["'`]/.test(expression)) return false;
    placeholders++;
    rest = rest.slice(close + 2);
  }
  return placeholders > 0 && rest.trim() === '';
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((name, i) => name === b[i]);
}

function describeNames(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((n) => JSON.stringify(n)).join(', ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
