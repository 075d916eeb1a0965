import { describe, expect, it } from 'vitest';
import { decodeEventsNdjson, encodeEventsNdjson } from './ndjson.js';
import { reduceRun, RunLogError } from './reduce.js';
import { researchRunLog } from './__fixtures__/research-run.js';

function decodeError(text: string): RunLogError {
  try {
    decodeEventsNdjson(text);
  } catch (error) {
    if (error instanceof RunLogError) return error;
    throw error;
  }
  throw new Error('expected a RunLogError, but the text decoded');
}

const started = '{"v":1,"runId":"r","seq":1,"ts":0,"type":"run.started","flowId":"f","flowHash":"h","nodeIds":["a"],"input":null}';
const running = '{"v":1,"runId":"r","seq":2,"ts":1,"type":"node.status","nodeId":"a","status":"running","attempt":1}';

describe('encodeEventsNdjson', () => {
  it('writes one JSON event per line, each line ending in a newline', () => {
    const text = encodeEventsNdjson(researchRunLog);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines).toHaveLength(researchRunLog.length);
    expect(lines.map((line) => JSON.parse(line))).toEqual(researchRunLog);
  });

  it('writes nothing for no events', () => {
    expect(encodeEventsNdjson([])).toBe('');
  });
});

describe('decodeEventsNdjson', () => {
  it('round-trips a run log, event for event and byte for byte', () => {
    const text = encodeEventsNdjson(researchRunLog);
    const decoded = decodeEventsNdjson(text);
    expect(decoded).toEqual(researchRunLog);
    expect(encodeEventsNdjson(decoded)).toBe(text);
    expect(reduceRun(decoded)).toEqual(reduceRun(researchRunLog));
  });

  it('accepts blank lines, CRLF line ends and a missing final newline', () => {
    expect(decodeEventsNdjson(`${started}\r\n\r\n  ${running}  `)).toHaveLength(2);
    expect(decodeEventsNdjson('')).toEqual([]);
    expect(decodeEventsNdjson('\n\n')).toEqual([]);
  });

  it('names the line of text that is not JSON, counting blank lines', () => {
    const error = decodeError(`${started}\n\n{"v":1,"runId":"r",\n${running}\n`);
    expect(error.message).toMatch(/^line 3: not valid JSON \(/);
    expect(error.index).toBe(1);
  });

  it('names the line and the field of an event with a wrong field', () => {
    const error = decodeError(`${started}\n${running.replace('"seq":2', '"seq":"two"')}\n`);
    expect(error.message).toMatch(/^line 2: not a run event: field "seq": .*expected number/);
    expect(error.index).toBe(1);
  });

  it('names a missing field', () => {
    const message = decodeError(running.replace('"nodeId":"a",', '')).message;
    expect(message).toMatch(/^line 1: not a run event: field "nodeId": /);
  });

  it('names a nested field by its dotted path', () => {
    const response = { v: 1, runId: 'r', seq: 2, ts: 1, type: 'llm.response', callId: 'c', nodeId: 'a', provider: 'local', model: 'echo', content: '', tokens: { input: -1, output: 0 } };
    expect(decodeError(`${started}\n${JSON.stringify(response)}`).message).toMatch(/^line 2: not a run event: field "tokens.input": /);
  });

  it('names an unknown event type', () => {
    const message = decodeError(running.replace('"node.status"', '"node.teleported"')).message;
    expect(message).toMatch(/^line 1: not a run event: field "type": /);
  });

  it('refuses a line that is JSON but not an object', () => {
    expect(decodeError(`${started}\n42\n`).message).toMatch(/^line 2: not a run event: /);
  });
});
