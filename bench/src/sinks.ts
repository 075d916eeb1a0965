import { EventEmitter } from 'node:events';
import { derivedIds, noNetwork, systemClock, type EngineContext, type EventSink } from '@loom/engine';
import type { RunEvent } from '@loom/shared';

const NO_LLM = new Map();

/** The context every workload runs with: real clock and timers, no models, no network. */
export function benchContext(log: EventSink): EngineContext {
  return { clock: systemClock, ids: derivedIds, llm: NO_LLM, http: noNetwork, log };
}

/** Discards events, counting them (and remembering the last), so checks can see the run logged everything. */
export class CountingSink implements EventSink {
  count = 0;
  last: RunEvent | undefined;
  append(event: RunEvent): void {
    this.count++;
    this.last = event;
  }
}

/**
 * W4: what live streaming costs. The sink publishes each event on an EventEmitter,
 * as the server's run hub would; the subscriber JSON-serialises it, as a socket
 * writer would, and counts messages and bytes instead of writing them.
 */
export class StreamingSink implements EventSink {
  static readonly EVENT = 'event';
  count = 0;
  constructor(private readonly hub: EventEmitter) {}
  append(event: RunEvent): void {
    this.count++;
    this.hub.emit(StreamingSink.EVENT, event);
  }
}

export interface Subscriber {
  hub: EventEmitter;
  messages: number;
  bytes: number;
  close(): void;
}

/** An EventEmitter with one subscriber that serialises every event it receives. */
export function createSubscriber(): Subscriber {
  const hub = new EventEmitter();
  const subscriber: Subscriber = {
    hub,
    messages: 0,
    bytes: 0,
    close: () => hub.removeListener(StreamingSink.EVENT, listener),
  };
  const listener = (event: RunEvent) => {
    const message = JSON.stringify(event);
    subscriber.messages++;
    subscriber.bytes += message.length;
  };
  hub.on(StreamingSink.EVENT, listener);
  return subscriber;
}
