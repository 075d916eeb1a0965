import { isDeepStrictEqual } from 'node:util';
import { runFlow, type CompiledFlow, type RunResult } from '@loom/engine';
import { BENCH_INPUT, chain, compile, expectedEvents } from '../flows.js';
import { gc, measurePairs, median, now, percentile, progress, round, sleep, worstRss } from '../measure.js';
import { benchContext, CountingSink } from '../sinks.js';

export interface W3Params {
  runs: number;
  /** Delay nodes per run (between input and output). */
  steps: number;
  delayMs: number;
  repetitions: number;
}

let batchCounter = 0;

interface Batch {
  latencies: Float64Array;
}

/** Starts `runs` runs at once, each with its own counting sink and run id; resolves when all have. */
async function engineBatch(compiled: CompiledFlow, runs: number, steps: number): Promise<Batch> {
  const batch = ++batchCounter;
  const latencies = new Float64Array(runs);
  const sinks: CountingSink[] = new Array(runs);
  const results: RunResult[] = new Array(runs);
  const pending: Promise<void>[] = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const sink = (sinks[i] = new CountingSink());
    const start = now();
    pending[i] = runFlow(compiled, benchContext(sink), { input: BENCH_INPUT, runId: `W3-${batch}-${i}` }).then((result) => {
      latencies[i] = now() - start;
      results[i] = result;
    });
  }
  await Promise.all(pending);
  const events = expectedEvents(steps + 2);
  for (let i = 0; i < runs; i++) {
    const result = results[i]!;
    if (result.status !== 'succeeded') throw new Error(`W3 run ${result.runId}: status ${result.status}: ${result.error?.message ?? ''}`);
    if (!isDeepStrictEqual(result.output, BENCH_INPUT)) throw new Error(`W3 run ${result.runId}: unexpected output ${JSON.stringify(result.output)}`);
    if (sinks[i]!.count !== events) throw new Error(`W3 run ${result.runId}: sink got ${sinks[i]!.count} events, expected ${events}`);
  }
  return { latencies };
}

/** `runs` concurrent async functions, each doing `steps` sequential sleeps. */
async function baselineBatch(runs: number, steps: number, delayMs: number): Promise<Batch> {
  const latencies = new Float64Array(runs);
  const pending: Promise<void>[] = new Array(runs);
  const one = async (i: number, start: number) => {
    for (let s = 0; s < steps; s++) await sleep(delayMs);
    latencies[i] = now() - start;
  };
  for (let i = 0; i < runs; i++) pending[i] = one(i, now());
  await Promise.all(pending);
  return { latencies };
}

function pooled(batches: Batch[]): Float64Array {
  const all = new Float64Array(batches.reduce((n, b) => n + b.latencies.length, 0));
  let offset = 0;
  for (const b of batches) {
    all.set(b.latencies, offset);
    offset += b.latencies.length;
  }
  return all;
}

/**
 * W3: `runs` concurrent runs of input -> `steps` delay(10 ms) nodes -> output, compiled
 * once, all started at once. Baseline: as many concurrent async functions doing `steps`
 * sequential 10 ms sleeps. Each phase (baseline first, then engine) has its own GC and
 * RSS peak.
 */
export async function runW3(params: W3Params) {
  const { runs, steps, delayMs } = params;
  const { compiled, validateMs } = compile(chain(steps, { skill: 'delay', delayMs }));

  const warmRuns = Math.min(100, runs);
  await engineBatch(compiled, warmRuns, steps);
  await baselineBatch(warmRuns, steps, delayMs);
  gc();

  const phases = await measurePairs(params.repetitions, () => baselineBatch(runs, steps, delayMs), () => engineBatch(compiled, runs, steps));
  const wall = phases.engine.map((p) => p.wallMs);
  const baseWall = phases.baseline.map((p) => p.wallMs);
  const cpu = phases.engine.map((p) => p.cpuMs);
  const baseCpu = phases.baseline.map((p) => p.cpuMs);
  const rss = phases.engine.map((p) => p.rss);
  const baseRss = phases.baseline.map((p) => p.rss);
  const batches = phases.engine.map((p) => p.value);
  const baseBatches = phases.baseline.map((p) => p.value);
  const latencies = pooled(batches);
  const baseLatencies = pooled(baseBatches);
  const wallMs = median(wall);
  const baselineWallMs = median(baseWall);
  const engineRss = worstRss(rss);
  const baselineRss = worstRss(baseRss);
  progress(`W3 ${runs} runs: engine ${round(wallMs, 1)} ms vs raw ${round(baselineWallMs, 1)} ms, peak RSS ${engineRss.peakRssMb} MB`);
  return {
    description: `${runs} concurrent runs of input -> ${steps} delay(${delayMs} ms) skill nodes -> output (compiled once, all started at once, one counting sink each); baseline: ${runs} concurrent async functions doing ${steps} sequential ${delayMs} ms sleeps`,
    runs,
    delayNodesPerRun: steps,
    nodesPerRun: steps + 2,
    delayMs,
    repetitions: params.repetitions,
    wallMs: round(wallMs, 1),
    baselineWallMs: round(baselineWallMs, 1),
    ratio: round(wallMs / baselineWallMs, 2),
    /** Process CPU time during the phase, ms (median): wall well above CPU means waiting on timers (or a busy machine). */
    cpuMs: round(median(cpu), 1),
    baselineCpuMs: round(median(baseCpu), 1),
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    baselineP50Ms: round(percentile(baseLatencies, 50), 1),
    baselineP99Ms: round(percentile(baseLatencies, 99), 1),
    /** Highest RSS of the whole process during an engine phase, MB (the < 500 MB target applies to this). */
    peakRssMb: engineRss.peakRssMb,
    rssBeforeMb: engineRss.rssBeforeMb,
    rssDeltaMb: engineRss.rssDeltaMb,
    baselinePeakRssMb: baselineRss.peakRssMb,
    baselineRssBeforeMb: baselineRss.rssBeforeMb,
    baselineRssDeltaMb: baselineRss.rssDeltaMb,
    rssSamples: engineRss.samples,
    rssKernelPeak: engineRss.kernelPeak,
    validateMs: round(validateMs, 1),
    repetitionWallMs: wall.map((w) => round(w, 1)),
    repetitionBaselineWallMs: baseWall.map((w) => round(w, 1)),
  };
}
