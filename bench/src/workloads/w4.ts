import { createSubscriber, StreamingSink } from '../sinks.js';
import { measureChain, type ChainParams } from './chain.js';

/**
 * W4: W1 with every event streamed live: the sink publishes each event on an
 * EventEmitter and a subscriber JSON-serialises it, as a socket writer would.
 */
export async function runW4(params: ChainParams) {
  const subscriber = createSubscriber();
  const { sizes, totalEvents } = await measureChain('W4', params, () => {
    const sink = new StreamingSink(subscriber.hub);
    return { sink, finish: () => sink.count };
  });
  subscriber.close();
  if (subscriber.messages !== totalEvents) throw new Error(`W4: subscriber serialised ${subscriber.messages} events, sinks got ${totalEvents}`);
  return {
    description: 'W1 chain with each event emitted to an EventEmitter subscriber that JSON-serialises it; eventsPerSec = events / engine wall time',
    sizes,
    serialisedMessages: subscriber.messages,
    serialisedBytes: subscriber.bytes,
    meanMessageBytes: Math.round(subscriber.bytes / Math.max(1, subscriber.messages)),
  };
}
