import { RunEvent } from './schema.js';
import { RunLogError } from './reduce.js';

/** One event per line, as `pnpm flow run --json` writes and the server stores. */
export function encodeEventsNdjson(events: Iterable<RunEvent>): string {
  let out = '';
  for (const event of events) out += JSON.stringify(event) + '\n';
  return out;
}

/**
 * Parses an NDJSON run log, validating every event. Errors name the line:
 * `line 7: field "seq": expected number`.
 */
export function decodeEventsNdjson(text: string): RunEvent[] {
  const events: RunEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw new RunLogError(`line ${i + 1}: not valid JSON (${error instanceof Error ? error.message : String(error)})`, events.length);
    }
    const parsed = RunEvent.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? `field "${issue.path.join('.')}": ` : '';
      throw new RunLogError(`line ${i + 1}: not a run event: ${field}${issue.message}`, events.length);
    }
    events.push(parsed.data);
  }
  return events;
}
