import { DECISIONS, type Decision, type Failure } from './machine.js';

/**
 * How the supervisor reads its agents' answers. Agents may be rules (JSON values) or
 * language models (text, maybe JSON text), so both shapes are accepted.
 */

const FAILING_WORDS = /^\s*(fail|failed|false|no|reject|rejected)\b/i;

/** A monitoring agent's verdict: truthy passes, except `{ ok: false }` and text such as "fail" or "false". */
export function readVerdict(output: unknown): { pass: true } | { pass: false; reason: Failure } {
  if (typeof output === 'string') {
    const parsed = parseJsonObject(output);
    if (parsed !== undefined) return readVerdict(parsed);
    if (output.trim() === '' || FAILING_WORDS.test(output)) return rejected(output.trim() === '' ? 'the monitor answered with empty text' : `the monitor answered ${JSON.stringify(output.trim())}`);
    return { pass: true };
  }
  if (!output) return rejected(`the monitor answered ${JSON.stringify(output ?? null)}`);
  if (typeof output === 'object' && !Array.isArray(output) && (output as Record<string, unknown>)['ok'] === false) {
    const { reason, message } = output as Record<string, unknown>;
    const why = typeof reason === 'string' ? reason : typeof message === 'string' ? message : undefined;
    return rejected(why ? `the monitor rejected it: ${why}` : 'the monitor answered { ok: false }');
  }
  return { pass: true };
}

function rejected(message: string): { pass: false; reason: Failure } {
  return { pass: false, reason: { message, code: 'rejected' } };
}

/** A recovery agent's decision: "retry", "skip", "replan" or "abort", as text (its first word) or `{ decision }`. */
export function readDecision(output: unknown): { ok: true; decision: Decision } | { ok: false; error: Failure } {
  let value = output;
  if (typeof value === 'string') value = parseJsonObject(value) ?? value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) value = (value as Record<string, unknown>)['decision'];
  if (typeof value === 'string') {
    const word = /[a-z]+/i.exec(value)?.[0]?.toLowerCase();
    const decision = DECISIONS.find((d) => d === word);
    if (decision) return { ok: true, decision };
  }
  const shown = JSON.stringify(output ?? null);
  return {
    ok: false,
    error: { message: `it answered ${shown.length > 120 ? shown.slice(0, 117) + '...' : shown}; expected "retry", "skip", "replan" or "abort" (text or { "decision": ... })`, code: 'invalid_decision' },
  };
}

function parseJsonObject(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}
