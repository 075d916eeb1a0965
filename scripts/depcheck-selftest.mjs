#!/usr/bin/env node
// Proves that `pnpm depcheck` can fail: writes files that break the one-way dependency
// rule into packages/shared/src, runs dependency-cruiser on them with the project config,
// and asserts a non-zero exit plus the expected rule names. The temp files are always removed.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'packages/shared/src');
const PREFIX = '__depcheck_selftest_';
const tag = `${PREFIX}${process.pid}`;

/** Each case: a file that must be reported under `rule`. */
const cases = [
  { file: `${tag}_engine.ts`, rule: 'shared-allowed-imports', code: "import { x } from '@loom/engine';\nexport const y = x;\n" },
  { file: `${tag}_fs.ts`, rule: 'shared-no-node-builtins', code: "import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n" },
  { file: `${tag}_cycle_a.ts`, rule: 'no-circular', code: `import { b } from './${tag}_cycle_b.js';\nexport const a = (): unknown => b;\n` },
  { file: `${tag}_cycle_b.ts`, rule: null, code: `import { a } from './${tag}_cycle_a.js';\nexport const b = (): unknown => a;\n` },
];

function cleanup() {
  // Also removes leftovers of an earlier run that was killed before its finally block.
  for (const name of readdirSync(dir)) if (name.startsWith(PREFIX)) rmSync(join(dir, name), { force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

let failed = false;
try {
  cleanup();
  for (const c of cases) writeFileSync(join(dir, c.file), c.code);
  const depcruise = join(root, 'node_modules/.bin/depcruise');
  const res = spawnSync(
    depcruise,
    ['--config', '.dependency-cruiser.cjs', ...cases.map((c) => `packages/shared/src/${c.file}`)],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
  );
  if (res.error) throw res.error;
  // eslint-disable-next-line no-control-regex
  const out = `${res.stdout}\n${res.stderr}`.replace(/\x1b\[[0-9;]*m/g, ''); // in case colours are forced
  const problems = [];
  if (res.status === 0) problems.push('depcruise exited 0 on violating imports');
  for (const c of cases) {
    if (c.rule && !new RegExp(`error ${c.rule}: packages/shared/src/${c.file}`).test(out)) {
      problems.push(`expected "error ${c.rule}" for ${c.file}`);
    }
  }
  if (problems.length) {
    failed = true;
    console.error(`depcheck self-test FAILED:\n  - ${problems.join('\n  - ')}\n--- depcruise output (exit ${res.status}) ---\n${out}`);
  } else {
    const rules = cases.filter((c) => c.rule).map((c) => c.rule);
    console.log(`depcheck self-test ok: violations rejected (exit ${res.status}) by ${rules.join(', ')}`);
  }
} finally {
  cleanup();
}
process.exit(failed ? 1 : 0);
