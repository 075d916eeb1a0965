import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The server package's folder (holding `drizzle/`), found from this module's location:
 * `src/` when run from sources, `dist/` when run from the bundle.
 */
function findServerRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@loom/server') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the @loom/server package folder above ${from}`);
  }
}

export const SERVER_ROOT = findServerRoot(dirname(fileURLToPath(import.meta.url)));
/** The repository root: relative paths in the environment are read from here, whatever the working directory. */
export const REPO_ROOT = resolve(SERVER_ROOT, '../..');
export const MIGRATIONS_DIR = join(SERVER_ROOT, 'drizzle');
