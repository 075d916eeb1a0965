import { blob, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The server's tables. Times are epoch milliseconds. JSON columns hold text; the flow
 * definitions are validated by `@loom/shared` on every write, so what is stored always
 * parses. `apps/server/drizzle/` holds the migrations generated from this file
 * (`pnpm --filter @loom/server db:generate`); they run on start.
 */

export const flows = sqliteTable('flows', {
  /** The flow document's own `id`: what run events call `flowId`. */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  /** Latest saved version; every save adds one. */
  currentVersion: integer('current_version').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const flowVersions = sqliteTable(
  'flow_versions',
  {
    flowId: text('flow_id')
      .notNull()
      .references(() => flows.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    /** The flow document (JSON), as validated and migrated to the current format. */
    definition: text('definition').notNull(),
    /** `flowHash` of the definition: runs log it, replays check it. */
    hash: text('hash').notNull(),
    message: text('message').notNull().default(''),
    /** Set when this version was made by restoring an older one. */
    restoredFrom: integer('restored_from'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.flowId, t.version] })],
);

export const RUN_ROW_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type RunRowStatus = (typeof RUN_ROW_STATUSES)[number];

export const runs = sqliteTable(
  'runs',
  {
    /** Compact key for the events table. */
    pk: integer('pk').primaryKey({ autoIncrement: true }),
    id: text('id').notNull().unique(),
    flowId: text('flow_id')
      .notNull()
      .references(() => flows.id, { onDelete: 'cascade' }),
    flowVersion: integer('flow_version').notNull(),
    status: text('status', { enum: RUN_ROW_STATUSES }).notNull(),
    input: text('input').notNull(),
    output: text('output'),
    error: text('error'),
    /** The run this one resumed or forked from. */
    parentRunId: text('parent_run_id'),
    origin: text('origin', { enum: ['start', 'resume', 'fork'] }).notNull(),
    forkNodeId: text('fork_node_id'),
    /** Highest committed event seq. */
    lastSeq: integer('last_seq').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    /** Set when retention removed the run's events; the row keeps its outcome. */
    eventsPrunedAt: integer('events_pruned_at'),
  },
  (t) => [index('runs_flow_created').on(t.flowId, t.createdAt), index('runs_status_created').on(t.status, t.createdAt), index('runs_created').on(t.createdAt)],
);

/**
 * One row per run event, keyed by (run, seq). The row keeps `ts` and `type` as columns
 * and the rest of the event in `body`: JSON text, or deflated JSON (a blob) when large.
 * `v` and `runId` are not stored per row: they are the same for every event of a run.
 */
export const runEvents = sqliteTable(
  'run_events',
  {
    runPk: integer('run_pk')
      .notNull()
      .references(() => runs.pk, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    ts: integer('ts').notNull(),
    type: text('type').notNull(),
    body: blob('body', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.runPk, t.seq] })],
);

export const credentials = sqliteTable('credentials', {
  name: text('name').primaryKey(),
  /** AES-256-GCM sealed value (see credentials/crypto.ts); never sent to a browser. */
  sealed: text('sealed').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const shares = sqliteTable('shares', {
  token: text('token').primaryKey(),
  flowId: text('flow_id')
    .notNull()
    .references(() => flows.id, { onDelete: 'cascade' }),
  /** The shared version; null follows the latest. */
  version: integer('version'),
  createdAt: integer('created_at').notNull(),
  revokedAt: integer('revoked_at'),
});

/**
 * MCP servers an admin registered, by the name flows use. `config` is the connection (JSON:
 * an HTTP URL with headers and an optional credential name, or a stdio command run in a
 * sandbox); `pinned` holds each approved tool's description and input schema, and
 * `changes` what the server now announces differently (a "rug pull"), awaiting approval.
 */
export const mcpServers = sqliteTable('mcp_servers', {
  name: text('name').primaryKey(),
  transport: text('transport', { enum: ['http', 'stdio'] }).notNull(),
  config: text('config').notNull(),
  /** JSON: `{ [tool]: { description?, inputSchema, hash } }`, as approved. */
  pinned: text('pinned').notNull().default('{}'),
  /** JSON: the tools as last listed when they differ from `pinned`; null when they match. */
  observed: text('observed'),
  lastError: text('last_error'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  approvedAt: integer('approved_at').notNull(),
});
