import { runFlow } from '@loom/engine';
import { BENCH_INPUT, chain, compile } from '../flows.js';
import { benchContext, CountingSink } from '../sinks.js';
import { gc, now, median } from '../measure.js';

const sizes = [100, 1000, 10000, 30000];
const compiled = new Map(sizes.map((n) => [n, compile(chain(n)).compiled]));
let id = 0;
const res: Record<number, number[]> = {};
for (let rep = 0; rep < 8; rep++) {
  for (const n of sizes) {
    const runs = Math.ceil(30000 / n);
    gc();
    const t0 = now();
    for (let r = 0; r < runs; r++) await runFlow(compiled.get(n)!, benchContext(new CountingSink()), { input: BENCH_INPUT, runId: `r${++id}` });
    (res[n] ??= []).push(((now() - t0) * 1000) / (runs * n));
  }
}
for (const n of sizes) console.log(n, 'median µs/node', median(res[n]!).toFixed(2), res[n]!.map((x) => x.toFixed(2)).join(' '));
