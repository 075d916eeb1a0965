/**
 * Rewrites the golden run logs: `pnpm golden:update`. Run it only when a change to the
 * engine's logs is intended, and review the diff of the .ndjson files before committing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeEventsNdjson } from '@loom/shared';
import { GOLDEN_CASES, goldenPath, runGoldenCase } from './golden-cases.js';

for (const testCase of GOLDEN_CASES) {
  const events = await runGoldenCase(testCase);
  const path = goldenPath(testCase.name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodeEventsNdjson(events));
  console.log(`${path}: ${events.length} events, ${events.at(-1)?.type === 'run.finished' ? (events.at(-1) as { status: string }).status : 'unfinished'}`);
}
