import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@loom/shared';
import { decodeEvent, encodeEvent } from './event-codec.js';

const small: RunEvent = { v: 1, runId: 'r1', seq: 3, ts: 1_700_000_000_123, type: 'node.status', nodeId: 'a', status: 'running', attempt: 1 };
const large: RunEvent = { v: 1, runId: 'r1', seq: 4, ts: 1_700_000_000_200, type: 'node.status', nodeId: 'a', status: 'succeeded', attempt: 1, output: { text: 'lorem ipsum '.repeat(500) } };

describe('event codec', () => {
  it('round-trips small and large events exactly', () => {
    for (const event of [small, large]) expect(decodeEvent('r1', encodeEvent(event))).toEqual(event);
  });

  it('stores neither v nor runId, and deflates large bodies', () => {
    const encoded = encodeEvent(small);
    expect(encoded.body.toString()).toBe('{"nodeId":"a","status":"running","attempt":1}');
    const big = encodeEvent(large);
    expect(big.body[0]).toBe(0x01);
    expect(big.body.length).toBeLessThan(JSON.stringify(large).length / 10);
  });

  it('keeps text bodies when deflating would not make them smaller', () => {
    const random = Array.from({ length: 700 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 90))).join('');
    const event: RunEvent = { ...small, type: 'node.status', status: 'succeeded', output: random };
    const encoded = encodeEvent(event);
    expect(decodeEvent('r1', encoded)).toEqual(event);
  });
});
