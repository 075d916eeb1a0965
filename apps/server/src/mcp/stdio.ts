import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { SandboxDriver, SandboxProcess } from '@loom/engine';
import type { StdioServerConfig } from './config.js';
import type { StdioLauncher } from './registry.js';

/**
 * Starts stdio MCP servers in the server's sandbox (the strongest driver it has) and speaks
 * MCP over the sandboxed process's stdin/stdout. The process has no network, no host files
 * beyond its read-only mounts, none of the server's environment, and no wall-clock limit
 * (it lives as long as its pooled connection); closing the connection kills it and checks
 * that nothing is left behind.
 */
export class SandboxStdioLauncher implements StdioLauncher {
  readonly driver: string;

  constructor(private readonly sandbox: SandboxDriver) {
    this.driver = sandbox.name;
  }

  async open(name: string, config: StdioServerConfig): Promise<Transport> {
    const process = await this.sandbox.spawn({
      command: config.command,
      args: config.args,
      env: config.env,
      mounts: config.mounts.map((source) => ({ source })),
      limits: { wallClockMs: 0, outputBytes: 0, memoryMb: config.memoryMb },
      label: `mcp-${name}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40),
    });
    return new SandboxStdioTransport(process);
  }
}

/** An MCP transport over a sandboxed process: newline-delimited JSON-RPC, as MCP's stdio transport defines it. */
export class SandboxStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly buffer = new ReadBuffer();
  /** The end of stderr, to say why a server that died early did. */
  private stderrTail = '';
  private closed = false;

  constructor(private readonly process: SandboxProcess) {}

  async start(): Promise<void> {
    this.process.stdout.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = this.buffer.readMessage();
        } catch (error) {
          this.onerror?.(error as Error);
          continue;
        }
        if (message === null) break;
        this.onmessage?.(message);
      }
    });
    this.process.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2_000);
    });
    this.process.stdin.on('error', (error: Error) => this.onerror?.(error));
    void this.process.exited.then((exit) => {
      if (!this.closed && exit.reason !== 'killed') {
        this.onerror?.(new Error(`the MCP server's process ended (${exit.reason}, code ${exit.code ?? exit.signal})${this.stderrTail ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
      }
      this.closed = true;
      this.onclose?.();
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('Not connected'));
      if (this.process.stdin.write(serializeMessage(message))) resolve();
      else this.process.stdin.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer.clear();
    await this.process.kill('MCP connection closed');
  }
}
