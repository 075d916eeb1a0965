import { runFlow, systemClock, type Clock } from '@loom/engine';
import { BENCH_INPUT, chain, compile } from '../flows.js';
import { benchContext, CountingSink } from '../sinks.js';
import { gc, now } from '../measure.js';

const runs = Number(process.argv[2] ?? 1000);
const variant = process.argv[3] ?? 'system';
const { compiled } = compile(chain(5, { skill: 'delay', delayMs: 10 }));
// A clock that ignores the signal: isolates AbortSignal listener cost.
const plainClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
async function batch(tag: string) {
  const t0 = now();
  const ps = [];
  for (let i = 0; i < runs; i++) {
    const ctx = benchContext(new CountingSink());
    if (variant === 'plain') ctx.clock = plainClock;
    ps.push(runFlow(compiled, ctx, { input: BENCH_INPUT, runId: `${tag}-${i}` }));
  }
  const t1 = now();
  const res = await Promise.all(ps);
  const t2 = now();
  if (res.some((r) => r.status !== 'succeeded')) throw new Error('fail');
  return [t1 - t0, t2 - t0];
}
for (let k = 0; k < 6; k++) { gc(); console.log(variant, runs, (await batch('b' + k)).map((x) => x.toFixed(1)).join(' ')); }
