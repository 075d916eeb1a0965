import { z } from 'zod';
import { createBuiltinSkillRegistry, describeSkills, type SkillDescription } from '@loom/engine';
import { CredentialName, exportFlow, FLOW_LIMITS, McpServerName, NodeId, parseFlowExport } from '@loom/shared';
import { RegisterMcpServer } from './mcp/config.js';
import { referencedMcpTools } from './mcp/flow-tools.js';
import { RUN_ROW_STATUSES } from './db/schema.js';
import { InvalidInputError } from './errors.js';
import { procedure, router } from './trpc.js';

// Every procedure validates its input: ids are bounded strings, documents go through the
// flow schema inside the services, and lists are paged.
const Id = z.string().min(1).max(256);
const FlowId = NodeId;
const Version = z.number().int().positive();
const RunId = Id;
/** A flow document is checked by the flow schema (with paths); here only its envelope. */
const FlowDocument = z.record(z.string(), z.unknown());

const flowsRouter = router({
  list: procedure.query(({ ctx }) => ctx.services.flows.list()),
  get: procedure.input(z.object({ id: FlowId, version: Version.optional() })).query(({ ctx, input }) => {
    const flow = ctx.services.flows.get(input.id, input.version);
    return { ...flow, problems: ctx.services.flows.problems(flow.definition) };
  }),
  /** Checks a document without saving it: schema and graph issues, then what would stop a run. */
  validate: procedure.input(z.object({ definition: FlowDocument })).mutation(({ ctx, input }) => ctx.services.validate(input.definition)),
  create: procedure.input(z.object({ definition: FlowDocument, message: z.string().max(500).optional() })).mutation(({ ctx, input }) =>
    ctx.services.flows.create(input.definition, input.message === undefined ? {} : { message: input.message }),
  ),
  /** Saves a new version on top of `baseVersion`; CONFLICT when the flow moved on since. */
  save: procedure
    .input(z.object({ id: FlowId, baseVersion: Version, definition: FlowDocument, message: z.string().max(500).optional() }))
    .mutation(({ ctx, input }) => ctx.services.flows.save(input.id, input.definition, input.baseVersion, input.message === undefined ? {} : { message: input.message })),
  delete: procedure.input(z.object({ id: FlowId })).mutation(({ ctx, input }) => {
    ctx.services.flows.delete(input.id);
    return { deleted: input.id };
  }),
  duplicate: procedure.input(z.object({ id: FlowId, name: z.string().min(1).max(200).optional() })).mutation(({ ctx, input }) => ctx.services.flows.duplicate(input.id, input.name)),
  versions: procedure.input(z.object({ id: FlowId })).query(({ ctx, input }) => ctx.services.flows.versions(input.id)),
  restore: procedure.input(z.object({ id: FlowId, version: Version, baseVersion: Version })).mutation(({ ctx, input }) => ctx.services.flows.restore(input.id, input.version, input.baseVersion)),
  /** The export file's text (secrets stripped, credentials by name) and a file name for it. */
  export: procedure.input(z.object({ id: FlowId, version: Version.optional() })).query(({ ctx, input }) => {
    const flow = ctx.services.flows.get(input.id, input.version);
    const { file, text } = exportFlow(flow.definition, { name: flow.name, ...(flow.description ? { description: flow.description } : {}), exportedAt: new Date(ctx.services.now()).toISOString() });
    return { fileName: `${flow.id}.loom.json`, text, credentials: file.credentials, strippedSecrets: file.strippedSecrets };
  }),
  /** Creates a flow from an export (or bare flow) file. Nothing in it runs; every problem comes back with its path. */
  import: procedure.input(z.object({ text: z.string().max(FLOW_LIMITS.maxBytes * 2) })).mutation(({ ctx, input }) => {
    // Like a save: a flow still being drawn (nodes not connected yet) imports, and will not run until finished.
    const parsed = parseFlowExport(input.text, { allowUnconnected: true });
    if (!parsed.ok) throw new InvalidInputError('the file cannot be imported', parsed.issues);
    const flow = ctx.services.flows.create({ ...parsed.flow, name: parsed.name, ...(parsed.description !== undefined ? { description: parsed.description } : {}) }, { message: 'imported' });
    // A flow names MCP servers only (never a URL or command): say which are not registered here.
    const mcpServers = [...new Set(referencedMcpTools(parsed.flow).map((t) => t.server))].sort();
    const registered = new Set(ctx.services.mcp.list().map((s) => s.name));
    return {
      flow,
      warnings: parsed.warnings,
      credentials: parsed.credentials,
      missingCredentials: parsed.credentials.filter((name) => !ctx.services.credentials.has(name)),
      mcpServers,
      missingMcpServers: mcpServers.filter((name) => !registered.has(name)),
    };
  }),
  share: procedure.input(z.object({ id: FlowId, version: Version.nullable().default(null) })).mutation(({ ctx, input }) => ctx.services.shares.create(input.id, input.version)),
  shares: procedure.input(z.object({ id: FlowId })).query(({ ctx, input }) => ctx.services.shares.list(input.id)),
  unshare: procedure.input(z.object({ token: Id })).mutation(({ ctx, input }) => {
    ctx.services.shares.revoke(input.token);
    return { revoked: input.token };
  }),
  /** What a share link opens: the flow, read-only. */
  shared: procedure.input(z.object({ token: Id })).query(({ ctx, input }) => {
    const flow = ctx.services.shares.open(input.token);
    return { id: flow.id, name: flow.name, description: flow.description, version: flow.version, definition: flow.definition };
  }),
});

const runsRouter = router({
  /** Starts a run. With `wait`, answers once the run has finished (its final status committed). */
  start: procedure
    .input(z.object({ flowId: FlowId, version: Version.optional(), input: z.unknown().optional(), wait: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      const run = ctx.services.runs.start(input.flowId, { ...(input.version !== undefined ? { version: input.version } : {}), input: input.input ?? {} });
      return input.wait ? ctx.services.runs.settled(run.id) : run;
    }),
  cancel: procedure.input(z.object({ runId: RunId })).mutation(({ ctx, input }) => ctx.services.runs.cancel(input.runId)),
  get: procedure.input(z.object({ runId: RunId })).query(({ ctx, input }) => ctx.services.runs.get(input.runId)),
  list: procedure
    .input(
      z.object({
        flowId: FlowId.optional(),
        status: z.array(z.enum(RUN_ROW_STATUSES)).max(RUN_ROW_STATUSES.length).optional(),
        from: z.number().int().min(0).optional(),
        to: z.number().int().min(0).optional(),
        cursor: RunId.optional(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(({ ctx, input }) => ctx.services.runs.list(withoutUndefined(input))),
  /** The log, page by page: events after `afterSeq`. */
  events: procedure
    .input(z.object({ runId: RunId, afterSeq: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(5_000).default(1_000) }))
    .query(({ ctx, input }) => {
      const events = ctx.services.runs.events(input.runId, input.afterSeq, input.limit);
      return { events, nextAfterSeq: events.length === input.limit ? events[events.length - 1]!.seq : null };
    }),
  /** The run's state rebuilt from its log alone (at `atSeq`, or at the end); nothing runs. */
  replay: procedure.input(z.object({ runId: RunId, atSeq: z.number().int().min(0).optional() })).query(({ ctx, input }) => ctx.services.runs.replay(input.runId, input.atSeq)),
  resume: procedure.input(z.object({ runId: RunId })).mutation(({ ctx, input }) => ctx.services.runs.resume(input.runId)),
  fork: procedure
    .input(z.object({ runId: RunId, fromNodeId: NodeId, version: Version.optional() }))
    .mutation(({ ctx, input }) => ctx.services.runs.fork(input.runId, input.fromNodeId, input.version)),
});

const credentialsRouter = router({
  /** Names and dates only: values never leave the server. */
  list: procedure.query(({ ctx }) => ctx.services.credentials.list()),
  set: procedure
    .input(z.object({ name: CredentialName, value: z.string().min(1).max(65_536) }))
    .mutation(({ ctx, input }) => ctx.services.credentials.set(input.name, input.value)),
  delete: procedure.input(z.object({ name: Id })).mutation(({ ctx, input }) => {
    ctx.services.credentials.delete(input.name);
    return { deleted: input.name };
  }),
});

const templatesRouter = router({
  list: procedure.query(({ ctx }) => ctx.services.templates.list()),
  /** Creates a flow from a template. */
  use: procedure.input(z.object({ name: Id })).mutation(({ ctx, input }) => {
    const template = ctx.services.templates.get(input.name);
    return ctx.services.flows.create(template.flow, { message: `from template ${template.name}` });
  }),
});

const ToolChange = z.object({ tool: z.string(), change: z.enum(['added', 'removed', 'changed']), fields: z.array(z.enum(['description', 'inputSchema', 'other'])).optional() });

const mcpRouter = router({
  servers: router({
    list: procedure.query(({ ctx }) => ctx.services.mcp.list()),
    get: procedure.input(z.object({ name: McpServerName })).query(({ ctx, input }) => ctx.services.mcp.get(input.name)),
    /**
     * Registers a server (an admin action: it needs the admin token like every procedure) and
     * pins the tools it lists as approved. A stdio server runs a command: it needs
     * `allowCommand: true` and a sandbox driver. Imports never register servers.
     */
    register: procedure.input(RegisterMcpServer).mutation(({ ctx, input }) => ctx.services.mcp.register(input)),
    remove: procedure.input(z.object({ name: McpServerName })).mutation(async ({ ctx, input }) => {
      await ctx.services.mcp.remove(input.name);
      return { removed: input.name };
    }),
    /** Connects, lists the tools again and flags any that differ from the approved ones. */
    refresh: procedure.input(z.object({ name: McpServerName })).mutation(({ ctx, input }) => ctx.services.mcp.refresh(input.name)),
    /** The server's tools, resources and prompts as it announces them now. */
    inspect: procedure.input(z.object({ name: McpServerName })).query(({ ctx, input }) => ctx.services.mcp.inspect(input.name)),
    /** Approves the changed tools (pass the `changes` you reviewed: CONFLICT if they moved on since). */
    approve: procedure
      .input(z.object({ name: McpServerName, changes: z.array(ToolChange).max(10_000).optional() }))
      .mutation(({ ctx, input }) => ctx.services.mcp.approve(input.name, input.changes)),
  }),
  /** Every tool of every registered server with its state, from the database (for the palette and agents' tool lists). */
  tools: procedure.query(({ ctx }) => ctx.services.mcp.tools()),
});

export const appRouter = router({
  flows: flowsRouter,
  runs: runsRouter,
  credentials: credentialsRouter,
  templates: templatesRouter,
  mcp: mcpRouter,
  system: router({
    info: procedure.query(({ ctx }) => ctx.services.info()),
    /** The built-in skills with JSON Schemas of their parameters, for the inspector's forms. */
    skills: procedure.query(() => (skillCatalog ??= describeSkills(createBuiltinSkillRegistry()))),
  }),
});

export type AppRouter = typeof appRouter;

let skillCatalog: SkillDescription[] | undefined;

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
