import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { RunEvent } from '@loom/shared';

/** Bodies at least this long are deflated: outputs and LLM messages compress well; small events would grow. */
const DEFLATE_FROM_BYTES = 512;
/** First byte of a deflated body. JSON bodies start with `{`. */
const DEFLATED = 0x01;

export interface EncodedEvent {
  seq: number;
  ts: number;
  type: string;
  body: Buffer;
}

/**
 * The stored form of an event: `seq`, `ts` and `type` as columns, the rest as JSON, without
 * `v` and `runId` (the same for every event of a run), deflated when large.
 */
export function encodeEvent(event: RunEvent): EncodedEvent {
  const { v: _v, runId: _runId, seq, ts, type, ...rest } = event;
  const json = Buffer.from(JSON.stringify(rest));
  if (json.length < DEFLATE_FROM_BYTES) return { seq, ts, type, body: json };
  const deflated = deflateRawSync(json);
  if (deflated.length + 1 >= json.length) return { seq, ts, type, body: json };
  return { seq, ts, type, body: Buffer.concat([Buffer.of(DEFLATED), deflated]) };
}

export function decodeEvent(runId: string, row: EncodedEvent): RunEvent {
  const json = row.body[0] === DEFLATED ? inflateRawSync(row.body.subarray(1)) : row.body;
  const rest = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
  return { v: 1, runId, seq: row.seq, ts: row.ts, type: row.type, ...rest } as RunEvent;
}
