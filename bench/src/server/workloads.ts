import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { runFlow } from '@loom/engine';
import { BENCH_INPUT, compile, expectedEvents } from '../flows.js';
import { gc, median, percentile, progress, round, sleep } from '../measure.js';
import { benchContext } from '../sinks.js';
import { SqliteEventSink, tempEventDb } from '../sqlite-sink.js';
import { connectSocket, createFlow, expectSucceeded, joinRun, metricsText, startRun, systemInfo, type LiveSocket, type RunEvent, type RunRecord } from './api.js';
import { delayChain, noopChain, transformChain, trivialFlow } from './flows.js';
import { processCpuMs, rssMb, startServer, tempServerDir, type StartedServer } from './process.js';
import { histogramDelta, parseHistogram, parseValue, summarise, type Histogram, type HistogramSummary } from './prom.js';

/**
 * The server benchmark's measurements (S1..S6). Each starts its own server process on a
 * fresh temp database (S1 starts many) and stops it before returning; every figure has a
 * baseline measured in the same run: a bare node:http server started the same way (S1, S2),
 * the same HTTP round trip to a no-op query of the same server (S3, S4), or the engine with
 * the benchmark's in-process SQLite sink (S6).
 */

const ms = (v: number, digits = 2) => round(v, digits);

/**
 * CPU time used while `fn` runs, ms: by the server process and by this process (the client).
 * Far below the wall time means waiting (timers, another process); near it, that side was busy.
 */
async function withCpu<T>(serverPid: number, fn: () => Promise<T>): Promise<{ value: T; serverCpuMs: number; clientCpuMs: number }> {
  const server0 = processCpuMs(serverPid) ?? NaN;
  const client0 = process.cpuUsage();
  const value = await fn();
  const client = process.cpuUsage(client0);
  return { value, serverCpuMs: (processCpuMs(serverPid) ?? NaN) - server0, clientCpuMs: (client.user + client.system) / 1000 };
}

/** Starts a Loom server on a fresh temp database, runs `fn`, then stops it and deletes the folder. */
async function withServer<T>(label: string, fn: (server: StartedServer) => Promise<T>): Promise<T> {
  const dir = tempServerDir(label);
  let server: StartedServer | undefined;
  try {
    server = await startServer('loom', dir.dir);
    return await fn(server);
  } finally {
    await server?.stop();
    dir.dispose();
  }
}

// --- S1, S2: start-up and idle memory ------------------------------------------------

export interface StartupParams {
  /** Recorded starts of each kind. */
  starts: number;
  /** An unrecorded start of each kind first (file cache). */
  warmUp: boolean;
  /** Idle time before RSS is read, ms. */
  idleMs: number;
}

/**
 * How long the server process has existed, ms, from /proc (10 ms ticks); with the time of
 * its "listening" log line this splits a start into Node's own start-up and the server's code.
 */
function processAgeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const uptimeSec = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    // USER_HZ is 100 on every Linux build Node supports.
    return Number.isFinite(startTicks) && Number.isFinite(uptimeSec) ? uptimeSec * 1000 - startTicks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** From the server process's own start to its "Loom is running" log line, ms (pino's `time`). */
function serverOwnStartMs(server: StartedServer, ageMs: number | undefined, ageReadAt: number): number | undefined {
  const line = server.output.find((l) => l.includes('"url"'));
  if (ageMs === undefined || !line) return undefined;
  const loggedAt = (JSON.parse(line) as { time?: number }).time;
  if (typeof loggedAt !== 'number') return undefined;
  return loggedAt - (ageReadAt - ageMs);
}

export async function measureStartup(params: StartupParams) {
  const warmDir = tempServerDir('warm-db');
  const dirs = [warmDir];
  const cold: number[] = [];
  const coldListening: number[] = [];
  const coldOwn: number[] = [];
  const warm: number[] = [];
  const bare: number[] = [];
  let loomIdle: { server?: number } = {};
  let bareIdle: { server?: number } = {};
  /** S2: the server left idle `idleMs` after its start, then its resident memory read. */
  const idleRss = async (server: StartedServer) => {
    await sleep(params.idleMs);
    return { server: rssMb(server.serverPid) };
  };
  try {
    const startStop = async (kind: 'loom' | 'bare', dir: string, record?: (s: StartedServer) => void, then?: (s: StartedServer) => Promise<void>) => {
      const server = await startServer(kind, dir);
      const ageReadAt = Date.now();
      const age = processAgeMs(server.serverPid);
      try {
        record?.(server);
        if (kind === 'loom' && record) {
          const own = serverOwnStartMs(server, age, ageReadAt);
          if (own !== undefined && dir !== warmDir.dir) coldOwn.push(own);
        }
        await then?.(server);
      } finally {
        await server.stop();
      }
    };
    // The warm database: created (migrated, seeded) by this first start, which is not recorded.
    await startStop('loom', warmDir.dir);
    if (params.warmUp) await startStop('bare', warmDir.dir);
    // Interleaved, so drift in machine load affects every kind alike. The last cold start of
    // each kind is then left idle for S2 (a fresh server that has done nothing but start).
    for (let i = 0; i < params.starts; i++) {
      const last = i === params.starts - 1;
      const fresh = tempServerDir('cold');
      dirs.push(fresh);
      await startStop(
        'loom',
        fresh.dir,
        (s) => {
          cold.push(s.startMs);
          coldListening.push(s.listeningMs);
        },
        last ? async (s) => void (loomIdle = await idleRss(s)) : undefined,
      );
      fresh.dispose();
      await startStop(
        'bare',
        fresh.dir,
        (s) => bare.push(s.startMs),
        last ? async (s) => void (bareIdle = await idleRss(s)) : undefined,
      );
      await startStop('loom', warmDir.dir, (s) => warm.push(s.startMs));
      progress(`S1 start ${i + 1}/${params.starts}: cold ${ms(cold.at(-1)!, 0)} ms, warm ${ms(warm.at(-1)!, 0)} ms, bare node:http ${ms(bare.at(-1)!, 0)} ms`);
    }
    progress(`S2 idle RSS after ${params.idleMs} ms: server ${ms(loomIdle.server ?? NaN, 1)} MB, bare node:http ${ms(bareIdle.server ?? NaN, 1)} MB`);
  } finally {
    for (const d of dirs) d.dispose();
  }

  const coldP50 = median(cold);
  const bareP50 = median(bare);
  const warmP50 = median(warm);
  const r1 = (v: number | undefined) => (v === undefined ? null : round(v, 1));
  return {
    startup: {
      description:
        'spawn of `node dist/main.js` in apps/server (what `npm start` runs after bundling), PORT=0, LOG_LEVEL=info, to the first 200 from /healthz; baseline: a bare node:http server started by plain node',
      starts: params.starts,
      warmUp: params.warmUp,
      coldP50Ms: ms(coldP50, 0),
      warmP50Ms: ms(warmP50, 0),
      baselineP50Ms: ms(bareP50, 0),
      coldRatio: round(coldP50 / bareP50, 2),
      warmRatio: round(warmP50 / bareP50, 2),
      coldOverBaselineMs: ms(coldP50 - bareP50, 0),
      /** Spawn to the "Loom is running" line (the listening socket), cold. */
      coldListeningP50Ms: ms(median(coldListening), 0),
      /** Server process start to its "Loom is running" line (from /proc, ±10 ms): the rest of coldP50Ms is process start-up before the server's code runs. */
      coldServerProcessP50Ms: coldOwn.length ? ms(median(coldOwn), 0) : null,
      coldMs: cold.map((v) => ms(v, 0)),
      warmMs: warm.map((v) => ms(v, 0)),
      baselineMs: bare.map((v) => ms(v, 0)),
    },
    idleRss: {
      description: `VmRSS of the listening process after start and ${params.idleMs} ms idle (the last cold start of S1, fresh database)`,
      idleMs: params.idleMs,
      serverRssMb: r1(loomIdle.server),
      baselineRssMb: r1(bareIdle.server),
      overBaselineMb: loomIdle.server !== undefined && bareIdle.server !== undefined ? r1(loomIdle.server - bareIdle.server) : null,
    },
  };
}

// --- S3: one trivial run after another ------------------------------------------------

const FIRST_RUNS = 50;

export async function measureTrivialRuns(params: { runs: number; warmUp: number }) {
  return withServer('trivial', async ({ url }) => {
    const flow = await createFlow(url, trivialFlow());
    const once = async (runTimes?: number[], infoTimes?: number[]) => {
      let t0 = performance.now();
      await systemInfo(url);
      infoTimes?.push(performance.now() - t0);
      t0 = performance.now();
      const run = await startRun(url, flow.id, BENCH_INPUT, true);
      runTimes?.push(performance.now() - t0);
      expectSucceeded(run, BENCH_INPUT);
    };
    // The first runs of a fresh server are reported apart: V8 has not optimised its code yet.
    const firstRunTimes: number[] = [];
    for (let i = 0; i < params.warmUp; i++) await once(i < FIRST_RUNS ? firstRunTimes : undefined);
    gc();
    const runTimes: number[] = [];
    const infoTimes: number[] = [];
    // Alternating: a run, then the baseline round trip, so both see the same machine.
    for (let i = 0; i < params.runs; i++) await once(runTimes, infoTimes);
    const result = {
      description: `sequential runs.start({ wait: true }) of input -> output over HTTP (POST /trpc/runs.start), after ${params.warmUp} unrecorded ones (V8 optimises the server's code: a server that has been serving a while); baseline: GET /trpc/system.info on the same server, alternated`,
      runs: params.runs,
      warmUp: params.warmUp,
      p50Ms: ms(median(runTimes), 3),
      p99Ms: ms(percentile(runTimes, 99), 3),
      baselineP50Ms: ms(median(infoTimes), 3),
      baselineP99Ms: ms(percentile(infoTimes, 99), 3),
      ratio: round(median(runTimes) / median(infoTimes), 2),
      overP50Ms: ms(median(runTimes) - median(infoTimes), 3),
      /** The first runs after the server started (unoptimised code), median. */
      firstRuns: firstRunTimes.length,
      firstRunsP50Ms: firstRunTimes.length ? ms(median(firstRunTimes), 3) : null,
    };
    progress(`S3 trivial run: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms; system.info p50 ${result.baselineP50Ms} ms; the server's first ${result.firstRuns} runs: p50 ${result.firstRunsP50Ms} ms`);
    return result;
  });
}

// --- S4: concurrent 10-node runs ------------------------------------------------------

export async function measureConcurrentRuns(params: { runs: number; pairs: number; repetitions: number }) {
  return withServer('concurrent', async ({ url, serverPid }) => {
    const doc = transformChain(params.pairs);
    const flow = await createFlow(url, doc);
    const expected = { n: params.pairs };
    const round1 = async () => {
      const latencies: number[] = [];
      const t0 = performance.now();
      const runs = await Promise.all(
        Array.from({ length: params.runs }, async () => {
          const run = await startRun(url, flow.id, { n: 0 }, true);
          latencies.push(performance.now() - t0);
          return run;
        }),
      );
      const wall = performance.now() - t0;
      for (const run of runs) expectSucceeded(run, expected);
      return { wall, latencies };
    };
    const baseline1 = async () => {
      const t0 = performance.now();
      await Promise.all(Array.from({ length: params.runs }, () => systemInfo(url)));
      return performance.now() - t0;
    };
    await baseline1();
    await round1(); // warm-up: JIT, the compiled flow cached by the server
    const walls: number[] = [];
    const baseWalls: number[] = [];
    const latencies: number[] = [];
    const serverCpu: number[] = [];
    const clientCpu: number[] = [];
    for (let rep = 0; rep < params.repetitions; rep++) {
      gc();
      baseWalls.push(await baseline1());
      const { value: r, serverCpuMs, clientCpuMs } = await withCpu(serverPid, round1);
      walls.push(r.wall);
      latencies.push(...r.latencies);
      serverCpu.push(serverCpuMs);
      clientCpu.push(clientCpuMs);
    }
    const result = {
      description: `${params.runs} runs.start({ wait: true }) fired at once, each of input -> ${2 * params.pairs} template/json.transform nodes -> output; wall until all answered. Baseline: ${params.runs} concurrent system.info`,
      runs: params.runs,
      nodesPerRun: doc.nodes.length,
      repetitions: params.repetitions,
      wallMs: ms(median(walls), 1),
      baselineWallMs: ms(median(baseWalls), 1),
      ratio: round(median(walls) / median(baseWalls), 2),
      runP50Ms: ms(median(latencies), 1),
      runP99Ms: ms(percentile(latencies, 99), 1),
      /** CPU of the server process and of this client process during a repetition (median), ms. */
      serverCpuMs: ms(median(serverCpu), 0),
      clientCpuMs: ms(median(clientCpu), 0),
      repetitionWallMs: walls.map((w) => ms(w, 1)),
      repetitionBaselineWallMs: baseWalls.map((w) => ms(w, 1)),
    };
    progress(`S4 ${params.runs} concurrent runs: ${result.wallMs} ms (system.info x${params.runs}: ${result.baselineWallMs} ms)`);
    return result;
  });
}

// --- S5: commit-to-socket latency -----------------------------------------------------

interface Watched {
  /** Each received event: its seq, the engine's timestamp and when it arrived (Date.now()). */
  seqs: number[];
  ts: number[];
  at: number[];
  finished: () => void;
  done: Promise<void>;
}

interface LiveParams {
  runs: number;
  nodes: number;
  delayMs: number;
  rounds: number;
  /** Unrecorded rounds first: a server that has been serving a while (its code optimised by V8), as S1 covers a fresh one. */
  warmUpRounds: number;
}

/**
 * S5 on one server: the flow saved and one socket per concurrent run. A round starts `runs`
 * runs at once, each joined (afterSeq 0) by its socket right after `runs.start` answers,
 * follows them to `run.finished`, and checks each socket got the whole log once; `rounds`
 * measured rounds follow `warmUpRounds` unrecorded ones.
 */
export async function measureLiveLatency(params: LiveParams) {
  return withServer('live', async (server) => {
    const { url } = server;
    const flow = await createFlow(url, delayChain(params.nodes, params.delayMs));
    const sockets: LiveSocket[] = await Promise.all(Array.from({ length: params.runs }, () => connectSocket(url)));
    const watched = new Map<string, Watched>();
    const eventsOf = (batch: { runId: string; events: RunEvent[] }) => {
      const at = Date.now();
      const w = watched.get(batch.runId);
      if (!w) return;
      for (const e of batch.events) {
        w.seqs.push(e.seq);
        w.ts.push(e.ts);
        w.at.push(at);
        if (e.type === 'run.finished') w.finished();
      }
    };
    for (const socket of sockets) socket.on('run:events', eventsOf);

    const round = async () => {
      const t0 = performance.now();
      let joinsPending = params.runs;
      /** When the last run:join was answered (Date.now()): before it, the server was still taking starts and joins. */
      let allJoinedAt = Infinity;
      const outcomes = await Promise.all(
        sockets.map(async (socket) => {
          const run: RunRecord = await startRun(url, flow.id, BENCH_INPUT, false);
          let finished!: () => void;
          const w: Watched = { seqs: [], ts: [], at: [], finished: () => finished(), done: new Promise<void>((r) => (finished = r)) };
          watched.set(run.id, w);
          const ack = await joinRun(socket, run.id, 0);
          if (--joinsPending === 0) allJoinedAt = Date.now();
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`run ${run.id}: no run.finished on its socket within 60 s`)), 60_000);
          });
          await Promise.race([w.done, timeout]).finally(() => clearTimeout(timer));
          socket.emit('run:leave', { runId: run.id });
          watched.delete(run.id);
          return { run, ack, w };
        }),
      );
      const wall = performance.now() - t0;
      let events = 0;
      const burstLatencies: number[] = [];
      const steadyLatencies: number[] = [];
      for (const { run, ack, w } of outcomes) {
        const last = w.seqs.length ? Math.max(...w.seqs) : 0;
        const unique = new Set(w.seqs).size;
        // Catch-up and live together must be the whole log, once each: no gap, no duplicate.
        if (unique !== last || w.seqs.length !== last) throw new Error(`run ${run.id}: received ${w.seqs.length} events (${unique} distinct), last seq ${last}`);
        if (last !== expectedEvents(params.nodes + 2)) throw new Error(`run ${run.id}: ${last} events, expected ${expectedEvents(params.nodes + 2)}`);
        events += last;
        for (let i = 0; i < w.seqs.length; i++) {
          if (w.seqs[i]! <= ack.lastSeq) continue;
          (w.ts[i]! < allJoinedAt ? burstLatencies : steadyLatencies).push(w.at[i]! - w.ts[i]!);
        }
      }
      return { wall, events, burstLatencies, steadyLatencies };
    };

    try {
      for (let r = 0; r < params.warmUpRounds; r++) await round();
      const textBefore = await metricsText(url);
      const before = parseMetrics(textBefore);
      /** How late this (client) process's event loop ran during the measured rounds: a busy client receives late. */
      const clientLoopDelay = monitorEventLoopDelay({ resolution: 1 });
      const burstLatencies: number[] = [];
      const steadyLatencies: number[] = [];
      let events = 0;
      let wall = 0;
      let serverCpu = 0;
      let clientCpu = 0;
      for (let r = 0; r < params.rounds; r++) {
        gc();
        clientLoopDelay.enable();
        const { value: one, serverCpuMs, clientCpuMs } = await withCpu(server.serverPid, round).finally(() => clientLoopDelay.disable());
        burstLatencies.push(...one.burstLatencies);
        steadyLatencies.push(...one.steadyLatencies);
        events += one.events;
        wall += one.wall;
        serverCpu += serverCpuMs;
        clientCpu += clientCpuMs;
      }
      const text = await metricsText(url);
      const after = parseMetrics(text);
      const histograms: Record<string, HistogramSummary | null> = {};
      for (const [name, { unit, scale }] of Object.entries(HISTOGRAMS)) {
        const h = after[name];
        histograms[name] = h ? summarise(histogramDelta(h, before[name]), unit, scale) : null;
      }
      const latencies = [...burstLatencies, ...steadyLatencies];
      const messages = (parseValue(text, 'loom_live_messages_total') ?? NaN) - (parseValue(textBefore, 'loom_live_messages_total') ?? 0);
      const result = {
        description: `${params.runs} concurrent runs of input -> ${params.nodes} delay(${params.delayMs} ms) -> output, each followed by its own socket.io client (WebSocket) that joins (run:join, afterSeq 0) right after runs.start; latency = arrival (Date.now()) - event.ts, live events only (seq > the join ack's lastSeq); after ${params.warmUpRounds} unrecorded rounds`,
        runs: params.runs,
        rounds: params.rounds,
        warmUpRounds: params.warmUpRounds,
        eventsPerRun: expectedEvents(params.nodes + 2),
        delaysPerRunMs: params.nodes * params.delayMs,
        liveEvents: latencies.length,
        catchUpEvents: events - latencies.length,
        p50Ms: ms(median(latencies), 1),
        p99Ms: ms(percentile(latencies, 99), 1),
        maxMs: ms(percentile(latencies, 100), 1),
        /** Live events made while the server was still answering the round's starts and joins, and their p99. */
        burstEvents: burstLatencies.length,
        burstP99Ms: burstLatencies.length ? ms(percentile(burstLatencies, 99), 1) : null,
        /** The other live events (made once every run of the round was joined): p99. */
        steadyP99Ms: steadyLatencies.length ? ms(percentile(steadyLatencies, 99), 1) : null,
        eventsPerSec: Math.round(events / (wall / 1000)),
        /** Wall of a round (start of the first run to the last run.finished received), beside one run's delays alone. */
        roundWallMs: ms(wall / params.rounds, 1),
        /** run:events messages the server sent to the rooms per round (live; catch-ups not counted). */
        messagesPerRound: Math.round(messages / params.rounds),
        /** This process's event-loop delay during the measured rounds (p99, max), ms: part of every latency above. */
        clientLoopDelayP99Ms: ms(clientLoopDelay.percentile(99) / 1e6, 1),
        clientLoopDelayMaxMs: ms(clientLoopDelay.max / 1e6, 1),
        /** CPU of the server process and of this client process per round, ms. */
        serverCpuMs: ms(serverCpu / params.rounds, 0),
        clientCpuMs: ms(clientCpu / params.rounds, 0),
        /** Server-side histograms over the measured rounds (bucket bounds: "p99 at most"). */
        server: histograms,
      };
      progress(
        `S5 live latency: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms over ${result.liveEvents} live events (made during the starts and joins: p99 ${result.burstP99Ms} ms; after: ${result.steadyP99Ms} ms); ` +
          `server: event to send p99 <= ${histograms['loom_live_send_delay_seconds']?.p99AtMost ?? '?'} ms, ${result.serverCpuMs} ms CPU per round; client loop delay p99 ${result.clientLoopDelayP99Ms} ms`,
      );
      return result;
    } finally {
      for (const socket of sockets) socket.close();
    }
  });
}

const HISTOGRAMS: Record<string, { unit: string; scale: number }> = {
  loom_event_append_seconds: { unit: 'ms', scale: 1000 },
  loom_event_commit_delay_seconds: { unit: 'ms', scale: 1000 },
  loom_event_batch_size: { unit: 'events', scale: 1 },
  loom_live_send_delay_seconds: { unit: 'ms', scale: 1000 },
};

function parseMetrics(text: string): Record<string, Histogram | undefined> {
  return Object.fromEntries(Object.keys(HISTOGRAMS).map((name) => [name, parseHistogram(text, name)]));
}

// --- S6: one long run -----------------------------------------------------------------

export async function measureLongRun(params: { nodes: number; repetitions: number }) {
  const events = expectedEvents(params.nodes + 2);
  const doc = noopChain(params.nodes);

  // Baseline: the engine in this process with the W5 SQLite sink (same chain, same event count).
  const { compiled } = compile(doc);
  const store = tempEventDb('bench-server-s6');
  const baseWalls: number[] = [];
  try {
    let runNo = 0;
    const inProcess = async () => {
      const sink = new SqliteEventSink(store.db);
      const t0 = performance.now();
      const result = await runFlow(compiled, benchContext(sink), { input: BENCH_INPUT, runId: `s6-${++runNo}` });
      sink.flush();
      const wall = performance.now() - t0;
      if (result.status !== 'succeeded' || sink.committed !== events) throw new Error(`S6 baseline run: ${result.status}, ${sink.committed} events committed, expected ${events}`);
      return wall;
    };
    await inProcess(); // warm-up
    for (let rep = 0; rep < params.repetitions; rep++) {
      gc();
      baseWalls.push(await inProcess());
    }
  } finally {
    store.dispose();
  }

  return withServer('long', async ({ url, serverPid }) => {
    const flow = await createFlow(url, doc);
    const once = async () => {
      const t0 = performance.now();
      const run = await startRun(url, flow.id, BENCH_INPUT, true);
      const wall = performance.now() - t0;
      expectSucceeded(run, BENCH_INPUT);
      if (run.lastSeq !== events) throw new Error(`S6 run ${run.id}: lastSeq ${run.lastSeq}, expected ${events}`);
      return wall;
    };
    await once(); // warm-up: the server compiles the flow once and caches it
    const walls: number[] = [];
    const serverCpu: number[] = [];
    for (let rep = 0; rep < params.repetitions; rep++) {
      gc();
      const { value, serverCpuMs } = await withCpu(serverPid, once);
      walls.push(value);
      serverCpu.push(serverCpuMs);
    }
    const wall = median(walls);
    const baseWall = median(baseWalls);
    const result = {
      description: `one run of input -> ${params.nodes.toLocaleString('en-US')} noop -> output (${events.toLocaleString('en-US')} events) through runs.start({ wait: true }); baseline: the same chain in this process with the W5 SQLite sink (better-sqlite3, WAL, batched)`,
      nodes: params.nodes,
      events,
      repetitions: params.repetitions,
      wallMs: ms(wall, 1),
      eventsPerSec: Math.round(events / (wall / 1000)),
      baselineWallMs: ms(baseWall, 1),
      baselineEventsPerSec: Math.round(events / (baseWall / 1000)),
      ratio: round(wall / baseWall, 2),
      /** CPU of the server process during a run (median), ms. */
      serverCpuMs: ms(median(serverCpu), 0),
      repetitionWallMs: walls.map((w) => ms(w, 1)),
      repetitionBaselineWallMs: baseWalls.map((w) => ms(w, 1)),
    };
    progress(`S6 ${params.nodes} nodes: ${result.eventsPerSec} events/s through the server vs ${result.baselineEventsPerSec} in process`);
    return result;
  });
}
