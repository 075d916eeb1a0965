import { isDeepStrictEqual } from 'node:util';
import { runFlow, type EventSink, type RunResult } from '@loom/engine';
import { BENCH_INPUT, chain, compile, expectedEvents } from '../flows.js';
import { measurePhase, median, progress, rawChain, round, worstRss, type RssReport } from '../measure.js';
import { benchContext } from '../sinks.js';

/**
 * The chain measurement behind W1, W4 and W5: a chain of N noop skill nodes run
 * sequentially, beside the raw baseline of N sequential awaits, in the same process.
 * The workloads differ only in the event sink.
 */

export interface RunSink {
  sink: EventSink;
  /** Called inside the timed region once the run has resolved (W5 commits here); returns the events it delivered. */
  finish(): number;
}

export interface ChainParams {
  sizes: number[];
  repetitions: number;
  /**
   * Nodes per timed repetition: a repetition runs ceil(nodesPerRepetition / N) runs back
   * to back and reports the mean per run, so N = 100 is not a sub-millisecond sample.
   */
  nodesPerRepetition: number;
}

export interface ChainSizeResult {
  /** Skill nodes in the chain (the flow also has an input and an output node). */
  nodes: number;
  runsPerRepetition: number;
  repetitions: number;
  /** Engine wall time per run, ms (median of repetitions). */
  wallMs: number;
  /** Process CPU time per run during the engine phase, ms (median). */
  cpuMs: number;
  /** Raw baseline (N sequential awaits) per run, ms (median of repetitions). */
  baselineWallMs: number;
  /** wallMs / baselineWallMs. */
  ratio: number;
  /** (wallMs - baselineWallMs) / N, µs. */
  overheadPerNodeUs: number;
  /** wallMs / N, µs: the per-node cost whose constancy across N shows linear growth. */
  perNodeUs: number;
  baselinePerNodeUs: number;
  eventsPerRun: number;
  /** eventsPerRun / wallMs. */
  eventsPerSec: number;
  /** validateFlow (parse + graph checks + compile) of the chain, once, ms; not in wallMs. */
  validateMs: number;
  peakRssMb: number;
  baselinePeakRssMb: number;
  repetitionWallMs: number[];
  repetitionBaselineWallMs: number[];
}

export interface ChainOutcome {
  sizes: ChainSizeResult[];
  /** Total events delivered over every run, warm-up included (for cross-checks such as row counts). */
  totalEvents: number;
}

const input = BENCH_INPUT;
let runCounter = 0;

export async function measureChain(label: string, params: ChainParams, makeRun: (runId: string) => RunSink): Promise<ChainOutcome> {
  let totalEvents = 0;

  const runBatch = async (n: number, runs: number, compiled: ReturnType<typeof compile>['compiled']) => {
    const results: RunResult[] = new Array(runs);
    const delivered: number[] = new Array(runs);
    for (let r = 0; r < runs; r++) {
      const runId = `${label}-${n}-${++runCounter}`;
      const run = makeRun(runId);
      results[r] = await runFlow(compiled, benchContext(run.sink), { input, runId });
      delivered[r] = run.finish();
    }
    return { results, delivered };
  };

  const verify = (n: number, batch: { results: RunResult[]; delivered: number[] }) => {
    const events = expectedEvents(n + 2);
    batch.results.forEach((result, r) => {
      if (result.status !== 'succeeded') throw new Error(`${label} chain(${n}) run ${result.runId}: status ${result.status}: ${result.error?.message ?? ''}`);
      if (!isDeepStrictEqual(result.output, input)) throw new Error(`${label} chain(${n}) run ${result.runId}: unexpected output ${JSON.stringify(result.output)}`);
      if (batch.delivered[r] !== events) throw new Error(`${label} chain(${n}) run ${result.runId}: sink got ${batch.delivered[r]} events, expected ${events}`);
    });
    totalEvents += batch.delivered.reduce((a, b) => a + b, 0);
  };

  const runsFor = (n: number) => Math.max(1, Math.ceil(params.nodesPerRepetition / n));

  // Warm-up: one repetition on a small chain, engine and baseline, not recorded.
  const warmN = Math.min(100, ...params.sizes);
  const warm = compile(chain(warmN)).compiled;
  verify(warmN, await runBatch(warmN, runsFor(warmN), warm));
  for (let r = 0; r < runsFor(warmN); r++) await rawChain(warmN, input);

  // Sizes are interleaved within each repetition (rep 1: 100, 1,000, 10,000; rep 2: ...),
  // so drift in machine load affects every size alike instead of one of them.
  const plans = params.sizes.map((n) => ({
    n,
    ...compile(chain(n)),
    runs: runsFor(n),
    wall: [] as number[],
    baseWall: [] as number[],
    cpu: [] as number[],
    rss: [] as RssReport[],
    baseRss: [] as RssReport[],
  }));
  for (let rep = 0; rep < params.repetitions; rep++) {
    for (const plan of plans) {
      const { n, runs, compiled } = plan;
      const base = await measurePhase(async () => {
        for (let r = 0; r < runs; r++) if ((await rawChain(n, input)) !== input) throw new Error('baseline lost its value');
      });
      plan.baseWall.push(base.wallMs / runs);
      plan.baseRss.push(base.rss);
      const engine = await measurePhase(() => runBatch(n, runs, compiled));
      verify(n, engine.value);
      plan.wall.push(engine.wallMs / runs);
      plan.cpu.push(engine.cpuMs / runs);
      plan.rss.push(engine.rss);
    }
  }

  const sizes = plans.map((plan): ChainSizeResult => {
    const { n, runs } = plan;
    const wallMs = median(plan.wall);
    const baselineWallMs = median(plan.baseWall);
    const eventsPerRun = expectedEvents(n + 2);
    const result: ChainSizeResult = {
      nodes: n,
      runsPerRepetition: runs,
      repetitions: params.repetitions,
      wallMs: round(wallMs, 3),
      cpuMs: round(median(plan.cpu), 3),
      baselineWallMs: round(baselineWallMs, 4),
      ratio: round(wallMs / baselineWallMs, 1),
      overheadPerNodeUs: round(((wallMs - baselineWallMs) * 1000) / n, 2),
      perNodeUs: round((wallMs * 1000) / n, 2),
      baselinePerNodeUs: round((baselineWallMs * 1000) / n, 3),
      eventsPerRun,
      eventsPerSec: Math.round(eventsPerRun / (wallMs / 1000)),
      validateMs: round(plan.validateMs, 1),
      peakRssMb: worstRss(plan.rss).peakRssMb,
      baselinePeakRssMb: worstRss(plan.baseRss).peakRssMb,
      repetitionWallMs: plan.wall.map((w) => round(w, 3)),
      repetitionBaselineWallMs: plan.baseWall.map((w) => round(w, 4)),
    };
    progress(
      `${label} N=${n}: engine ${result.wallMs} ms vs raw ${result.baselineWallMs} ms per run, ${result.overheadPerNodeUs} µs/node overhead (${runs} run(s) x ${params.repetitions} rep(s))`,
    );
    return result;
  });
  return { sizes, totalEvents };
}

/** Per-node cost at the largest N over the smallest: ~1 means linear growth. */
export function linearity(sizes: ChainSizeResult[]) {
  const first = sizes[0]!;
  const last = sizes[sizes.length - 1]!;
  return {
    fromNodes: first.nodes,
    toNodes: last.nodes,
    perNodeUsByNodes: Object.fromEntries(sizes.map((s) => [s.nodes, s.perNodeUs])),
    /** perNodeUs at toNodes / perNodeUs at fromNodes. */
    perNodeCostRatio: round(last.perNodeUs / first.perNodeUs, 2),
    overheadPerNodeRatio: round(last.overheadPerNodeUs / first.overheadPerNodeUs, 2),
  };
}
