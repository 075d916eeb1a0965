import type { FlowIssue } from '@loom/shared';
import { isRecord, type Path } from './schema.js';

/**
 * What a field holds while the person's text is not a value yet: JSON that does not parse,
 * a number that is not one, two rows with the same key. It stands in the form's value at
 * its place, so the form keeps what was typed, and it keeps the value from being used.
 */
export class Unfinished {
  constructor(
    readonly message: string,
    /** What the field needs to show it again (the text, the rows). */
    readonly draft: unknown,
  ) {}
}

/**
 * The value without its unfinished parts (left out), and one issue for each of them.
 * A value with issues here must not be applied or sent.
 */
export function stripUnfinished(value: unknown, path: Path = []): { clean: unknown; issues: FlowIssue[] } {
  const issues: FlowIssue[] = [];
  const walk = (v: unknown, at: Path): unknown => {
    if (v instanceof Unfinished) {
      issues.push({ path: at, message: v.message });
      return undefined;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...at, i]));
    if (isRecord(v)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v)) {
        const cleaned = walk(item, [...at, key]);
        if (cleaned !== undefined) out[key] = cleaned;
      }
      return out;
    }
    return v;
  };
  const clean = walk(value, path);
  return { clean, issues };
}

/** Equal as JSON (key order aside): what a person would call the same value. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameValue(a[k], b[k]));
  }
  return false;
}
