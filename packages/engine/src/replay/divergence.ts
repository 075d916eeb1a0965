import type { RunEvent } from '@loom/shared';

/** Where two run logs first differ. */
export interface Divergence {
  /** seq of the first differing event (the shorter log's length + 1 when one log ends early). */
  seq: number;
  /** Dotted path of the first differing field, e.g. `output.text`; empty when an event is missing. */
  field: string;
  expected: unknown;
  actual: unknown;
  message: string;
}

export interface CompareOptions {
  /** Top-level event fields to leave out of the comparison; `ts` by default. */
  ignore?: readonly string[];
}

/**
 * Compares a recorded log with a new one event by event. A replay test fails with the
 * first divergence, which names the event and field, as Temporal's replayer does for
 * nondeterminism: `seq 7 (node.status "greet"): field output: expected "Hi", got "Hello"`.
 */
export function findDivergence(expected: readonly RunEvent[], actual: readonly RunEvent[], options: CompareOptions = {}): Divergence | undefined {
  const ignore = new Set(options.ignore ?? ['ts']);
  const length = Math.max(expected.length, actual.length);
  for (let i = 0; i < length; i++) {
    const want = expected[i];
    const got = actual[i];
    if (want === undefined || got === undefined) {
      const present = (want ?? got)!;
      return {
        seq: i + 1,
        field: '',
        expected: want,
        actual: got,
        message: `seq ${i + 1}: ${want === undefined ? `unexpected extra event ${describe(present)}` : `missing event ${describe(present)}`}`,
      };
    }
    const difference = firstDifference(want, got, '', ignore);
    if (difference) {
      return {
        seq: i + 1,
        field: difference.path,
        expected: difference.expected,
        actual: difference.actual,
        message: `seq ${i + 1} (${describe(want)}): field ${difference.path || '(event)'}: expected ${show(difference.expected)}, got ${show(difference.actual)}`,
      };
    }
  }
  return undefined;
}

function firstDifference(a: unknown, b: unknown, path: string, ignoreTop: Set<string>): { path: string; expected: unknown; actual: unknown } | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return { path, expected: a, actual: b };
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`, ignoreTop);
      if (d) return d;
    }
    return undefined;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
  for (const key of keys) {
    if (path === '' && ignoreTop.has(key)) continue;
    const d = firstDifference(ra[key], rb[key], path === '' ? key : `${path}.${key}`, ignoreTop);
    if (d) return d;
  }
  return undefined;
}

function describe(event: RunEvent): string {
  if (event.type === 'node.status') return `node.status "${event.nodeId}" ${event.status}`;
  return 'nodeId' in event && event.nodeId !== undefined ? `${event.type} "${event.nodeId}"` : event.type;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 120 ? text.slice(0, 117) + '...' : text;
}
