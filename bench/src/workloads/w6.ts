import { runFlow, type CompiledFlow } from '@loom/engine';
import { compile, expectedEvents, parallelSkills } from '../flows.js';
import { measurePairs, median, progress, round, sleep, worstRss } from '../measure.js';
import { benchContext, CountingSink } from '../sinks.js';

export interface W6Params {
  items: number;
  instances: number;
  delayMs: number;
  repetitions: number;
}

interface ParallelOutput {
  results: { ok: boolean; output?: unknown }[];
  metrics: Record<string, number>;
}

let runCounter = 0;

/** One run of the parallel node; checks every item came back in order, and returns the node's metrics. */
async function engineRun(compiled: CompiledFlow, items: number): Promise<Record<string, number>> {
  const sink = new CountingSink();
  const input = Array.from({ length: items }, (_, i) => i);
  const result = await runFlow(compiled, benchContext(sink), { input, runId: `W6-${++runCounter}` });
  if (result.status !== 'succeeded') throw new Error(`W6 parallel(${items}): status ${result.status}: ${result.error?.message ?? ''}`);
  const output = result.output as ParallelOutput;
  if (!Array.isArray(output?.results) || output.results.length !== items || !output.results.every((r, i) => r.ok && r.output === i)) {
    throw new Error(`W6 parallel(${items}): expected ${items} successful items in order, got ${JSON.stringify(output).slice(0, 200)}`);
  }
  // 3 nodes, plus task.assigned + task.succeeded per item and the node's metrics event.
  const events = expectedEvents(3) + 2 * items + 1;
  if (sink.count !== events) throw new Error(`W6 parallel(${items}): sink got ${sink.count} events, expected ${events}`);
  return output.metrics;
}

function baselineRun(items: number, delayMs: number): Promise<void[]> {
  const timers: Promise<void>[] = new Array(items);
  for (let i = 0; i < items; i++) timers[i] = sleep(delayMs);
  return Promise.all(timers);
}

/**
 * W6: one `parallel` node runs `items` delay(100 ms) items over `instances` instances of
 * capacity 1, so they all run at once. Baseline: Promise.all of `items` 100 ms timers.
 * Also reports the node's own parallelism metrics (speed-up, efficiency).
 */
export async function runW6(params: W6Params) {
  const { items, instances, delayMs } = params;
  const { compiled, validateMs } = compile(parallelSkills(items, instances, delayMs));

  await engineRun(compiled, items);
  await baselineRun(items, delayMs);

  const phases = await measurePairs(params.repetitions, () => baselineRun(items, delayMs), () => engineRun(compiled, items));
  const wall = phases.engine.map((p) => p.wallMs);
  const baseWall = phases.baseline.map((p) => p.wallMs);
  const cpu = phases.engine.map((p) => p.cpuMs);
  const rss = phases.engine.map((p) => p.rss);
  const speedUps = phases.engine.map((p) => p.value.speedUp ?? NaN);
  const efficiencies = phases.engine.map((p) => p.value.efficiency ?? NaN);
  const wallMs = median(wall);
  const baselineWallMs = median(baseWall);
  progress(`W6 ${items} items over ${instances} instances: engine ${round(wallMs, 1)} ms vs raw ${round(baselineWallMs, 1)} ms`);
  return {
    description: `one parallel node runs ${items} delay(${delayMs} ms) items over ${instances} instances (capacity 1, round robin); baseline: Promise.all of ${items} setTimeout(${delayMs} ms)`,
    items,
    instances,
    delayMs,
    repetitions: params.repetitions,
    wallMs: round(wallMs, 2),
    baselineWallMs: round(baselineWallMs, 2),
    ratio: round(wallMs / baselineWallMs, 2),
    /** From the node's own metrics (median): sequential task time / the node's wall time, and that per unit of capacity. */
    speedUp: round(median(speedUps), 2),
    efficiency: round(median(efficiencies), 3),
    cpuMs: round(median(cpu), 2),
    validateMs: round(validateMs, 1),
    peakRssMb: worstRss(rss).peakRssMb,
    repetitionWallMs: wall.map((w) => round(w, 2)),
    repetitionBaselineWallMs: baseWall.map((w) => round(w, 2)),
  };
}
