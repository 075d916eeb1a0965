import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseFlowText, type RunEvent } from '@loom/shared';
import { createLocalProvider } from '../llm/local.js';
import { createVirtualClock, derivedIds, MemorySink, noNetwork } from '../context/defaults.js';
import { compileFlow } from '../graph/compile.js';
import { runFlow } from '../scheduler/loop.js';

/**
 * The runs whose logs are kept as golden files. Each runs offline with a virtual clock,
 * so the whole log, `ts` included, is reproducible byte for byte.
 */
export interface GoldenCase {
  name: string;
  /** Path of the flow file from the repository root. */
  flow: string;
  input: unknown;
}

export const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: 'hello', flow: 'examples/hello.json', input: { name: 'Ada' } },
  {
    name: 'support-triage-normal',
    flow: 'examples/support-triage.json',
    input: { subject: 'Where is my parcel?', body: 'Ordered last week, nothing yet.', orderId: 'A-1042' },
  },
  { name: 'support-triage-urgent', flow: 'examples/support-triage.json', input: { subject: 'Checkout is down', body: 'Outage since 9:00' } },
  { name: 'retry-and-fallback', flow: 'examples/retry-and-fallback.json', input: {} },
  {
    name: 'parallel-report',
    flow: 'examples/parallel-report.json',
    input: { orders: [{ customer: 'ana', amount: 30 }, { customer: 'bo', amount: 120 }, { customer: 'ana', amount: 45 }] },
  },
  { name: 'failing-step', flow: 'packages/engine/src/replay/__fixtures__/failing-step.json', input: { items: ['a', 'b'] } },
];

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const goldenPath = (name: string) => fileURLToPath(new URL(`./__fixtures__/golden/${name}.ndjson`, import.meta.url));

/** Runs a golden case from its flow file, as the golden files were made. */
export async function runGoldenCase(testCase: GoldenCase, flowText?: string): Promise<RunEvent[]> {
  const parsed = parseFlowText(flowText ?? readFileSync(REPO_ROOT + testCase.flow, 'utf8'));
  if (!parsed.ok) throw new Error(`${testCase.flow}: ${parsed.issues.map((i) => i.message).join('; ')}`);
  const compiled = compileFlow(parsed.flow);
  if (!compiled.ok) throw new Error(`${testCase.flow}: ${compiled.issues.map((i) => i.message).join('; ')}`);
  const sink = new MemorySink();
  await runFlow(
    compiled.compiled,
    { clock: createVirtualClock(), ids: derivedIds, llm: new Map([['local', createLocalProvider()]]), http: noNetwork, log: sink },
    { input: testCase.input },
  );
  return sink.events;
}
