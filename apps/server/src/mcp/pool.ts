import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

interface Connection {
  /** The pool entry it was opened for: forgetting it never removes a newer connection. */
  entry: Promise<Connection>;
  client: Client;
  /** Calls in progress on it. */
  active: number;
  idleTimer?: NodeJS.Timeout;
  closed: boolean;
}

export interface McpPoolOptions {
  /** Opens a connected client to the named server. */
  open(name: string): Promise<Client>;
  /** Runs once per new connection before it is used (the tool listing is checked against the pins here). */
  connected?(name: string, client: Client): Promise<void>;
  /** A connection unused this long is closed (its process, for stdio servers, ends). */
  idleMs: number;
}

/**
 * One client per MCP server, shared by every run, opened on first use, closed after
 * `idleMs` without calls, and opened again on the next call after it closed or failed.
 * A call that fails because the connection went stale (the server restarted and forgot
 * the session, or refused the connection) never reached the tool: it is retried once on
 * a fresh connection.
 */
export class McpConnectionPool {
  private readonly connections = new Map<string, Promise<Connection>>();

  constructor(private readonly options: McpPoolOptions) {}

  async use<T>(name: string, work: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const reused = this.connections.has(name);
      const connection = await this.acquire(name);
      connection.active++;
      if (connection.idleTimer) clearTimeout(connection.idleTimer);
      try {
        return await work(connection.client);
      } catch (error) {
        const stale = isStaleConnection(error);
        if (stale || connection.closed) this.drop(name, connection);
        if (stale && reused && attempt === 1) continue;
        throw error;
      } finally {
        connection.active--;
        if (connection.active === 0 && !connection.closed) {
          connection.idleTimer = setTimeout(() => this.drop(name, connection), this.options.idleMs);
          connection.idleTimer.unref();
        }
      }
    }
  }

  /** Open connections, by server name. */
  openNames(): string[] {
    return [...this.connections.keys()];
  }

  /** Closes the server's connection (after a config change or removal); the next use opens a new one. */
  async close(name: string): Promise<void> {
    const pending = this.connections.get(name);
    if (!pending) return;
    this.connections.delete(name);
    const connection = await pending.catch(() => undefined);
    if (connection) await this.closeConnection(connection);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.connections.keys()].map((name) => this.close(name)));
  }

  private acquire(name: string): Promise<Connection> {
    const existing = this.connections.get(name);
    if (existing) return existing;
    // Set before `connect` runs (a microtask later), so the connection can name its entry.
    const opening = Promise.resolve().then(() => this.connect(name));
    this.connections.set(name, opening);
    opening.catch(() => {
      if (this.connections.get(name) === opening) this.connections.delete(name);
    });
    return opening;
  }

  private async connect(name: string): Promise<Connection> {
    const entry = this.connections.get(name)!;
    const client = await this.options.open(name);
    const connection: Connection = { entry, client, active: 0, closed: false };
    client.onclose = () => {
      connection.closed = true;
      if (connection.idleTimer) clearTimeout(connection.idleTimer);
      this.forget(name, connection);
    };
    try {
      await this.options.connected?.(name, client);
    } catch (error) {
      await this.closeConnection(connection);
      throw error;
    }
    return connection;
  }

  private drop(name: string, connection: Connection): void {
    this.forget(name, connection);
    void this.closeConnection(connection);
  }

  private forget(name: string, connection: Connection): void {
    if (this.connections.get(name) === connection.entry) this.connections.delete(name);
  }

  private async closeConnection(connection: Connection): Promise<void> {
    connection.closed = true;
    if (connection.idleTimer) clearTimeout(connection.idleTimer);
    await connection.client.close().catch(() => undefined);
  }
}

/** The request never reached a tool: the server forgot the session (404) or refused the connection. */
function isStaleConnection(error: unknown): boolean {
  if (error instanceof StreamableHTTPError) return error.code === 404;
  // The SDK's answer to a request on a client whose transport already closed: nothing was sent.
  if (error instanceof Error && error.message === 'Not connected') return true;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return error instanceof TypeError && (cause?.code === 'ECONNREFUSED' || cause?.code === 'ECONNRESET');
}
