// Crash and resume: the server as a child process (`node --import tsx src/main.ts`), killed
// with SIGKILL or stopped with SIGTERM mid-run, then started again on the same database file.
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reduceRun, type RunEvent } from '@loom/shared';
import { decodeEvent, type EncodedEvent } from './event-codec.js';
import {
  allEvents,
  createApiClient,
  delayChainFlow,
  expectGapless,
  REPO_ROOT,
  startServer,
  tempDir,
  testEnv,
  waitFor,
  waitForRunEnd,
  type ApiClient,
  type TestServer,
} from '../test-support.js';

interface ChildServer {
  child: ChildProcess;
  url: string;
  api: ApiClient;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: string[];
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// Each child takes seconds to start (tsx compiles the server): both start at once, up front.
let killed: Promise<{ dir: string; server: ChildServer }>;
let terminated: Promise<{ dir: string; server: ChildServer }>;
beforeAll(() => {
  const start = async (env: Record<string, string> = {}) => {
    const dir = await tempFolder();
    return { dir, server: await spawnServer(dir, env) };
  };
  // One run at a time: the killed server also leaves a run queued.
  killed = start({ LOOM_MAX_CONCURRENT_RUNS: '1' });
  terminated = start();
  // Awaited by the tests; a failed start fails the test that needs it.
  killed.catch(() => undefined);
  terminated.catch(() => undefined);
});

/** Starts `apps/server/src/main.ts` in a child process on `dir`'s database; resolves once it logged its URL. */
async function spawnServer(dir: string, extraEnv: Record<string, string> = {}): Promise<ChildServer> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('LOOM_')) env[key] = value;
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'apps/server/src/main.ts')], {
    cwd: REPO_ROOT,
    env: { ...env, ...testEnv(dir, { LOG_LEVEL: 'info', ...extraEnv }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const output: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as { url?: string };
        if (entry.url) resolve(entry.url);
      } catch {
        // Not a log line.
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`the server exited (${code ?? signal}) before listening:\n${output.join('\n')}`)));
    setTimeout(() => reject(new Error(`the server did not log its URL within 30 s:\n${output.join('\n')}`)), 30_000).unref();
  });
  return { child, url, api: createApiClient(url), exited, output };
}

async function tempFolder(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Restarts the server in-process on the same folder (database and key file). */
async function restart(dir: string): Promise<TestServer> {
  const server = await startServer({ dir });
  cleanups.push(() => server.close());
  return server;
}

/** What the database file holds for a run, read directly (no server, no recovery). */
function readRun(databaseFile: string, runId: string): { status: string; lastSeq: number; events: RunEvent[] } {
  const db = new Database(databaseFile, { readonly: true });
  try {
    const row = db.prepare<[string], { pk: number; status: string; last_seq: number }>('SELECT pk, status, last_seq FROM runs WHERE id = ?').get(runId)!;
    const rows = db.prepare<[number], EncodedEvent>('SELECT seq, ts, type, body FROM run_events WHERE run_pk = ? ORDER BY seq').all(row.pk);
    return { status: row.status, lastSeq: row.last_seq, events: rows.map((r) => decodeEvent(runId, r)) };
  } finally {
    db.close();
  }
}

/** Ids of the nodes that succeeded, in log order (events from the API or the database). */
const succeededNodes = (events: readonly { type: string }[]) =>
  events.flatMap((e) => {
    const event = e as { type: string; status?: string; nodeId?: string };
    return event.type === 'node.status' && event.status === 'succeeded' && event.nodeId ? [event.nodeId] : [];
  });

describe('a server killed mid-run', () => {
  it('keeps the committed log; the next start closes it as interrupted; resume finishes it reusing the completed nodes', async () => {
    const { dir, server: first } = await killed;
    const flow = delayChainFlow('crash-chain', 20, 50);
    await first.api.flows.create.mutate({ definition: flow });
    const run = await first.api.runs.start.mutate({ flowId: 'crash-chain', input: { job: 42 } });
    const queued = await first.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Queued' } });
    let seen: RunEvent[] = [];
    await waitFor('five delay nodes to succeed', async () => {
      // Over HTTP `run.started.input` types as optional; the events are the same.
      seen = (await first.api.runs.events.query({ runId: run.id })).events as RunEvent[];
      return succeededNodes(seen).includes('d5');
    });
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // The file as the killed process left it: still running, its log cut short but whole.
    const left = readRun(join(dir, 'loom.db'), run.id);
    expect(left.status).toBe('running');
    expectGapless(left.events);
    expect(left.lastSeq).toBe(left.events.length);
    expect(left.events.slice(0, seen.length)).toEqual(seen);
    expect(left.events.some((e) => e.type === 'run.finished')).toBe(false);
    expect(readRun(join(dir, 'loom.db'), queued.id)).toEqual({ status: 'queued', lastSeq: 0, events: [] });

    const second = await restart(dir);
    const interrupted = await second.api.runs.get.query({ runId: run.id });
    expect(interrupted).toMatchObject({ status: 'interrupted', error: { code: 'interrupted' }, lastSeq: left.lastSeq + 1 });
    const log = await allEvents(second.caller, run.id);
    expectGapless(log);
    expect(log.slice(0, -1)).toEqual(left.events);
    expect(log.at(-1)).toMatchObject({ type: 'run.finished', status: 'interrupted', seq: left.lastSeq + 1 });
    const replay = await second.api.runs.replay.query({ runId: run.id });
    expect(replay.state.status).toBe('interrupted');

    // The run that never started: interrupted with no events, and it can be resumed (from scratch).
    expect(await second.api.runs.get.query({ runId: queued.id })).toMatchObject({ status: 'interrupted', error: { code: 'interrupted' }, startedAt: null, lastSeq: 0 });
    expect(await allEvents(second.caller, queued.id)).toEqual([]);
    const queuedResumed = await second.api.runs.resume.mutate({ runId: queued.id });
    expect(await waitForRunEnd(second.caller, queuedResumed.id)).toMatchObject({ status: 'succeeded', output: 'Hello, Queued! Welcome to Loom.' });

    const completed = succeededNodes(left.events);
    expect(completed).toEqual(expect.arrayContaining(['in', 'd1', 'd2', 'd3', 'd4', 'd5']));
    expect(completed).not.toContain('d20');
    const resumed = await second.api.runs.resume.mutate({ runId: run.id });
    expect(resumed).toMatchObject({ origin: 'resume', parentRunId: run.id, input: { job: 42 } });
    // The same flow run whole, for its output.
    const whole = await second.api.runs.start.mutate({ flowId: 'crash-chain', input: { job: 42 } });
    const [resumedEnd, wholeEnd] = await Promise.all([waitForRunEnd(second.caller, resumed.id), waitForRunEnd(second.caller, whole.id)]);
    expect(resumedEnd.status).toBe('succeeded');
    expect(resumedEnd.output).toEqual(wholeEnd.output);
    expect(resumedEnd.output).toBe('done after 20 delays: {"job":42}');

    const events = await allEvents(second.caller, resumed.id);
    expectGapless(events);
    const state = reduceRun(events);
    for (const nodeId of completed) {
      expect({ nodeId, reused: state.nodes[nodeId]!.reused }).toEqual({ nodeId, reused: true });
      expect(events.some((e) => e.type === 'node.status' && e.nodeId === nodeId && e.status === 'running')).toBe(false);
    }
    const ran = events.filter((e) => e.type === 'node.status' && e.status === 'running').map((e) => (e as { nodeId: string }).nodeId);
    expect(ran.sort()).toEqual(Object.keys(state.nodes).filter((id) => !completed.includes(id)).sort());
  }, 60_000);
});

describe('a server stopped with SIGTERM mid-run', () => {
  it('exits cleanly, leaving the run interrupted with its log closed; a restart adds nothing', async () => {
    const { dir, server: first } = await terminated;
    await first.api.flows.create.mutate({ definition: delayChainFlow('term-chain', 20, 50) });
    const running = await first.api.runs.start.mutate({ flowId: 'term-chain', input: {} });
    await waitFor('two delay nodes to succeed', async () => succeededNodes((await first.api.runs.events.query({ runId: running.id })).events).includes('d2'));
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.output.join('\n')).toContain('SIGTERM: stopping');

    const left = readRun(join(dir, 'loom.db'), running.id);
    expect(left.status).toBe('interrupted');
    expectGapless(left.events);
    expect(left.lastSeq).toBe(left.events.length);
    expect(left.events.filter((e) => e.type === 'run.finished')).toEqual([expect.objectContaining({ status: 'interrupted', seq: left.lastSeq })]);

    const second = await restart(dir);
    const row = await second.api.runs.get.query({ runId: running.id });
    expect(row).toMatchObject({ status: 'interrupted', lastSeq: left.lastSeq });
    expect(await allEvents(second.caller, running.id)).toEqual(left.events);
    const resumed = await second.api.runs.resume.mutate({ runId: running.id });
    expect((await waitForRunEnd(second.caller, resumed.id)).output).toBe('done after 20 delays: {}');
  }, 60_000);
});
