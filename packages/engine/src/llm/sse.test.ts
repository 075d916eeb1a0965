import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse.js';

function parseInPieces(text: string, size: number): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
  events.push(...parser.end());
  return events;
}

const stream = [
  ': a comment the server sends to keep the connection open',
  'event: message_start',
  'data: {"type":"message_start"}',
  '',
  'data: first line',
  'data:second line',
  'id: 7',
  'retry: 1000',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');

const expected: SseEvent[] = [
  { event: 'message_start', data: '{"type":"message_start"}' },
  { data: 'first line\nsecond line' },
  { data: '[DONE]' },
];

describe('SseParser', () => {
  it('reads events, multi-line data and comments, however the text is cut into chunks', () => {
    for (const size of [1, 2, 3, 7, 64, stream.length]) expect(parseInPieces(stream, size)).toEqual(expected);
  });

  it('accepts CRLF and lone CR line breaks, even with a CRLF split across chunks', () => {
    for (const size of [1, 2, 5, 1000]) {
      expect(parseInPieces(stream.replace(/\n/g, '\r\n'), size)).toEqual(expected);
      expect(parseInPieces(stream.replace(/\n/g, '\r'), size)).toEqual(expected);
    }
  });

  it('flushes an event the stream ended without a blank line for', () => {
    expect(parseInPieces('data: {"a":1}', 4)).toEqual([{ data: '{"a":1}' }]);
  });

  it('ignores an event with no data, and an event name does not leak into the next event', () => {
    expect(parseInPieces('event: ping\n\ndata: x\n\n', 3)).toEqual([{ data: 'x' }]);
  });
});
