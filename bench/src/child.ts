import { gc, gcAvailable, RESULT_PREFIX } from './measure.js';
import { runW1 } from './workloads/w1.js';
import { runW2 } from './workloads/w2.js';
import { runW3 } from './workloads/w3.js';
import { runW4 } from './workloads/w4.js';
import { runW5 } from './workloads/w5.js';
import { runW6 } from './workloads/w6.js';

/**
 * One workload in its own process, so each workload's peak RSS is its own:
 *   node --expose-gc --import tsx bench/src/child.ts <W1..W6> '<params JSON>'
 * Progress goes to stderr; the result is one stdout line starting with RESULT_PREFIX.
 * Exits non-zero when the workload throws (a run failed or gave the wrong output).
 */

const WORKLOADS: Record<string, (params: never) => Promise<unknown>> = {
  W1: runW1,
  W2: runW2,
  W3: runW3,
  W4: runW4,
  W5: runW5,
  W6: runW6,
};

async function main(): Promise<void> {
  const [name, json] = process.argv.slice(2);
  const workload = name === undefined ? undefined : WORKLOADS[name];
  if (!workload || json === undefined) throw new Error(`usage: child.ts <${Object.keys(WORKLOADS).join('|')}> '<params JSON>'`);
  if (!gcAvailable()) process.stderr.write('  warning: global.gc is not exposed (run with --expose-gc); RSS phases are not separated by GC\n');
  gc();
  const result = await workload(JSON.parse(json) as never);
  process.stdout.write(RESULT_PREFIX + JSON.stringify({ ...(result as object), gcExposed: gcAvailable() }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
