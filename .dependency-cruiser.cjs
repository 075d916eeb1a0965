// @ts-check
/**
 * The one-way dependency rule (see /DESIGN.md "Packages and the one-way dependency rule"):
 *
 *   shared <- engine <- server        shared <- web        (cli and bench: shared + engine + server)
 *
 * Run with `pnpm depcheck`. Every rule is `error`: a wrong import fails `npm test`.
 * Test files are cruised like any other file: tests obey the same rule.
 * `scripts/depcheck-selftest.mjs` proves that the check can fail.
 */
const fs = require('node:fs');
const path = require('node:path');

/** Workspace packages: short name -> folder (relative to the repo root). */
const PKG = {
  shared: 'packages/shared',
  engine: 'packages/engine',
  server: 'apps/server',
  web: 'apps/web',
  cli: 'apps/cli',
  bench: 'bench',
  e2e: 'e2e',
};

/** Which workspace packages each package may import (by package name, never by path). */
const ALLOWED = {
  shared: [],
  engine: ['shared'],
  server: ['shared', 'engine'],
  web: ['shared'], // plus `import type { AppRouter } from '@loom/server'`, see rule below
  cli: ['shared', 'engine', 'server'], // server: only its sandbox drivers, loaded when a flow runs code
  bench: ['shared', 'engine', 'server'],
};

/** Nothing may import these (they are end points, not libraries). */
const LEAVES = ['cli', 'bench', 'e2e'];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** Matches a package both when resolved (its folder) and when unresolved (its name). */
const pkgTarget = (name) => `^${esc(PKG[name])}/|^@loom/${name}(/|$)`;
const from = (name) => ({ path: `^${esc(PKG[name])}/` });

/** The file a package's name resolves to (package.json "exports"."." / "main"). */
function entryOf(name) {
  const dir = PKG[name];
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, dir, 'package.json'), 'utf8'));
    let entry = manifest.exports?.['.'] ?? manifest.exports ?? manifest.main;
    if (entry && typeof entry === 'object') entry = entry.import ?? entry.default ?? entry.types;
    if (typeof entry === 'string') return path.posix.join(dir, entry);
  } catch {
    /* no package.json yet */
  }
  return `${dir}/src/index.ts`;
}

const layerRules = Object.entries(ALLOWED).map(([name, allowed]) => {
  const forbidden = Object.keys(PKG).filter(
    (other) => other !== name && !allowed.includes(other) && !LEAVES.includes(other) && !(name === 'web' && other === 'server'),
  );
  return {
    name: `${name}-allowed-imports`,
    severity: 'error',
    comment:
      `${PKG[name]} (@loom/${name}) may import ` +
      (allowed.length ? allowed.map((a) => `@loom/${a}`).join(', ') : 'no other workspace package') +
      ' (one-way rule: shared <- engine <- server; shared <- web).',
    from: from(name),
    to: { path: forbidden.map(pkgTarget) },
  };
});

/** Relative imports that leave the importing package: `../../engine/src/x`. */
const relativeRules = Object.keys(PKG).map((name) => ({
  name: `${name}-no-relative-import-into-other-package`,
  severity: 'error',
  comment: `${PKG[name]} reaches into another package by relative path. Import the package by its name (@loom/<pkg>) instead.`,
  from: from(name),
  to: {
    dependencyTypes: ['local'],
    path: Object.keys(PKG)
      .filter((other) => other !== name)
      .map((other) => `^${esc(PKG[other])}/`),
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    ...relativeRules,
    {
      name: 'web-imports-server-types-only',
      severity: 'error',
      comment:
        'apps/web may import @loom/server only as `import type` (the tRPC AppRouter type); server code must never be bundled into the browser. ' +
        '(@loom/server must be in apps/web/package.json so the import resolves: an unresolved import cannot be recognised as type-only.)',
      from: from('web'),
      to: { path: pkgTarget('server'), dependencyTypesNot: ['type-only'] },
    },
    ...LEAVES.map((leaf) => ({
      name: `nothing-imports-${leaf}`,
      severity: 'error',
      comment: `${PKG[leaf]} (@loom/${leaf}) is an end point: no other package may import it.`,
      from: { pathNot: `^${esc(PKG[leaf])}/` },
      to: { path: pkgTarget(leaf) },
    })),
    {
      name: 'shared-no-node-builtins',
      severity: 'error',
      comment:
        'packages/shared runs in the browser (apps/web) and does no I/O: no node builtins ' +
        '(node:fs, node:net, node:http, node:child_process, node:crypto, ...). Type-only imports are erased and allowed.',
      from: from('shared'),
      to: { dependencyTypes: ['core'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-deep-import-into-package',
      severity: 'error',
      comment:
        'Import another workspace package only through its public entry (`@loom/<pkg>`), never `@loom/<pkg>/src/...`. ' +
        'Export what you need from that package\'s index instead.',
      from: {},
      to: { path: '^@loom/[^/]+/.+' },
    },
    ...Object.keys(PKG).map((name) => ({
      name: `no-deep-import-into-${name}`,
      severity: 'error',
      comment: `Only ${entryOf(name)} (the package entry of @loom/${name}) may be imported from other packages.`,
      from: { pathNot: `^${esc(PKG[name])}/` },
      to: {
        dependencyTypesNot: ['local'], // relative paths are reported by *-no-relative-import-into-other-package
        path: `^${esc(PKG[name])}/`,
        pathNot: `^${esc(entryOf(name))}$`,
      },
    })),
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Circular runtime dependency. Cycles in which at least one edge is `import type` are erased at compile time and allowed.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    // Cruise `import type` too (so the type-only rules above can see them).
    tsPreCompilationDeps: true,
    doNotFollow: { path: ['(^|/)node_modules/'] },
    exclude: { path: ['(^|/)node_modules/', '(^|/)dist/', '(^|/)coverage/', '(^|/)bench/results/'] },
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
