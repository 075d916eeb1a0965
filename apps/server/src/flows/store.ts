import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import { checkFlowGraph, parseFlow, type Flow, type FlowIssue } from '@loom/shared';
import { compileFlow, flowHash } from '@loom/engine';
import type { Db } from '../db/open.js';
import { flows, flowVersions, runs } from '../db/schema.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';

export interface FlowSummary {
  id: string;
  name: string;
  description: string;
  currentVersion: number;
  nodeCount: number;
  createdAt: number;
  updatedAt: number;
}

export interface FlowRecord extends Omit<FlowSummary, 'nodeCount'> {
  /** The version returned (the current one unless asked for another). */
  version: number;
  definition: Flow;
  hash: string;
}

export interface FlowVersionSummary {
  version: number;
  hash: string;
  message: string;
  restoredFrom: number | null;
  createdAt: number;
}

/**
 * Flows and their versions. Every save is a new version; nothing is overwritten, so any
 * version can be restored. Saves name the version they were based on: saving over a newer
 * one is a conflict, never a silent overwrite.
 */
export class FlowStore {
  /** Versions never change once saved: parsed definitions are kept for the hot path (starting runs). */
  private readonly versionCache = new Map<string, { definition: Flow; hash: string }>();

  /** Read whenever a run starts: prepared once. */
  private readonly selectFlow;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    this.selectFlow = db.select().from(flows).where(eq(flows.id, sql.placeholder('id'))).prepare();
  }

  list(): FlowSummary[] {
    const rows = this.db
      .select({ flow: flows, definition: flowVersions.definition })
      .from(flows)
      .innerJoin(flowVersions, and(eq(flowVersions.flowId, flows.id), eq(flowVersions.version, flows.currentVersion)))
      .orderBy(desc(flows.updatedAt), asc(flows.id))
      .all();
    return rows.map(({ flow, definition }) => ({ ...flow, nodeCount: (JSON.parse(definition) as Flow).nodes.length }));
  }

  get(id: string, version?: number): FlowRecord {
    const flow = this.selectFlow.get({ id });
    if (!flow) throw new NotFoundError('flow', id);
    const wanted = version ?? flow.currentVersion;
    const key = `${id}@${wanted}`;
    let cached = this.versionCache.get(key);
    if (!cached) {
      const row = this.db
        .select({ definition: flowVersions.definition, hash: flowVersions.hash })
        .from(flowVersions)
        .where(and(eq(flowVersions.flowId, id), eq(flowVersions.version, wanted)))
        .get();
      if (!row) throw new NotFoundError('flow version', key);
      cached = { definition: JSON.parse(row.definition) as Flow, hash: row.hash };
      if (this.versionCache.size >= 512) this.versionCache.delete(this.versionCache.keys().next().value!);
      this.versionCache.set(key, cached);
    }
    return { ...flow, version: wanted, definition: cached.definition, hash: cached.hash };
  }

  /** Problems that do not stop a save but stop a run (an unconnected node, a skill's parameters…). */
  problems(definition: Flow): FlowIssue[] {
    return runProblems(definition);
  }

  /** Creates a flow from a document. Its `id` is kept when free; otherwise a free one is derived (`<id>-2`…). */
  create(document: unknown, options: { message?: string } = {}): FlowRecord {
    const flow = validate(document);
    return this.db.transaction(() => {
      const id = this.freeId(flow.id);
      const definition: Flow = { ...flow, id };
      const now = this.now();
      this.db.insert(flows).values({ id, name: definition.name, description: definition.description ?? '', currentVersion: 1, createdAt: now, updatedAt: now }).run();
      this.insertVersion(definition, 1, now, options.message ?? 'created', null);
      return this.get(id);
    });
  }

  /**
   * Saves a new version. `baseVersion` is the version the editor started from: when the
   * flow has moved on since, nothing is saved and a ConflictError says so.
   */
  save(id: string, document: unknown, baseVersion: number, options: { message?: string; restoredFrom?: number } = {}): FlowRecord {
    const parsed = validate(document);
    return this.db.transaction(() => {
      const current = this.db.select().from(flows).where(eq(flows.id, id)).get();
      if (!current) throw new NotFoundError('flow', id);
      if (current.currentVersion !== baseVersion) {
        throw new ConflictError(`flow "${id}" was saved as version ${current.currentVersion} since version ${baseVersion} was loaded: reload it (or save as a copy) before saving`);
      }
      // The id is the flow's identity in the store: a document cannot rename it.
      const definition: Flow = { ...parsed, id };
      const version = baseVersion + 1;
      const now = this.now();
      this.insertVersion(definition, version, now, options.message ?? '', options.restoredFrom ?? null);
      this.db.update(flows).set({ name: definition.name, description: definition.description ?? '', currentVersion: version, updatedAt: now }).where(eq(flows.id, id)).run();
      return this.get(id);
    });
  }

  /** Makes an old version the current one, as a new version (history is never rewritten). */
  restore(id: string, version: number, baseVersion: number): FlowRecord {
    const old = this.get(id, version);
    return this.save(id, old.definition, baseVersion, { message: `restored version ${version}`, restoredFrom: version });
  }

  duplicate(id: string, name?: string): FlowRecord {
    const source = this.get(id);
    return this.create({ ...source.definition, id: `${id}-copy`, name: name ?? `${source.name} (copy)` }, { message: `duplicated from ${id}@${source.version}` });
  }

  /** Deletes the flow with its versions, runs and share links; refused while one of its runs is unfinished. */
  delete(id: string): void {
    const unfinished = this.db
      .select({ n: count() })
      .from(runs)
      .where(and(eq(runs.flowId, id), inArray(runs.status, ['queued', 'running'])))
      .get()!.n;
    if (unfinished > 0) throw new ConflictError(`flow "${id}" has ${unfinished} unfinished run(s): cancel them before deleting the flow`);
    const result = this.db.delete(flows).where(eq(flows.id, id)).run();
    if (result.changes === 0) throw new NotFoundError('flow', id);
    // The id may be taken again (an import after a delete): forget the old versions.
    for (const key of this.versionCache.keys()) if (key.startsWith(`${id}@`)) this.versionCache.delete(key);
  }

  versions(id: string): FlowVersionSummary[] {
    if (!this.db.select({ id: flows.id }).from(flows).where(eq(flows.id, id)).get()) throw new NotFoundError('flow', id);
    return this.db
      .select({ version: flowVersions.version, hash: flowVersions.hash, message: flowVersions.message, restoredFrom: flowVersions.restoredFrom, createdAt: flowVersions.createdAt })
      .from(flowVersions)
      .where(eq(flowVersions.flowId, id))
      .orderBy(desc(flowVersions.version))
      .all();
  }

  count(): number {
    return this.db.select({ n: count() }).from(flows).get()!.n;
  }

  private insertVersion(definition: Flow, version: number, now: number, message: string, restoredFrom: number | null): void {
    this.db
      .insert(flowVersions)
      .values({ flowId: definition.id, version, definition: JSON.stringify(definition), hash: flowHash(definition), message, restoredFrom, createdAt: now })
      .run();
  }

  private freeId(wanted: string): string {
    const taken = (id: string) => this.db.select({ id: flows.id }).from(flows).where(eq(flows.id, id)).get() !== undefined;
    if (!taken(wanted)) return wanted;
    const stem = wanted.replace(/-\d+$/, '').slice(0, 240);
    for (let n = 2; ; n++) if (!taken(`${stem}-${n}`)) return `${stem}-${n}`;
  }
}

/** What stops a flow from running: the full graph check, then compilation (skills, expressions, models). */
export function runProblems(flow: Flow): FlowIssue[] {
  const graph = checkFlowGraph(flow);
  if (graph.length) return graph;
  const compiled = compileFlow(flow);
  return compiled.ok ? [] : compiled.issues;
}

/**
 * To save, the schema must hold and the graph must be sound (ids, edges, ports, no
 * cycle); nodes not connected yet are allowed, since a flow is saved while it is drawn.
 */
function validate(document: unknown): Flow {
  const parsed = parseFlow(document, { allowUnconnected: true });
  if (!parsed.ok) throw new InvalidInputError('the flow is not valid', parsed.issues);
  return parsed.flow;
}
