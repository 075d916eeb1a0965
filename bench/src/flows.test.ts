import { describe, expect, it } from 'vitest';
import { runFlow, validateFlow } from '@loom/engine';
import { BENCH_INPUT, chain, compile, expectedEvents, fanout, parallelSkills } from './flows.js';
import { median, percentile, rawChain } from './measure.js';
import { benchContext, CountingSink, createSubscriber, StreamingSink } from './sinks.js';
import { SqliteEventSink, tempEventDb } from './sqlite-sink.js';

// Keeps the benchmark honest: the flows it times are valid, the size it claims, and
// actually run to the expected output.

describe('flow builders', () => {
  it.each([1, 5, 100, 10_000])('chain(%i) is a valid flow of n + 2 nodes and n + 1 edges', (n) => {
    const doc = chain(n);
    const result = validateFlow(doc);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { flow } = result.compiled;
    expect(flow.nodes).toHaveLength(n + 2);
    expect(flow.edges).toHaveLength(n + 1);
    expect(flow.nodes[0]!.kind).toBe('input');
    expect(flow.nodes[n + 1]!.kind).toBe('output');
    const skills = flow.nodes.filter((node) => node.kind === 'skill');
    expect(skills).toHaveLength(n);
    expect(skills.every((node) => node.kind === 'skill' && node.config.skill === 'noop')).toBe(true);
  });

  it('chain with delay nodes carries the delay', () => {
    const { compiled } = compile(chain(5, { skill: 'delay', delayMs: 10 }));
    const delays = compiled.flow.nodes.filter((node) => node.kind === 'skill');
    expect(delays).toHaveLength(5);
    for (const node of delays) expect(node.kind === 'skill' && node.config).toEqual({ skill: 'delay', params: { ms: 10 } });
  });

  it.each([1, 200, 1_000])('fanout(%i) is valid: input, fan, n delays, merge (array), output; concurrency n', (n) => {
    const { compiled } = compile(fanout(n, 10));
    const { flow } = compiled;
    expect(flow.nodes).toHaveLength(n + 4);
    expect(flow.edges).toHaveLength(2 * n + 2);
    expect(flow.settings.concurrency).toBe(n);
    const merge = flow.nodes.find((node) => node.kind === 'merge');
    expect(merge?.kind === 'merge' && merge.config.mode).toBe('array');
    expect(compiled.nodes[compiled.indexOf.get('merge')!]!.inEdges).toHaveLength(n);
  });

  it('rejects sizes that are not positive integers', () => {
    expect(() => chain(0)).toThrow();
    expect(() => fanout(1.5)).toThrow();
  });
});

describe('the benchmarked runs succeed', () => {
  it('a tiny noop chain runs and succeeds with every event logged', async () => {
    const { compiled } = compile(chain(3));
    const sink = new CountingSink();
    const result = await runFlow(compiled, benchContext(sink), { input: BENCH_INPUT, runId: 'test-chain' });
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual(BENCH_INPUT);
    expect(sink.count).toBe(expectedEvents(5));
    expect(sink.last?.type).toBe('run.finished');
  });

  it('a small fan-out merges every branch', async () => {
    const { compiled } = compile(fanout(20, 1));
    const sink = new CountingSink();
    const result = await runFlow(compiled, benchContext(sink), { input: BENCH_INPUT, runId: 'test-fanout' });
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual(Array.from({ length: 20 }, () => BENCH_INPUT));
    expect(sink.count).toBe(expectedEvents(24));
  });

  it('a small parallel node runs every item at once, in about one delay', async () => {
    const { compiled } = compile(parallelSkills(10, 10, 50));
    const sink = new CountingSink();
    const result = await runFlow(compiled, benchContext(sink), { input: Array.from({ length: 10 }, (_, i) => i), runId: 'test-parallel' });
    expect(result.status).toBe('succeeded');
    const output = result.output as { results: { ok: boolean; output: unknown }[]; metrics: Record<string, number> };
    expect(output.results.map((r) => r.output)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    // Ten 50 ms items one after another would take 500 ms; at once, about 50 ms. The bound sits
    // far from both so a loaded machine cannot fail it, while a serial run still does.
    expect(output.metrics.wallMs).toBeLessThan(300);
    expect(output.metrics.peakRunning).toBe(10);
    // 3 nodes, a task.assigned and a task.succeeded per item, the node's metrics.
    expect(sink.count).toBe(expectedEvents(3) + 2 * 10 + 1);
  });

  it('the streaming sink hands every event to the subscriber', async () => {
    const subscriber = createSubscriber();
    const sink = new StreamingSink(subscriber.hub);
    const result = await runFlow(compile(chain(10)).compiled, benchContext(sink), { input: BENCH_INPUT, runId: 'test-stream' });
    expect(result.status).toBe('succeeded');
    expect(subscriber.messages).toBe(expectedEvents(12));
    expect(subscriber.bytes).toBeGreaterThan(0);
  });

  it('the SQLite sink commits every event, in order, by the time flush returns', async () => {
    const store = tempEventDb('bench-test');
    try {
      const sink = new SqliteEventSink(store.db, 7);
      const result = await runFlow(compile(chain(10)).compiled, benchContext(sink), { input: BENCH_INPUT, runId: 'test-sqlite' });
      sink.flush();
      expect(result.status).toBe('succeeded');
      const rows = store.db.prepare('SELECT seq, type, body FROM run_events WHERE run_id = ? ORDER BY seq').all('test-sqlite') as { seq: number; type: string; body: string }[];
      expect(rows).toHaveLength(expectedEvents(12));
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      expect(rows.at(-1)?.type).toBe('run.finished');
      expect(JSON.parse(rows.at(-1)!.body)).toMatchObject({ status: 'succeeded', output: BENCH_INPUT });
      expect(sink.batches).toBeGreaterThan(1);
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      store.dispose();
    }
  });
});

describe('measure', () => {
  it('computes medians and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([5], 99)).toBe(5);
  });

  it('the raw chain baseline passes its value along', async () => {
    expect(await rawChain(1_000, BENCH_INPUT)).toBe(BENCH_INPUT);
  });
});
