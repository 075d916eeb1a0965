import { CountingSink } from '../sinks.js';
import { linearity, measureChain, type ChainParams } from './chain.js';

/**
 * W1: engine overhead per node. input -> noop x N -> output, events counted and
 * discarded (in memory, nothing persisted), beside N sequential awaits of an async no-op.
 */
export async function runW1(params: ChainParams) {
  const { sizes } = await measureChain('W1', params, () => {
    const sink = new CountingSink();
    return { sink, finish: () => sink.count };
  });
  return {
    description: 'chain of N noop skill nodes (input -> noop x N -> output), counting sink; baseline: N sequential awaits of an async no-op',
    sizes,
    linearity: linearity(sizes),
  };
}
