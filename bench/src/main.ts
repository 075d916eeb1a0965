import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReport, RESULT_PREFIX, round, runMain } from './measure.js';
import { evaluateTargets, formatReport } from './report.js';

/**
 * `pnpm bench [--quick] [--only W1,W3] [--cpu-prof] [--strict]`
 *
 * Runs each workload in its own child process (bench/src/child.ts), so peak RSS is
 * per workload and one workload's garbage cannot slow the next; each child measures
 * its raw-Promise baseline in the same process. Prints a table and writes
 * bench/results/latest.json (--quick: quick.json; --only: partial.json).
 *
 * Exits non-zero when a workload throws or a run does not succeed with the expected
 * output. Missed performance targets are printed, and fail the process only with --strict.
 */

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = resolve(here, '..');
const repoRoot = resolve(benchDir, '..');
const resultsDir = join(benchDir, 'results');

const args = process.argv.slice(2).filter((a) => a !== '--');
const quick = args.includes('--quick');
const strict = args.includes('--strict');
const cpuProf = args.includes('--cpu-prof');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1]! : args[args.indexOf(onlyArg) + 1] ?? '').split(',').filter(Boolean) : undefined;
const unknown = args.filter((a, i) => a.startsWith('--') && !['--quick', '--strict', '--cpu-prof'].includes(a) && !a.startsWith('--only') && !(args[i - 1] === '--only'));
if (unknown.length > 0) {
  console.error(`unknown option(s): ${unknown.join(' ')}\nusage: pnpm bench [--quick] [--only W1,W3] [--cpu-prof] [--strict]`);
  process.exit(2);
}

interface Job {
  workload: 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6';
  label: string;
  params: Record<string, unknown>;
  timeoutMs: number;
}

const jobs: Job[] = quick
  ? [
      { workload: 'W1', label: 'W1 noop chain 100/1,000', params: { sizes: [100, 1_000], repetitions: 1, nodesPerRepetition: 10_000 }, timeoutMs: 60_000 },
      { workload: 'W2', label: 'W2 fan-out 200', params: { branches: 200, delayMs: 10, repetitions: 1 }, timeoutMs: 60_000 },
      { workload: 'W3', label: 'W3 200 concurrent runs', params: { runs: 200, steps: 5, delayMs: 10, repetitions: 1 }, timeoutMs: 60_000 },
      { workload: 'W4', label: 'W4 streamed chain 1,000', params: { sizes: [1_000], repetitions: 1, nodesPerRepetition: 10_000 }, timeoutMs: 60_000 },
      { workload: 'W5', label: 'W5 SQLite chain 1,000', params: { sizes: [1_000], repetitions: 1, nodesPerRepetition: 10_000 }, timeoutMs: 60_000 },
      { workload: 'W6', label: 'W6 parallel pattern 10 items', params: { items: 10, instances: 10, delayMs: 100, repetitions: 1 }, timeoutMs: 60_000 },
    ]
  : [
      // 7 repetitions (median): the linearity target divides the slowest size's figure by the fastest's, so one slow repetition of either would decide it.
      { workload: 'W1', label: 'W1 noop chain 100/1,000/10,000', params: { sizes: [100, 1_000, 10_000], repetitions: 7, nodesPerRepetition: 50_000 }, timeoutMs: 300_000 },
      { workload: 'W2', label: 'W2 fan-out 1,000', params: { branches: 1_000, delayMs: 10, repetitions: 3 }, timeoutMs: 300_000 },
      { workload: 'W3', label: 'W3 1,000 concurrent runs', params: { runs: 1_000, steps: 5, delayMs: 10, repetitions: 3 }, timeoutMs: 300_000 },
      { workload: 'W3', label: 'W3 10,000 concurrent runs', params: { runs: 10_000, steps: 5, delayMs: 10, repetitions: 2 }, timeoutMs: 300_000 },
      { workload: 'W4', label: 'W4 streamed chain 1,000/10,000', params: { sizes: [1_000, 10_000], repetitions: 3, nodesPerRepetition: 50_000 }, timeoutMs: 300_000 },
      { workload: 'W5', label: 'W5 SQLite chain 1,000/10,000', params: { sizes: [1_000, 10_000], repetitions: 3, nodesPerRepetition: 50_000 }, timeoutMs: 300_000 },
      { workload: 'W6', label: 'W6 parallel pattern 50 items', params: { items: 50, instances: 50, delayMs: 100, repetitions: 3 }, timeoutMs: 300_000 },
    ];

const selected = only ? jobs.filter((j) => only.includes(j.workload)) : jobs;
if (selected.length === 0) {
  console.error(`--only ${only?.join(',')} selects no workload (W1..W6)`);
  process.exit(2);
}

interface ChildOutcome {
  result?: Record<string, unknown>;
  error?: string;
  seconds: number;
}

function runChild(job: Job): Promise<ChildOutcome> {
  const started = performance.now();
  const profDir = join(resultsDir, 'profiles');
  if (cpuProf) mkdirSync(profDir, { recursive: true });
  const nodeArgs = [
    '--expose-gc',
    ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${job.workload}-${Date.now()}.cpuprofile`] : []),
    '--import',
    'tsx',
    join(here, 'child.ts'),
    job.workload,
    JSON.stringify(job.params),
  ];
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, nodeArgs, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    // Progress and errors from the child, shown in order with ours (pnpm may reorder two streams).
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      process.stdout.write(chunk);
      stderrTail = (stderrTail + chunk).slice(-2_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), job.timeoutMs);
    const done = (error?: string) => {
      clearTimeout(timer);
      const seconds = round((performance.now() - started) / 1000, 1);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      for (const other of stdout.split('\n')) if (other && !other.startsWith(RESULT_PREFIX)) process.stdout.write(`  ${other}\n`);
      if (error) {
        const reason = /bench child failed: (.*)/.exec(stderrTail)?.[1];
        return resolvePromise({ error: reason ? `${error}: ${reason}` : error, seconds });
      }
      if (!line) return resolvePromise({ error: 'the child exited without a result', seconds });
      try {
        resolvePromise({ result: JSON.parse(line.slice(RESULT_PREFIX.length)) as Record<string, unknown>, seconds });
      } catch (e) {
        resolvePromise({ error: `unreadable result: ${(e as Error).message}`, seconds });
      }
    };
    child.on('error', (error) => done(`could not start: ${error.message}`));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') done(`timed out after ${job.timeoutMs / 1000} s`);
      else if (code !== 0) done(`exited with ${signal ?? `code ${code}`}`);
      else done();
    });
  });
}

async function main(): Promise<number> {
  const reportStart = startReport();
  console.log(`loom bench${quick ? ' --quick' : ''}: ${selected.length} workload process(es), node ${process.version}, ${cpus().length} cpu(s)\n`);
  const workloads: Record<string, Record<string, unknown>> = {};
  const failures: { workload: string; label: string; error: string }[] = [];

  for (const job of selected) {
    console.log(`> ${job.label}`);
    const outcome = await runChild(job);
    if (outcome.error !== undefined) {
      console.log(`  FAILED (${outcome.seconds} s): ${outcome.error}`);
      failures.push({ workload: job.workload, label: job.label, error: outcome.error });
      workloads[job.workload] ??= { error: `${job.label}: ${outcome.error}` };
      continue;
    }
    console.log(`  done in ${outcome.seconds} s`);
    const result = { ...outcome.result!, processSeconds: outcome.seconds };
    if (job.workload === 'W3') {
      // One child per run count: collect them as sizes, like the chain workloads.
      const w3 = (workloads.W3 ??= { description: 'concurrent runs of a 5-delay-node chain; one child process per run count', sizes: [] });
      if (Array.isArray(w3.sizes)) w3.sizes.push(result);
    } else {
      workloads[job.workload] = result;
    }
  }

  const targets = evaluateTargets(workloads);
  const report = {
    ...reportStart.header(quick),
    ...(only ? { only } : {}),
    notes: [
      'Times are wall-clock ms; engine and raw baseline of a workload run in the same child process, baseline first, with a GC between phases.',
      'Chain workloads (W1, W4, W5): wallMs is per run, the median of the repetitions; a repetition runs ceil(nodesPerRepetition / N) runs back to back.',
      'overheadPerNodeUs = (wallMs - baselineWallMs) * 1000 / N. peakRssMb is the whole process (max of 5 ms samples and the kernel VmHWM, reset per phase).',
    ],
    workloads,
    targets,
    targetsMet: targets.every((t) => t.pass !== false),
    failures,
  };

  console.log(`\n${formatReport(workloads, targets)}\n`);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, quick ? 'quick.json' : only || failures.length > 0 ? 'partial.json' : 'latest.json');
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${relative(repoRoot, file)} (${report.durationSec} s)`);
  if (cpuProf) console.log(`cpu profiles in ${relative(repoRoot, join(resultsDir, 'profiles'))} (summarise: npx tsx bench/src/prof-top.ts <file>)`);

  if (failures.length > 0) {
    console.error(`\n${failures.length} workload(s) failed: ${failures.map((f) => f.label).join('; ')}`);
    return 1;
  }
  const missed = targets.filter((t) => t.pass === false);
  if (missed.length > 0) {
    console.log(`${missed.length} performance target(s) missed${strict ? '' : ' (reported only; --strict makes this fail)'}`);
    if (strict) return 1;
  }
  return 0;
}

runMain(main);
