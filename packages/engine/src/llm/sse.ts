/**
 * Server-sent events, as both OpenAI-compatible servers and Anthropic stream answers:
 * `event:` and `data:` lines, an event ending at a blank line, `:` lines as comments.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export interface SseEvent {
  /** The `event:` field; absent when the server sent none (OpenAI). */
  event?: string;
  /** The `data:` lines joined with "\n". */
  data: string;
}

/**
 * Splits text into events as it arrives. Feed it chunks of any size (a chunk may end
 * mid-line or mid-character: decode with a streaming TextDecoder first); `end` flushes
 * an event left without its final blank line.
 */
export class SseParser {
  private buffer = '';
  private event: string | undefined;
  private data: string[] = [];
  /** A chunk ended with "\r": a following "\n" belongs to the same line break. */
  private afterCr = false;

  push(text: string): SseEvent[] {
    let input = text;
    if (this.afterCr && input.startsWith('\n')) input = input.slice(1);
    this.afterCr = input.endsWith('\r');
    this.buffer += input;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const end = nextLineBreak(this.buffer, start);
      if (end < 0) break;
      this.line(this.buffer.slice(start, end), events);
      start = end + (this.buffer[end] === '\r' && this.buffer[end + 1] === '\n' ? 2 : 1);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.buffer !== '') this.line(this.buffer, events);
    this.buffer = '';
    this.line('', events);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push({ ...(this.event === undefined ? {} : { event: this.event }), data: this.data.join('\n') });
      this.data = [];
      this.event = undefined;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    // `id` and `retry` are for browsers reconnecting an EventSource; a model call never resumes.
  }
}

function nextLineBreak(text: string, from: number): number {
  const lf = text.indexOf('\n', from);
  const cr = text.indexOf('\r', from);
  if (cr < 0) return lf;
  if (lf < 0) return cr;
  return Math.min(cr, lf);
}
