import { decodeEventsNdjson, reduceRun, RunLogError } from '@loom/shared';
import { readTextFile } from '../load.js';
import { describeRunState } from '../format.js';
import { EXIT, UsageError } from '../usage.js';

/** Event logs can be far larger than flows, but must fit in one string (V8's limit is ~512 MiB). */
const MAX_LOG_BYTES = 256 * 1024 * 1024;

/** Rebuilds the run from its log alone: a pure fold, no provider, tool or network. */
export function replayCommand(file: string, options: { json: boolean }, out: (line: string) => void): number {
  let state;
  try {
    const events = decodeEventsNdjson(readTextFile(file, MAX_LOG_BYTES));
    if (events.length === 0) throw new UsageError(`${file}: the log has no events`);
    state = reduceRun(events);
  } catch (error) {
    if (error instanceof RunLogError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  if (options.json) out(JSON.stringify(state));
  else for (const line of describeRunState(state)) out(line);
  if (state.status === 'running') {
    if (!options.json) out('the log ends before run.finished: the run was interrupted or is still going');
    return EXIT.runFailed;
  }
  return state.status === 'succeeded' ? EXIT.ok : EXIT.runFailed;
}
