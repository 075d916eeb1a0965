import { z } from 'zod';

/**
 * JSON Schemas written in a flow (an agent's `outputSchema`, a tool's `parameters`),
 * checked with zod's JSON Schema reader: types, properties, required, enums, formats,
 * bounds, patterns, unions, local `$ref`s. What it cannot check (`if`/`then`, `not`,
 * remote `$ref`s) is refused when the flow is checked, not ignored at run time.
 */
export interface CompiledJsonSchema {
  /** Problems with `value`, one line each (`$.items[0].n: Too big: ...`); empty when it matches. */
  check(value: unknown): string[];
}

/** Throws an Error saying what the schema uses that cannot be checked. */
export function compileJsonSchema(schema: Record<string, unknown>): CompiledJsonSchema {
  let compiled: z.ZodType;
  try {
    compiled = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new Error(`not a JSON Schema this engine can check: ${(error as Error).message}`);
  }
  return {
    check: (value) => {
      const result = compiled.safeParse(value);
      if (result.success) return [];
      return result.error.issues.map((issue) => `${jsonPath(issue.path)}: ${issue.message}`);
    },
  };
}

function jsonPath(path: readonly PropertyKey[]): string {
  let text = '$';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) text += `.${key}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}
