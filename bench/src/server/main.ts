import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gcAvailable, startReport, round, runMain } from '../measure.js';
import { profileServersInto, repoRoot, buildServer } from './process.js';
import { evaluateServerTargets, formatServerReport } from './report.js';
import { measureConcurrentRuns, measureLiveLatency, measureLongRun, measureStartup, measureTrivialRuns } from './workloads.js';

/**
 * `pnpm bench:server [--quick] [--strict] [--cpu-prof] [--only=S3,S5]` (tsx --expose-gc bench/src/server/main.ts)
 *
 * The server benchmark: each measurement starts its own Loom server process (`node dist/main.js`
 * in apps/server, as `pnpm start` does) on a fresh temp database and talks to it over
 * HTTP and socket.io from this process, beside a baseline measured in the same run.
 * Prints a table and writes bench/results/server-latest.json (--quick: server-quick.json).
 *
 * --cpu-prof: every Loom server process writes a V8 CPU profile to bench/results/profiles/.
 * --only=S3,S5: only those measurements (S1 and S2 are one); the report goes to
 * server-only.json, so a partial run never replaces the full figures.
 *
 * Exits non-zero when a measurement fails (a run does not succeed with the expected output,
 * a socket misses events). Missed targets are printed, and fail the process only with --strict.
 */

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = resolve(here, '../../results');

const args = process.argv.slice(2).filter((a) => a !== '--');
const quick = args.includes('--quick');
const strict = args.includes('--strict');
const cpuProf = args.includes('--cpu-prof');
const onlyArg = args.find((a) => a.startsWith('--only='));
const MEASUREMENTS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'] as const;
const only = onlyArg === undefined ? undefined : new Set(onlyArg.slice('--only='.length).toUpperCase().split(','));
const unknown = args.filter((a) => !['--quick', '--strict', '--cpu-prof', onlyArg].includes(a));
const badOnly = only ? [...only].filter((m) => !(MEASUREMENTS as readonly string[]).includes(m)) : [];
if (unknown.length > 0 || badOnly.length > 0 || only?.size === 0) {
  const what = unknown.length > 0 ? `unknown option(s): ${unknown.join(' ')}` : `--only: expected some of ${MEASUREMENTS.join(',')}, got "${onlyArg}"`;
  console.error(`${what}\nusage: pnpm bench:server [--quick] [--strict] [--cpu-prof] [--only=S3,S5]`);
  process.exit(2);
}
/** Whether a measurement runs (all of them unless --only names some). */
const selected = (...names: string[]) => only === undefined || names.some((n) => only.has(n));
const profilesDir = join(resultsDir, 'profiles');
if (cpuProf) profileServersInto(profilesDir);

const plan = quick
  ? {
      startup: { starts: 2, warmUp: false, idleMs: 2_000 },
      trivialRun: { runs: 50, warmUp: 300 },
      concurrentRuns: { runs: 100, pairs: 4, repetitions: 2 },
      liveLatency: { runs: 100, nodes: 20, delayMs: 5, rounds: 1, warmUpRounds: 1 },
      longRun: { nodes: 10_000, repetitions: 1 },
    }
  : {
      startup: { starts: 5, warmUp: true, idleMs: 2_000 },
      trivialRun: { runs: 300, warmUp: 1_000 },
      concurrentRuns: { runs: 100, pairs: 4, repetitions: 3 },
      liveLatency: { runs: 100, nodes: 20, delayMs: 5, rounds: 3, warmUpRounds: 3 },
      longRun: { nodes: 10_000, repetitions: 3 },
    };

type Json = Record<string, unknown>;

async function main(): Promise<number> {
  const reportStart = startReport();
  console.log(`loom server bench${quick ? ' --quick' : ''}: node ${process.version}, ${cpus().length} cpu(s)${gcAvailable() ? '' : ' (no --expose-gc: phases are not separated by GC)'}\n`);
  const results: Record<string, Json> = {};
  const failures: { measurement: string; error: string }[] = [];

  const step = async (label: string, names: string[], fn: () => Promise<Json>) => {
    console.log(`> ${label}`);
    const started = performance.now();
    try {
      const value = await fn();
      if (names.length === 1) results[names[0]!] = value;
      else for (const name of names) results[name] = value[name] as Json;
      console.log(`  done in ${round((performance.now() - started) / 1000, 1)} s`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.log(`  FAILED: ${message}`);
      if (error instanceof Error && error.stack) console.error(error.stack);
      failures.push({ measurement: label, error: message });
      for (const name of names) results[name] = { error: message };
    }
  };

  await buildServer();
  if (selected('S1', 'S2')) await step('S1 start-up, S2 idle RSS', ['startup', 'idleRss'], () => measureStartup(plan.startup));
  if (selected('S3')) await step('S3 trivial runs, one after another', ['trivialRun'], () => measureTrivialRuns(plan.trivialRun));
  if (selected('S4')) await step('S4 100 concurrent 10-node runs', ['concurrentRuns'], () => measureConcurrentRuns(plan.concurrentRuns));
  if (selected('S5')) await step('S5 commit-to-socket latency, 100 concurrent runs', ['liveLatency'], () => measureLiveLatency(plan.liveLatency));
  if (selected('S6')) await step('S6 one 10,000-node run', ['longRun'], () => measureLongRun(plan.longRun));

  const targets = evaluateServerTargets(results);
  const report = {
    ...reportStart.header(quick),
    plan,
    notes: [
      'Each measurement runs its own server process (node dist/main.js in apps/server, the bundle npm start runs, PORT=0, HOST=127.0.0.1, LOG_LEVEL=info, fresh temp database); the client is this process.',
      'Times are wall-clock ms. API calls are plain fetch to /trpc (no batching); sockets are socket.io-client over WebSocket, one connection per run.',
      'S1 baselines are a bare node:http server started by plain node with the same environment; S3/S4 baselines are system.info on the same server; S6 baseline is the engine in this process with the W5 SQLite sink.',
      'S5 server figures are prom-client histograms over the measured rounds: mean is exact, p50/p99 are bucket upper bounds.',
    ],
    results,
    targets,
    targetsMet: targets.every((t) => t.pass !== false),
    failures,
  };

  console.log(`\n${formatServerReport(results, targets)}\n`);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, only ? 'server-only.json' : quick ? 'server-quick.json' : failures.length > 0 ? 'server-partial.json' : 'server-latest.json');
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${relative(repoRoot, file)} (${report.durationSec} s)`);
  if (cpuProf) console.log(`server CPU profiles in ${relative(repoRoot, profilesDir)}/loom-bench-server-<measurement>-*/ (summarise: npx tsx bench/src/prof-top.ts <file>)`);

  if (failures.length > 0) {
    console.error(`\n${failures.length} measurement(s) failed: ${failures.map((f) => f.measurement).join('; ')}`);
    return 1;
  }
  const missed = targets.filter((t) => t.pass === false);
  if (missed.length > 0) {
    console.log(`${missed.length} target(s) missed${strict ? '' : ' (reported only; --strict makes this fail)'}`);
    if (strict) return 1;
  }
  return 0;
}

runMain(main);
