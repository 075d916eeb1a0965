// Bundles the server (with the engine, shared and its npm dependencies) into dist/main.js,
// so it starts in plain Node without compiling TypeScript on the fly: tsx takes seconds to
// load this many modules, the bundle a fraction of that.
// better-sqlite3 stays external: it is a native addon loaded from node_modules.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'src/main.ts')],
  outfile: join(root, 'dist/main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['better-sqlite3'],
  logLevel: 'warning',
  // Bundled CommonJS packages (express…) call require() for Node built-ins.
  banner: { js: "import { createRequire as __loomCreateRequire } from 'node:module'; const require = __loomCreateRequire(import.meta.url);" },
});
