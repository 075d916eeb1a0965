import { isDeepStrictEqual } from 'node:util';
import { runFlow, type CompiledFlow } from '@loom/engine';
import { BENCH_INPUT, compile, expectedEvents, fanout } from '../flows.js';
import { measurePairs, median, progress, round, sleep, worstRss } from '../measure.js';
import { benchContext, CountingSink } from '../sinks.js';

export interface W2Params {
  branches: number;
  delayMs: number;
  repetitions: number;
}

let runCounter = 0;

async function engineRun(compiled: CompiledFlow, branches: number): Promise<void> {
  const sink = new CountingSink();
  const result = await runFlow(compiled, benchContext(sink), { input: BENCH_INPUT, runId: `W2-${++runCounter}` });
  if (result.status !== 'succeeded') throw new Error(`W2 fanout(${branches}): status ${result.status}: ${result.error?.message ?? ''}`);
  const output = result.output;
  if (!Array.isArray(output) || output.length !== branches || !output.every((v) => isDeepStrictEqual(v, BENCH_INPUT))) {
    throw new Error(`W2 fanout(${branches}): expected an array of ${branches} inputs, got ${JSON.stringify(output).slice(0, 200)}`);
  }
  const events = expectedEvents(branches + 4);
  if (sink.count !== events) throw new Error(`W2 fanout(${branches}): sink got ${sink.count} events, expected ${events}`);
}

function baselineRun(branches: number, delayMs: number): Promise<void[]> {
  const timers: Promise<void>[] = new Array(branches);
  for (let i = 0; i < branches; i++) timers[i] = sleep(delayMs);
  return Promise.all(timers);
}

/**
 * W2: one node fans out to `branches` delay(10 ms) nodes, merged (array) into the output,
 * with settings.concurrency = branches. Baseline: Promise.all of `branches` 10 ms timers.
 */
export async function runW2(params: W2Params) {
  const { branches, delayMs } = params;
  const { compiled, validateMs } = compile(fanout(branches, delayMs));
  if (compiled.flow.settings.concurrency !== branches) throw new Error('W2: concurrency not applied');

  const warmBranches = Math.max(10, Math.round(branches / 10));
  await engineRun(compile(fanout(warmBranches, delayMs)).compiled, warmBranches);
  await baselineRun(warmBranches, delayMs);

  const phases = await measurePairs(params.repetitions, () => baselineRun(branches, delayMs), () => engineRun(compiled, branches));
  const wall = phases.engine.map((p) => p.wallMs);
  const baseWall = phases.baseline.map((p) => p.wallMs);
  const cpu = phases.engine.map((p) => p.cpuMs);
  const baseCpu = phases.baseline.map((p) => p.cpuMs);
  const rss = phases.engine.map((p) => p.rss);
  const baseRss = phases.baseline.map((p) => p.rss);
  const wallMs = median(wall);
  const baselineWallMs = median(baseWall);
  progress(`W2 ${branches} branches: engine ${round(wallMs, 1)} ms vs raw ${round(baselineWallMs, 1)} ms`);
  return {
    description: `one node fans out to ${branches} delay(${delayMs} ms) skill nodes, merge (array) -> output, settings.concurrency = ${branches}; baseline: Promise.all of ${branches} setTimeout(${delayMs} ms)`,
    branches,
    delayMs,
    concurrency: branches,
    repetitions: params.repetitions,
    wallMs: round(wallMs, 2),
    baselineWallMs: round(baselineWallMs, 2),
    ratio: round(wallMs / baselineWallMs, 2),
    /** Process CPU time during the phase, ms (median): wall well above CPU means waiting on timers (or a busy machine). */
    cpuMs: round(median(cpu), 2),
    baselineCpuMs: round(median(baseCpu), 2),
    /** Engine time beyond the raw baseline, per branch. */
    overheadPerBranchUs: round(((wallMs - baselineWallMs) * 1000) / branches, 2),
    validateMs: round(validateMs, 1),
    peakRssMb: worstRss(rss).peakRssMb,
    baselinePeakRssMb: worstRss(baseRss).peakRssMb,
    repetitionWallMs: wall.map((w) => round(w, 2)),
    repetitionBaselineWallMs: baseWall.map((w) => round(w, 2)),
  };
}
