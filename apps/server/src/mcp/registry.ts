import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { eq } from 'drizzle-orm';
import { NodeError, type McpToolSource } from '@loom/engine';
import type { Db } from '../db/open.js';
import { mcpServers } from '../db/schema.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { McpServerConfig, type RegisterMcpServer, type StdioServerConfig } from './config.js';
import { diffTools, pinTools, type ListedTool, type PinnedTools, type ToolChange } from './pins.js';
import { McpConnectionPool } from './pool.js';

/** Starts a stdio MCP server's command inside a sandbox and gives its stdin/stdout as an MCP transport. */
export interface StdioLauncher {
  /** The sandbox driver it uses (`gvisor`, `bwrap`), shown to admins. */
  readonly driver: string;
  open(name: string, config: StdioServerConfig): Promise<Transport>;
}

export interface McpRegistryOptions {
  db: Db;
  now: () => number;
  /** Resolves a stored credential's value (HTTP servers' `credential`). */
  credential: (name: string) => Promise<string>;
  /** Runs stdio servers in a sandbox; absent, stdio servers are refused. */
  stdio?: StdioLauncher;
  /** A connection unused this long is closed. */
  idleMs?: number;
  /** Limit for one tool call. */
  callTimeoutMs?: number;
  /** A tool answer larger than this (JSON) fails the call rather than filling the log. */
  maxResultBytes?: number;
}

export type ToolState = 'approved' | 'changed' | 'added' | 'removed';

export interface McpToolView {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  /** `approved`: callable. `changed`/`added`: announced differently than approved, not callable until approved. `removed`: gone from the server. */
  state: ToolState;
}

export interface McpServerView {
  name: string;
  transport: 'http' | 'stdio';
  config: McpServerConfig;
  /** `changed`: the server announces tools that differ from the approved ones (see `changes`). */
  status: 'ready' | 'changed';
  changes: ToolChange[];
  tools: McpToolView[];
  lastError: string | null;
  connected: boolean;
  createdAt: number;
  updatedAt: number;
  approvedAt: number;
}

type Row = typeof mcpServers.$inferSelect;

const DEFAULT_IDLE_MS = 60_000;
const DEFAULT_CALL_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_RESULT_BYTES = 5_000_000;
const CLIENT_INFO = { name: 'loom', version: '0.1.0' };

/**
 * The MCP servers an admin registered: their configs and approved ("pinned") tools in SQLite,
 * and one pooled client each. Every new connection lists the tools again and compares them
 * with the pins; a tool whose description or schema changed is flagged and refused until
 * an admin approves the change. Runs reach it through `toolSource()`.
 */
export class McpRegistry {
  private readonly pool: McpConnectionPool;
  private readonly callTimeoutMs: number;
  private readonly maxResultBytes: number;

  constructor(private readonly options: McpRegistryOptions) {
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    this.pool = new McpConnectionPool({
      idleMs: options.idleMs ?? DEFAULT_IDLE_MS,
      open: (name) => this.open(name),
      connected: async (name, client) => {
        client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
          await this.recordListing(name, client).catch(() => undefined);
        });
        await this.recordListing(name, client);
      },
    });
  }

  /** Whether stdio servers can run here, and with which sandbox driver. */
  get stdioDriver(): string | null {
    return this.options.stdio?.driver ?? null;
  }

  list(): McpServerView[] {
    return this.options.db.select().from(mcpServers).orderBy(mcpServers.name).all().map((row) => this.view(row));
  }

  get(name: string): McpServerView {
    return this.view(this.row(name));
  }

  /**
   * Registers a server: connects, lists its tools and pins them as approved by the admin
   * registering it. Nothing is saved when the server cannot be reached.
   */
  async register({ name, config: input }: RegisterMcpServer): Promise<McpServerView> {
    const config = McpServerConfig.parse(input);
    if (this.options.db.select({ name: mcpServers.name }).from(mcpServers).where(eq(mcpServers.name, name)).get()) {
      throw new ConflictError(`an MCP server named "${name}" is already registered: remove it first, or choose another name`);
    }
    if (config.transport === 'stdio' && !this.options.stdio) throw stdioRefused(name);
    const client = await this.connect(name, config).catch((error: unknown) => {
      throw new ConflictError(`cannot connect to MCP server "${name}": ${errorText(error)}`);
    });
    let tools: ListedTool[];
    try {
      tools = await listAllTools(client);
    } finally {
      await client.close().catch(() => undefined);
    }
    const now = this.options.now();
    this.options.db
      .insert(mcpServers)
      .values({ name, transport: config.transport, config: JSON.stringify(config), pinned: JSON.stringify(pinTools(tools)), observed: null, lastError: null, createdAt: now, updatedAt: now, approvedAt: now })
      .run();
    return this.get(name);
  }

  async remove(name: string): Promise<void> {
    this.row(name);
    await this.pool.close(name);
    this.options.db.delete(mcpServers).where(eq(mcpServers.name, name)).run();
  }

  /** Connects (or reuses the connection), lists the tools again, and answers the server's state. */
  async refresh(name: string): Promise<McpServerView> {
    this.row(name);
    await this.pool.use(name, (client) => this.recordListing(name, client));
    return this.get(name);
  }

  /** The server's state, tools, resources and prompts, as it announces them now. */
  async inspect(name: string): Promise<{ server: McpServerView; resources: { uri: string; name: string; description?: string; mimeType?: string }[]; prompts: { name: string; description?: string; arguments?: { name: string; description?: string; required?: boolean }[] }[] }> {
    this.row(name);
    const { resources, prompts } = await this.pool.use(name, async (client) => {
      await this.recordListing(name, client);
      const capabilities = client.getServerCapabilities() ?? {};
      return {
        resources: capabilities.resources ? (await client.listResources()).resources : [],
        prompts: capabilities.prompts ? (await client.listPrompts()).prompts : [],
      };
    });
    return {
      server: this.get(name),
      resources: resources.map((r) => ({ uri: r.uri, name: r.name, ...(r.description ? { description: r.description } : {}), ...(r.mimeType ? { mimeType: r.mimeType } : {}) })),
      prompts: prompts.map((p) => ({ name: p.name, ...(p.description ? { description: p.description } : {}), ...(p.arguments ? { arguments: p.arguments.map((a) => ({ name: a.name, ...(a.description ? { description: a.description } : {}), ...(a.required !== undefined ? { required: a.required } : {}) })) } : {}) })),
    };
  }

  /**
   * Approves the tools as last listed (what `changes` showed): they become the pins. `expect`
   * guards against approving something other than what the admin looked at.
   */
  approve(name: string, expect?: ToolChange[]): McpServerView {
    const row = this.row(name);
    if (row.observed === null) throw new ConflictError(`MCP server "${name}" has no changes to approve`);
    const observed = JSON.parse(row.observed) as PinnedTools;
    if (expect !== undefined && JSON.stringify(diffTools(JSON.parse(row.pinned) as PinnedTools, observed)) !== JSON.stringify(expect)) {
      throw new ConflictError(`the tools of MCP server "${name}" changed again since they were shown: look at them again before approving`);
    }
    const now = this.options.now();
    this.options.db.update(mcpServers).set({ pinned: row.observed, observed: null, approvedAt: now, updatedAt: now }).where(eq(mcpServers.name, name)).run();
    return this.get(name);
  }

  /** Every approved tool of every server (from the database: nothing connects), for the palette and agents. */
  tools(): { server: string; tool: string; description?: string; inputSchema: Record<string, unknown>; state: ToolState }[] {
    return this.list().flatMap((server) => server.tools.map(({ name, ...tool }) => ({ server: server.name, tool: name, ...tool })));
  }

  /** What runs use: the approved tools only, checked against the server's current listing. */
  toolSource(): McpToolSource {
    return {
      describeTool: async (server, tool, { signal }) => {
        signal.throwIfAborted();
        await this.use(server, async () => undefined);
        const pinned = this.callable(server, tool);
        return { ...(pinned.description !== undefined ? { description: pinned.description } : {}), inputSchema: pinned.inputSchema };
      },
      callTool: async (server, tool, args, { signal }) => {
        signal.throwIfAborted();
        return this.use(server, async (client) => {
          this.callable(server, tool);
          const result = await client.callTool({ name: tool, arguments: args }, undefined, { signal, timeout: this.callTimeoutMs });
          const size = Buffer.byteLength(JSON.stringify(result));
          if (size > this.maxResultBytes) throw new NodeError(`MCP tool "${server}/${tool}" answered ${size} bytes; the limit is ${this.maxResultBytes}`, 'mcp_result_too_large', false);
          const content = Array.isArray(result.content) ? (result.content as unknown[]) : [];
          return { content, ...(result.structuredContent !== undefined ? { structuredContent: result.structuredContent } : {}), ...(result.isError ? { isError: true } : {}) };
        });
      },
    };
  }

  /** Names of servers with an open connection. */
  connectedNames(): string[] {
    return this.pool.openNames();
  }

  close(): Promise<void> {
    return this.pool.closeAll();
  }

  /** Runs `work` on the server's pooled connection; an unreachable server is a retryable node error. */
  private async use<T>(server: string, work: (client: Client) => Promise<T>): Promise<T> {
    this.rowForRun(server);
    try {
      return await this.pool.use(server, work);
    } catch (error) {
      if (error instanceof NodeError) throw error;
      const message = errorText(error);
      this.setError(server, message);
      throw new NodeError(`MCP server "${server}": ${message}`, 'mcp_error', true);
    }
  }

  /** The pinned tool, if a run may call it now; else a node error saying why not. */
  private callable(server: string, tool: string): { description?: string; inputSchema: Record<string, unknown> } {
    const row = this.rowForRun(server);
    const pinned = (JSON.parse(row.pinned) as PinnedTools)[tool];
    const change = row.observed === null ? undefined : diffTools(JSON.parse(row.pinned) as PinnedTools, JSON.parse(row.observed) as PinnedTools).find((c) => c.tool === tool);
    if (change?.change === 'changed') {
      throw new NodeError(`MCP tool "${server}/${tool}" changed its ${change.fields!.join(' and ')} since it was approved: an admin must review and approve the change before it can be used`, 'mcp_tool_changed', false);
    }
    if (change?.change === 'removed') throw new NodeError(`MCP server "${server}" no longer offers the tool "${tool}"`, 'mcp_unknown_tool', false);
    if (!pinned) {
      const approved = Object.keys(JSON.parse(row.pinned) as PinnedTools);
      throw new NodeError(`MCP server "${server}" has no approved tool "${tool}" (approved: ${approved.join(', ') || 'none'})`, 'mcp_unknown_tool', false);
    }
    return pinned;
  }

  private rowForRun(server: string): Row {
    const row = this.options.db.select().from(mcpServers).where(eq(mcpServers.name, server)).get();
    if (!row) {
      const names = this.options.db.select({ name: mcpServers.name }).from(mcpServers).all().map((r) => r.name);
      throw new NodeError(`no MCP server "${server}" is registered on this Loom server (registered: ${names.join(', ') || 'none'})`, 'mcp_unknown_server', false);
    }
    return row;
  }

  private row(name: string): Row {
    const row = this.options.db.select().from(mcpServers).where(eq(mcpServers.name, name)).get();
    if (!row) throw new NotFoundError('MCP server', name);
    return row;
  }

  /** Lists the tools and records whether they differ from the pins. */
  private async recordListing(name: string, client: Client): Promise<void> {
    const listed = pinTools(await listAllTools(client));
    const row = this.options.db.select().from(mcpServers).where(eq(mcpServers.name, name)).get();
    if (!row) return;
    const changes = diffTools(JSON.parse(row.pinned) as PinnedTools, listed);
    this.options.db
      .update(mcpServers)
      .set({ observed: changes.length ? JSON.stringify(listed) : null, lastError: null, updatedAt: this.options.now() })
      .where(eq(mcpServers.name, name))
      .run();
  }

  private setError(name: string, message: string): void {
    this.options.db.update(mcpServers).set({ lastError: message.slice(0, 2_000), updatedAt: this.options.now() }).where(eq(mcpServers.name, name)).run();
  }

  private async open(name: string): Promise<Client> {
    return this.connect(name, McpServerConfig.parse(JSON.parse(this.row(name).config)));
  }

  private async connect(name: string, config: McpServerConfig): Promise<Client> {
    let transport: Transport;
    if (config.transport === 'http') {
      const headers: Record<string, string> = { ...config.headers };
      if (config.credential) headers['authorization'] = `Bearer ${await this.options.credential(config.credential)}`;
      // Redirects are refused: a server must not send our headers (its credential) elsewhere.
      transport = new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers, redirect: 'error' } });
    } else {
      if (!this.options.stdio) throw stdioRefused(name);
      transport = await this.options.stdio.open(name, config);
    }
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    await client.connect(transport, { timeout: 15_000 });
    return client;
  }

  private view(row: Row): McpServerView {
    const pinned = JSON.parse(row.pinned) as PinnedTools;
    const observed = row.observed === null ? null : (JSON.parse(row.observed) as PinnedTools);
    const changes = observed ? diffTools(pinned, observed) : [];
    const stateOf = new Map(changes.map((c) => [c.tool, c.change]));
    const tools: McpToolView[] = [...new Set([...Object.keys(pinned), ...Object.keys(observed ?? {})])].sort().map((name) => {
      const tool = pinned[name] ?? observed![name]!;
      return { name, ...(tool.description !== undefined ? { description: tool.description } : {}), inputSchema: tool.inputSchema, state: stateOf.get(name) ?? 'approved' };
    });
    return {
      name: row.name,
      transport: row.transport,
      config: JSON.parse(row.config) as McpServerConfig,
      status: changes.length ? 'changed' : 'ready',
      changes,
      tools,
      lastError: row.lastError,
      connected: this.pool.openNames().includes(row.name),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      approvedAt: row.approvedAt,
    };
  }
}

async function listAllTools(client: Client): Promise<ListedTool[]> {
  const tools: ListedTool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...(page.tools as ListedTool[]));
    cursor = page.nextCursor;
  } while (cursor !== undefined && tools.length < 10_000);
  return tools;
}

function stdioRefused(name: string): ConflictError {
  return new ConflictError(`MCP server "${name}" is a stdio server: its command needs a sandbox driver (gvisor or bwrap) to run in, and this server has none`);
}

function errorText(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause instanceof Error && !message.includes(cause.message) ? `${message} (${cause.message})` : message;
}
