import { describe, expect, it } from 'vitest';
import { runFlow } from '@loom/engine';
import { BENCH_INPUT, compile, expectedEvents } from '../flows.js';
import { benchContext, CountingSink } from '../sinks.js';
import { delayChain, transformChain, trivialFlow } from './flows.js';
import { bucketQuantile, histogramDelta, parseHistogram, parseValue, summarise } from './prom.js';
import { evaluateServerTargets } from './report.js';

// Keeps the server benchmark honest: the flows it saves are valid and compute what the
// checks expect, and the /metrics figures it reports are read correctly.

describe('server bench flows', () => {
  it('the trivial flow passes its input straight to its output', async () => {
    const { compiled } = compile(trivialFlow());
    const sink = new CountingSink();
    const result = await runFlow(compiled, benchContext(sink), { input: BENCH_INPUT, runId: 'trivial' });
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual(BENCH_INPUT);
    expect(sink.count).toBe(expectedEvents(2));
  });

  it('transformChain(4) has 10 nodes alternating template and json.transform, and counts n up to 4', async () => {
    const doc = transformChain(4);
    const { compiled } = compile(doc);
    expect(compiled.flow.nodes).toHaveLength(10);
    const skills = compiled.flow.nodes.flatMap((node) => (node.kind === 'skill' ? [node.config.skill] : []));
    expect(skills).toEqual(['template', 'json.transform', 'template', 'json.transform', 'template', 'json.transform', 'template', 'json.transform']);
    const result = await runFlow(compiled, benchContext(new CountingSink()), { input: { n: 0 }, runId: 'transform' });
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual({ n: 4 });
  });

  it('delayChain has n delay nodes of the given length and an id the flow schema accepts', () => {
    const { compiled } = compile(delayChain(20, 5));
    const delays = compiled.flow.nodes.filter((node) => node.kind === 'skill' && node.config.skill === 'delay');
    expect(delays).toHaveLength(20);
    expect(delays.every((node) => node.kind === 'skill' && (node.config.params as { ms: number }).ms === 5)).toBe(true);
  });

  it('rejects a pair count that is not a positive integer', () => {
    expect(() => transformChain(0)).toThrow(/positive integer, got 0/);
  });
});

const METRICS = `# HELP loom_event_append_seconds Time to commit one batch of run events
# TYPE loom_event_append_seconds histogram
loom_event_append_seconds_bucket{le="0.0001"} 0
loom_event_append_seconds_bucket{le="0.0005"} 40
loom_event_append_seconds_bucket{le="0.001"} 90
loom_event_append_seconds_bucket{le="0.005"} 99
loom_event_append_seconds_bucket{le="+Inf"} 100
loom_event_append_seconds_sum 0.08
loom_event_append_seconds_count 100
loom_event_batch_size_bucket{le="1"} 3
loom_event_batch_size_sum 3
loom_event_batch_size_count 3
`;

describe('/metrics histograms', () => {
  it('parses buckets, sum and count of one histogram, ignoring others', () => {
    const h = parseHistogram(METRICS, 'loom_event_append_seconds')!;
    expect(h.count).toBe(100);
    expect(h.sum).toBeCloseTo(0.08);
    expect(h.buckets.map((b) => b.le)).toEqual([0.0001, 0.0005, 0.001, 0.005, Infinity]);
    expect(parseHistogram(METRICS, 'loom_missing')).toBeUndefined();
  });

  it('gives the bucket bound holding a quantile, and summarises in ms', () => {
    const h = parseHistogram(METRICS, 'loom_event_append_seconds')!;
    expect(bucketQuantile(h, 0.5)).toBe(0.001);
    expect(bucketQuantile(h, 0.99)).toBe(0.005);
    expect(bucketQuantile(h, 1)).toBe(Infinity);
    expect(summarise(h, 'ms', 1000)).toEqual({ count: 100, mean: 0.8, p50AtMost: 1, p99AtMost: 5, unit: 'ms' });
  });

  it('reads an unlabelled counter, not a labelled series of the same name', () => {
    const text = 'loom_live_messages_total{x="1"} 7\nloom_live_messages_total 42\n';
    expect(parseValue(text, 'loom_live_messages_total')).toBe(42);
    expect(parseValue(text, 'loom_missing')).toBeUndefined();
  });

  it('subtracts an earlier reading', () => {
    const after = parseHistogram(METRICS, 'loom_event_append_seconds')!;
    const before = parseHistogram(METRICS.replace('{le="0.0005"} 40', '{le="0.0005"} 30').replace(/_count 100/, '_count 60').replace(/_sum 0.08/, '_sum 0.05').replace('{le="+Inf"} 100', '{le="+Inf"} 60'), 'loom_event_append_seconds')!;
    const delta = histogramDelta(after, before);
    expect(delta.count).toBe(40);
    expect(delta.sum).toBeCloseTo(0.03);
    expect(delta.buckets.find((b) => b.le === 0.0005)!.count).toBe(10);
  });
});

describe('server targets', () => {
  it('passes and misses on the thresholds, and leaves unmeasured figures open', () => {
    const targets = evaluateServerTargets({ startup: { coldP50Ms: 1_500, baselineP50Ms: 300 }, trivialRun: { p50Ms: 3.5, baselineP50Ms: 1 }, liveLatency: { p99Ms: 50 } });
    const byId = Object.fromEntries(targets.map((t) => [t.id, t.pass]));
    expect(byId).toEqual({ 'S1.coldStart': true, 'S2.idleRss': null, 'S3.trivialRun': false, 'S4.concurrentRuns': null, 'S5.liveP99': false });
  });
});
