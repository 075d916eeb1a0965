import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseFlowText, type RunEvent } from '@loom/shared';
import { createLocalProvider } from '../llm/local.js';
import { createVirtualClock, derivedIds, MemorySink, noNetwork } from '../context/defaults.js';
import { compileFlow } from '../graph/compile.js';
import { runFlow } from '../scheduler/loop.js';

/**
 * The runs whose logs are kept as golden files: every `examples/<flow>.golden.json`
 * lists `{ name, input }` cases for `examples/<flow>.json`, plus the fixtures below.
 * Each runs offline with a virtual clock, so the whole log, `ts` included, is
 * reproducible byte for byte.
 */
export interface GoldenCase {
  name: string;
  /** Path of the flow file from the repository root. */
  flow: string;
  input: unknown;
}

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const goldenPath = (name: string) => fileURLToPath(new URL(`./__fixtures__/golden/${name}.ndjson`, import.meta.url));

const FIXTURE_CASES: GoldenCase[] = [
  { name: 'failing-step', flow: 'packages/engine/src/replay/__fixtures__/failing-step.json', input: { items: ['a', 'b'] } },
];

function exampleCases(): GoldenCase[] {
  const files = readdirSync(REPO_ROOT + 'examples').filter((f) => f.endsWith('.golden.json')).sort();
  return files.flatMap((file) => {
    const flow = `examples/${file.replace(/\.golden\.json$/, '.json')}`;
    const cases = JSON.parse(readFileSync(REPO_ROOT + 'examples/' + file, 'utf8')) as { name: string; input: unknown }[];
    return cases.map((c) => ({ name: c.name, flow, input: c.input }));
  });
}

export const GOLDEN_CASES: readonly GoldenCase[] = [...exampleCases(), ...FIXTURE_CASES];

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
