// Shared harness of the server's integration tests (`*.int.test.ts`): a real server on
// 127.0.0.1 with a temporary SQLite file, a tRPC caller, an HTTP tRPC client, socket.io
// clients, flow builders and the golden run logs. Not part of the server's public surface.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpLink, TRPCClientError, type TRPCClient } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { systemClock, type CancelSource, type Clock, type HttpClient } from '@loom/engine';
import { decodeEventsNdjson, type FlowInput, type RunEvent } from '@loom/shared';
import { createLoomServer, type LoomServer } from './app.js';
import { parseEnv, REPO_ROOT } from './env.js';
import type { ClientToServer, JoinAck, ServerToClient } from './live/hub.js';
import { appRouter, type AppRouter } from './router.js';
import type { RunRecord } from './runs/run-store.js';
import { createCallerFactory } from './trpc.js';

export { REPO_ROOT };

const callerFactory = createCallerFactory(appRouter);
export type Caller = ReturnType<typeof callerFactory>;
export type ApiClient = TRPCClient<AppRouter>;
export type ApiError = TRPCClientError<AppRouter>;
export type LoomSocket = Socket<ServerToClient, ClientToServer>;

export interface TestServerOptions {
  /** Extra environment for `parseEnv` (LOOM_MAX_CONCURRENT_RUNS, LOOM_ADMIN_TOKEN, …). */
  env?: Record<string, string>;
  clock?: Clock;
  /** The HTTP client runs use (`http.request`); tests pass a fake, nothing leaves the machine. */
  http?: HttpClient;
  /** Reuse this folder (its database and key file) instead of a new temporary one: a restart. */
  dir?: string;
  /** Leave the folder in place on close (the caller removes it). */
  keepDir?: boolean;
}

export interface TestServer {
  server: LoomServer;
  /** `http://127.0.0.1:<port>` */
  url: string;
  dir: string;
  databaseFile: string;
  /** In-process tRPC caller over the same services. */
  caller: Caller;
  /** tRPC over HTTP (`/trpc`), as the web app calls it. */
  api: ApiClient;
  close(): Promise<void>;
}

/** A folder under the OS temp dir for one test's database and key file. */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'loom-server-int-'));
}

/** The environment every test server starts from: port 0, a database and key in `dir`, no web build, quiet. */
export function testEnv(dir: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: join(dir, 'loom.db'),
    LOOM_SECRET_KEY_FILE: join(dir, 'secret.key'),
    LOOM_WEB_DIST: join(dir, 'no-web-build'),
    LOG_LEVEL: 'silent',
    ...env,
  };
}

/** Starts a real server (`createLoomServer`) listening on 127.0.0.1 with a port of its own. */
export async function startServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.dir ?? (await tempDir());
  const config = parseEnv(testEnv(dir, options.env));
  let server: LoomServer;
  try {
    server = await createLoomServer({ config, ...(options.clock ? { clock: options.clock } : {}), ...(options.http ? { http: options.http } : {}) });
  } catch (error) {
    if (!options.keepDir && !options.dir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const url = await server.listen();
  const caller = callerFactory({ services: server.services });
  const token = options.env?.['LOOM_ADMIN_TOKEN'];
  const api = createApiClient(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return {
    server,
    url,
    dir,
    databaseFile: config.databaseFile,
    caller,
    api,
    close: async () => {
      await server.close();
      if (!options.keepDir && !options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A tRPC client over HTTP; `onResponse` sees the text of every response (to search it for secrets). */
export function createApiClient(url: string, options: { headers?: Record<string, string>; onResponse?: (text: string) => void } = {}): ApiClient {
  const { onResponse } = options;
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/trpc`,
        ...(options.headers ? { headers: options.headers } : {}),
        ...(onResponse
          ? {
              fetch: async (input, init) => {
                const response = await fetch(input as string, init as RequestInit);
                onResponse(await response.clone().text());
                return response;
              },
            }
          : {}),
      }),
    ],
  });
}

/** The error a call must fail with: a TRPCClientError (HTTP) whose `data` carries code, httpStatus and issues. */
export async function apiError(call: Promise<unknown>): Promise<ApiError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as ApiError;
    throw error;
  }
  throw new Error('expected the API call to fail, but it succeeded');
}

/** The error an in-process caller must fail with. */
export async function callerError(call: Promise<unknown>): Promise<TRPCError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Polls `probe` until it returns something other than undefined/false; fails after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, intervalMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const FINISHED: readonly RunRecord['status'][] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

/** Waits until a run's row has a final status (through the caller). */
export function waitForRunEnd(caller: Caller, runId: string, timeoutMs = 15_000): Promise<RunRecord> {
  return waitFor(`run ${runId} to finish`, async () => {
    const run = await caller.runs.get({ runId });
    return FINISHED.includes(run.status) ? run : undefined;
  }, timeoutMs);
}

/** A run's whole log, read page by page through `runs.events`. */
export async function allEvents(caller: Caller, runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await caller.runs.events({ runId, afterSeq, limit: 5_000 });
    events.push(...page.events);
    if (page.nextAfterSeq === null) return events;
    afterSeq = page.nextAfterSeq;
  }
}

/** Fails unless `events` are seq 1..N, each once, in order. */
export function expectGapless(events: readonly { seq: number }[]): void {
  const seqs = events.map((e) => e.seq);
  const expected = Array.from({ length: events.length }, (_, i) => i + 1);
  if (seqs.length !== expected.length || seqs.some((seq, i) => seq !== expected[i])) {
    const firstBad = seqs.findIndex((seq, i) => seq !== expected[i]);
    throw new Error(`events are not seq 1..${events.length}: at index ${firstBad} got seq ${seqs[firstBad]} (seqs ${seqs.slice(Math.max(0, firstBad - 3), firstBad + 3).join(',')})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Flow documents

export const delayNode = (id: string, ms: number) => ({ id, kind: 'skill' as const, config: { skill: 'delay', params: { ms } } });

/**
 * `in -> d1 -> … -> dN -> done -> out`: N delay nodes, then a template that names the input,
 * so the output shows the input went through every node.
 */
export function delayChainFlow(id: string, count: number, ms: number): FlowInput {
  const delays = Array.from({ length: count }, (_, i) => delayNode(`d${i + 1}`, ms));
  const ids = ['in', ...delays.map((d) => d.id), 'done', 'out'];
  return {
    version: 1,
    id,
    name: `Delay chain ${count} x ${ms} ms`,
    nodes: [
      { id: 'in', kind: 'input' },
      ...delays,
      { id: 'done', kind: 'skill', config: { skill: 'template', params: { template: `done after ${count} delays: {{ $string($) }}` } } },
      { id: 'out', kind: 'output' },
    ],
    edges: ids.slice(1).map((to, i) => ({ from: ids[i]!, to })),
  };
}

/** `in -> upper -> greet -> out`, two template steps. */
export function twoStepFlow(id: string, greeting = 'Hello'): FlowInput {
  return {
    version: 1,
    id,
    name: 'Two steps',
    nodes: [
      { id: 'in', kind: 'input', config: { fields: { name: { type: 'string', required: true } } } },
      { id: 'upper', kind: 'skill', config: { skill: 'json.transform', params: { expression: '$uppercase(name)' } } },
      { id: 'greet', kind: 'skill', config: { skill: 'template', params: { template: `${greeting}, {{ $ }}!` } } },
      { id: 'out', kind: 'output' },
    ],
    edges: [
      { from: 'in', to: 'upper' },
      { from: 'upper', to: 'greet' },
      { from: 'greet', to: 'out' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Golden runs (the engine's reference logs, made from examples/<flow>.golden.json inputs)

export interface GoldenCase {
  /** Name of the case, and of its log `packages/engine/src/replay/__fixtures__/golden/<name>.ndjson`. */
  name: string;
  /** The example (and seeded flow id) it runs. */
  flowId: string;
  input: unknown;
}

/** Every `{ name, input }` case of `examples/<flow>.golden.json`. */
export function goldenCases(): GoldenCase[] {
  const dir = join(REPO_ROOT, 'examples');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.golden.json'))
    .sort()
    .flatMap((file) => {
      const flowId = file.replace(/\.golden\.json$/, '');
      const cases = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { name: string; input: unknown }[];
      return cases.map((c) => ({ name: c.name, flowId, input: c.input }));
    });
}

/** The golden log of a case: what `pnpm flow run examples/<flow>.json --input …` writes (with a virtual clock). */
export function goldenLog(name: string): RunEvent[] {
  return decodeEventsNdjson(readFileSync(join(REPO_ROOT, 'packages/engine/src/replay/__fixtures__/golden', `${name}.ndjson`), 'utf8'));
}

// ---------------------------------------------------------------------------------------------
// Sockets

/** Connects a socket.io client over WebSocket; resolves once connected, rejects with the connect error. */
export function openSocket(url: string, options: { token?: string; origin?: string } = {}): Promise<LoomSocket> {
  const socket: LoomSocket = connectSocket(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 5_000,
    ...(options.token ? { auth: { token: options.token } } : {}),
    ...(options.origin ? { extraHeaders: { origin: options.origin } } : {}),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export function joinRun(socket: LoomSocket, runId: string, afterSeq = 0): Promise<JoinAck> {
  return socket.timeout(10_000).emitWithAck('run:join', { runId, afterSeq });
}

/**
 * Collects `run:events` batches per run, as received. It keeps duplicates and disorder, so
 * tests can check there are none.
 */
export class EventCollector {
  private readonly byRun = new Map<string, RunEvent[]>();
  batches = 0;

  constructor(socket: LoomSocket) {
    socket.on('run:events', ({ runId, events }) => {
      this.batches++;
      const list = this.byRun.get(runId);
      if (list) list.push(...events);
      else this.byRun.set(runId, [...events]);
    });
  }

  events(runId: string): RunEvent[] {
    return this.byRun.get(runId) ?? [];
  }

  lastSeq(runId: string): number {
    return this.events(runId).at(-1)?.seq ?? 0;
  }

  /** Resolves with the run's events once its `run.finished` has arrived. */
  finished(runId: string, timeoutMs = 15_000): Promise<RunEvent[]> {
    return waitFor(`run.finished of ${runId} on the socket`, () => (this.events(runId).some((e) => e.type === 'run.finished') ? this.events(runId) : undefined), timeoutMs);
  }
}

/** A clock whose time a test sets (for createdAt filters, retention); sleeps are real. */
export class ManualClock implements Clock {
  time: number | undefined;

  now = (): number => this.time ?? Date.now();
  sleep = (ms: number, cancel?: CancelSource): Promise<void> => systemClock.sleep(ms, cancel);
}
