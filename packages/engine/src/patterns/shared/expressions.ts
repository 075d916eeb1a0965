import { compileExpression, type CompiledExpression } from '../../expressions/jsonata.js';
import type { PrepareEnv } from '../../nodes/node-kind.js';

/** Compiles an optional JSONata field of a pattern's config, reporting a syntax error at `path`. */
export function compileOrReport(source: string | undefined, path: (string | number)[], env: PrepareEnv): CompiledExpression | undefined {
  if (source === undefined) return undefined;
  try {
    return compileExpression(source);
  } catch (error) {
    env.issue(path, (error as Error).message);
    return undefined;
  }
}
