import { io, type Socket } from 'socket.io-client';
import type { ClientToServer, JoinAck, RunRecord, ServerToClient } from '@loom/server';
import type { RunEvent } from '@loom/shared';

/**
 * The server's API as a client sees it: tRPC over plain `fetch` (no batching, no client
 * library between the clock and the wire) and socket.io-client for live events.
 * Node's fetch keeps connections alive, as a browser does.
 */

export class ApiError extends Error {
  override name = 'ApiError';
}

async function unwrap<T>(path: string, response: Response): Promise<T> {
  const body = (await response.json()) as { result?: { data: T }; error?: { message?: string; data?: { code?: string } } };
  if (!response.ok || body.result === undefined) {
    throw new ApiError(`${path}: HTTP ${response.status} ${body.error?.data?.code ?? ''} ${body.error?.message ?? JSON.stringify(body).slice(0, 300)}`);
  }
  return body.result.data;
}

/** A tRPC query: GET /trpc/<path>?input=<json>. */
export async function query<T>(baseUrl: string, path: string, input?: unknown): Promise<T> {
  const search = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  return unwrap<T>(path, await fetch(`${baseUrl}/trpc/${path}${search}`));
}

/** A tRPC mutation: POST /trpc/<path> with the input as the JSON body. */
export async function mutate<T>(baseUrl: string, path: string, input: unknown): Promise<T> {
  return unwrap<T>(path, await fetch(`${baseUrl}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) }));
}

export const systemInfo = (baseUrl: string) => query<{ version: string }>(baseUrl, 'system.info');

export const createFlow = (baseUrl: string, definition: object) => mutate<{ id: string; version: number }>(baseUrl, 'flows.create', { definition });

export const startRun = (baseUrl: string, flowId: string, input: unknown, wait: boolean) => mutate<RunRecord>(baseUrl, 'runs.start', { flowId, input, wait });

/** Throws unless the run succeeded (with `output`, when given, as its output). */
export function expectSucceeded(run: RunRecord, output?: unknown): void {
  if (run.status !== 'succeeded') throw new Error(`run ${run.id} of ${run.flowId} ended ${run.status}: ${run.error?.message ?? ''}`);
  if (output !== undefined && JSON.stringify(run.output) !== JSON.stringify(output)) {
    throw new Error(`run ${run.id} of ${run.flowId}: output ${JSON.stringify(run.output)}, expected ${JSON.stringify(output)}`);
  }
}

/** /metrics as text. */
export async function metricsText(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (!response.ok) throw new ApiError(`/metrics: HTTP ${response.status}`);
  return response.text();
}

export type LiveSocket = Socket<ServerToClient, ClientToServer>;

/** One socket.io connection of its own (as one browser tab has), over WebSocket. */
export function connectSocket(baseUrl: string, timeoutMs = 10_000): Promise<LiveSocket> {
  const socket: LiveSocket = io(baseUrl, { forceNew: true, transports: ['websocket'], reconnection: false, timeout: timeoutMs });
  return new Promise((resolveSocket, reject) => {
    socket.once('connect', () => resolveSocket(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(new Error(`socket to ${baseUrl}: ${error.message}`));
    });
  });
}

export function joinRun(socket: LiveSocket, runId: string, afterSeq: number, timeoutMs = 10_000): Promise<{ lastSeq: number; status: RunRecord['status'] }> {
  return new Promise((resolveJoin, reject) => {
    socket.timeout(timeoutMs).emit('run:join', { runId, afterSeq }, (error: Error | null, answer: JoinAck) => {
      if (error) return reject(new Error(`run:join ${runId}: no answer within ${timeoutMs} ms`));
      if (!answer.ok) return reject(new Error(`run:join ${runId}: ${answer.error}`));
      resolveJoin({ lastSeq: answer.lastSeq, status: answer.status });
    });
  });
}

export type { RunEvent, RunRecord };
