import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { reduceRun, type RunEvent } from '@loom/shared';
import type { EventSink } from '../context/context.js';
import { createVirtualClock, derivedIds, FanoutSink, MemorySink, systemClock } from '../context/defaults.js';
import { compile, eventsOf, flowDoc, nodeStatuses, nodeStatusEvents, run, statusesOf, testContext } from '../test-harness.js';
import { createBuiltinSkillRegistry } from '../skills/registry.js';
import { defineSkill } from '../skills/skill.js';
import { runFlow, RunInputError } from './loop.js';

const input = { id: 'in', kind: 'input' };
const output = { id: 'out', kind: 'output' };
const delay = (id: string, ms: number, extra: Record<string, unknown> = {}) => ({ id, kind: 'skill', config: { skill: 'delay', params: { ms } }, ...extra });
const fail = (id: string, retryable: boolean, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'skill',
  config: { skill: 'error.throw', params: { message: 'broken: {{ why }}', code: 'broken', retryable } },
  ...extra,
});

/** A compact view of the log: `type` or `node:status#attempt`. */
function timeline(events: readonly RunEvent[]): string[] {
  return events.map((e) => {
    if (e.type === 'node.status') return `${e.nodeId}:${e.status}#${e.attempt}`;
    if (e.type === 'run.finished') return `run.finished:${e.status}`;
    return e.type;
  });
}

/** Highest number of nodes between `running` and a final status at any point of the log. */
function peakRunning(events: readonly RunEvent[]): number {
  const running = new Set<string>();
  let peak = 0;
  for (const e of nodeStatusEvents(events)) {
    if (e.status === 'running') running.add(e.nodeId);
    else if (!(e.status === 'failed' && e.retryInMs !== undefined)) running.delete(e.nodeId);
    peak = Math.max(peak, running.size);
  }
  return peak;
}

function fanOut(count: number, ms: number, settings?: Record<string, unknown>) {
  const branches = Array.from({ length: count }, (_, i) => delay(`d${i}`, ms));
  return flowDoc(
    [input, ...branches, { id: 'join', kind: 'merge', config: { mode: 'array' } }, output],
    [...branches.flatMap((b) => [{ from: 'in', to: b.id }, { from: b.id, to: 'join' }]), { from: 'join', to: 'out' }],
    settings,
  );
}

const chain = flowDoc(
  [
    { id: 'in', kind: 'input', config: { fields: { text: { type: 'string', required: true } } } },
    { id: 'shout', kind: 'skill', config: { skill: 'template', params: { template: '{{ $uppercase(text) }}!' } } },
    output,
  ],
  [
    { from: 'in', to: 'shout' },
    { from: 'shout', to: 'out' },
  ],
);

describe('runFlow: a chain', () => {
  it('runs the nodes in order and logs each step', async () => {
    const { result, events, state } = await run(chain, { input: { text: 'hi' } });
    expect(result).toMatchObject({ status: 'succeeded', output: 'HI!' });
    expect(timeline(events)).toEqual([
      'run.started',
      'in:running#1',
      'in:succeeded#1',
      'shout:running#1',
      'shout:succeeded#1',
      'out:running#1',
      'out:succeeded#1',
      'metrics',
      'run.finished:succeeded',
    ]);
    expect(eventsOf(events, 'run.started')[0]).toMatchObject({ flowId: 'test-flow', nodeIds: ['in', 'shout', 'out'], input: { text: 'hi' } });
    expect(eventsOf(events, 'run.finished')[0]).toMatchObject({ output: 'HI!' });
    expect(state.metrics['run']).toEqual({ nodesSucceeded: 3, nodesFailed: 0, nodesSkipped: 0, nodesTotal: 3 });
    expect(state.status).toBe('succeeded');
    expect(state.output).toBe('HI!');
  });

  it('numbers events 1..n without gaps, all of one run', async () => {
    const { result, events } = await run(chain, { input: { text: 'hi' } });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.runId))).toEqual(new Set([result.runId]));
    expect(events.every((e) => e.v === 1)).toBe(true);
  });
});

describe('runFlow: concurrency', () => {
  it('never runs more nodes at once than settings.concurrency', async () => {
    const { result, events } = await run(fanOut(10, 100, { concurrency: 3 }));
    expect(result.status).toBe('succeeded');
    expect(result.output).toHaveLength(10);
    const delays = nodeStatusEvents(events).filter((e) => e.nodeId.startsWith('d'));
    expect(peakRunning(delays)).toBe(3);
    expect(peakRunning(events)).toBeLessThanOrEqual(3);
    // Ten 100 ms waits, three at a time: four waves of virtual time.
    expect(events.at(-1)!.ts - events[0]!.ts).toBe(400);
  });

  it('runs a wide fan-out without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const { result } = await run(fanOut(30, 10));
      expect(result.status).toBe('succeeded');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });

  it('runs branches truly in parallel', async () => {
    const started = performance.now();
    const { result, events } = await run(fanOut(5, 100), { clock: systemClock });
    const elapsed = performance.now() - started;
    expect(result.status).toBe('succeeded');
    expect(peakRunning(events)).toBe(5);
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(250);
  });
});

describe('runFlow: retries', () => {
  const flaky = flowDoc(
    [input, fail('boom', true, { retry: { maxAttempts: 3, backoffMs: 100, factor: 2 } }), output],
    [
      { from: 'in', to: 'boom' },
      { from: 'boom', to: 'out' },
    ],
  );

  it('retries a retryable error with growing waits, then fails the run naming the node', async () => {
    const { result, events, state } = await run(flaky, { input: { why: 'disk' } });
    const boom = nodeStatusEvents(events).filter((e) => e.nodeId === 'boom');
    expect(boom.map((e) => [e.status, e.attempt, e.retryInMs])).toEqual([
      ['running', 1, undefined],
      ['failed', 1, 100],
      ['running', 2, undefined],
      ['failed', 2, 200],
      ['running', 3, undefined],
      ['failed', 3, undefined],
    ]);
    expect(boom[1]!.error).toMatchObject({ message: 'broken: disk', code: 'broken', retryable: true, nodeId: 'boom' });
    // The waits happen on the clock.
    expect(boom[2]!.ts - boom[1]!.ts).toBe(100);
    expect(boom[4]!.ts - boom[3]!.ts).toBe(200);
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'broken', nodeId: 'boom' });
    expect(result.error!.message).toContain('node "boom" failed: broken: disk');
    expect(timeline(events).slice(-2)).toEqual(['metrics', 'run.finished:failed']);
    expect(nodeStatuses(state)).toEqual({ in: 'succeeded', boom: 'failed', out: 'pending' });
    expect(state.metrics['run']).toMatchObject({ nodesSucceeded: 1, nodesFailed: 1 });
  });

  it('does not retry an error marked not retryable', async () => {
    const doc = flowDoc(
      [input, fail('boom', false, { retry: { maxAttempts: 5, backoffMs: 10 } }), output],
      [
        { from: 'in', to: 'boom' },
        { from: 'boom', to: 'out' },
      ],
    );
    const { result, events } = await run(doc);
    expect(statusesOf(events, 'boom')).toEqual(['running#1', 'failed#1']);
    expect(nodeStatusEvents(events).find((e) => e.nodeId === 'boom' && e.status === 'failed')!.retryInMs).toBeUndefined();
    expect(result.status).toBe('failed');
  });
});

describe('runFlow: onError continue', () => {
  it('sends {error} out of the error port and skips the normal branch', async () => {
    const doc = flowDoc(
      [
        input,
        fail('risky', false, { onError: 'continue' }),
        { id: 'normal', kind: 'skill', config: { skill: 'noop' } },
        { id: 'handler', kind: 'skill', config: { skill: 'json.transform', params: { expression: '{ "handled": error.message, "code": error.code }' } } },
        { id: 'okOut', kind: 'output', config: { key: 'ok' } },
        { id: 'errOut', kind: 'output', config: { key: 'problem' } },
      ],
      [
        { from: 'in', to: 'risky' },
        { from: 'risky', to: 'normal' },
        { from: 'risky', fromPort: 'error', to: 'handler' },
        { from: 'normal', to: 'okOut' },
        { from: 'handler', to: 'errOut' },
      ],
    );
    const { result, events, state } = await run(doc, { input: { why: 'bad row' } });
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual({ problem: { handled: 'broken: bad row', code: 'broken' } });
    expect(nodeStatuses(state)).toEqual({ in: 'succeeded', risky: 'failed', normal: 'skipped', handler: 'succeeded', okOut: 'skipped', errOut: 'succeeded' });
    expect(nodeStatusEvents(events).find((e) => e.nodeId === 'risky' && e.status === 'failed')!.ports).toEqual(['error']);
    expect(state.metrics['run']).toMatchObject({ nodesSucceeded: 3, nodesFailed: 1, nodesSkipped: 2 });
  });
});

describe('runFlow: timeouts', () => {
  it('fails an attempt that outlives timeoutMs with code "timeout", and retries it', async () => {
    const doc = flowDoc(
      [input, delay('slow', 1000, { timeoutMs: 50, retry: { maxAttempts: 2, backoffMs: 10 } }), output],
      [
        { from: 'in', to: 'slow' },
        { from: 'slow', to: 'out' },
      ],
    );
    const clock = createVirtualClock();
    const { result, events } = await run(doc, { clock });
    const slow = nodeStatusEvents(events).filter((e) => e.nodeId === 'slow');
    expect(slow.map((e) => `${e.status}#${e.attempt}`)).toEqual(['running#1', 'failed#1', 'running#2', 'failed#2']);
    expect(slow[1]!.error).toMatchObject({ code: 'timeout', retryable: true });
    expect(slow[1]!.error!.message).toContain('timed out after 50 ms');
    expect(slow[1]!.retryInMs).toBe(10);
    expect(slow[1]!.ts - slow[0]!.ts).toBe(50);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'timeout', nodeId: 'slow' } });
    expect(clock.pending()).toBe(0);
  });

  it('lets an attempt that finishes in time succeed and clears its timer', async () => {
    const doc = flowDoc(
      [input, delay('quick', 10, { timeoutMs: 50 }), output],
      [
        { from: 'in', to: 'quick' },
        { from: 'quick', to: 'out' },
      ],
    );
    const clock = createVirtualClock();
    const { result, events } = await run(doc, { input: { x: 1 }, clock });
    expect(result).toMatchObject({ status: 'succeeded', output: { x: 1 } });
    expect(events.at(-1)!.ts - events[0]!.ts).toBe(10);
    expect(clock.pending()).toBe(0);
  });

  it('fails the whole run with code "run_timeout" after settings.timeoutMs', async () => {
    const doc = flowDoc(
      [input, delay('slow', 10_000), output],
      [
        { from: 'in', to: 'slow' },
        { from: 'slow', to: 'out' },
      ],
      { timeoutMs: 500 },
    );
    const { result, events, state } = await run(doc);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'run_timeout' } });
    expect(result.error!.message).toContain('500 ms');
    expect(statusesOf(events, 'slow')).toEqual(['running#1', 'cancelled#1']);
    expect(events.at(-1)!.ts - events[0]!.ts).toBe(500);
    expect(state.status).toBe('failed');
  });
});

describe('runFlow: cancellation', () => {
  const twoSlow = flowDoc(
    [input, delay('a', 10_000), delay('b', 10_000), { id: 'join', kind: 'merge' }, output],
    [
      { from: 'in', to: 'a' },
      { from: 'in', to: 'b' },
      { from: 'a', to: 'join' },
      { from: 'b', to: 'join' },
      { from: 'join', to: 'out' },
    ],
  );

  it('cancels running nodes and resolves promptly when the signal aborts', async () => {
    const controller = new AbortController();
    const sink = new MemorySink();
    // Abort from outside the run once both 10 s waits have started.
    const abortWhenBothRun: EventSink = {
      append: (event) => {
        if (event.type === 'node.status' && event.nodeId === 'b' && event.status === 'running') setTimeout(() => controller.abort(), 20);
      },
    };
    const context = testContext(sink, { clock: systemClock, signal: controller.signal });
    const started = performance.now();
    const result = await runFlow(compile(twoSlow), { ...context, log: new FanoutSink([sink, abortWhenBothRun]) });
    expect(performance.now() - started).toBeLessThan(1000);
    const { events } = sink;
    const state = reduceRun(events);
    expect(result).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    expect(statusesOf(events, 'a')).toEqual(['running#1', 'cancelled#1']);
    expect(statusesOf(events, 'b')).toEqual(['running#1', 'cancelled#1']);
    expect(timeline(events).at(-1)).toBe('run.finished:cancelled');
    expect(nodeStatuses(state)).toEqual({ in: 'succeeded', a: 'cancelled', b: 'cancelled', join: 'pending', out: 'pending' });
  });

  it('lets go of a signal shared by many runs once each run ends', async () => {
    const controller = new AbortController();
    const compiled = compile(chain);
    for (let i = 0; i < 20; i++) await run(compiled, { input: { text: `run ${i}` }, signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('cancels at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { result, events } = await run(twoSlow, { signal: controller.signal });
    expect(result.status).toBe('cancelled');
    expect(timeline(events)).toEqual(['run.started', 'metrics', 'run.finished:cancelled']);
  });
});

describe('runFlow: the run signal', () => {
  /** Waits without a signal, then records whether its signal (first read only now) is aborted. */
  const seen: boolean[] = [];
  const lateReader = defineSkill({
    id: 'test.late-signal',
    title: 'Late signal reader',
    description: 'Reads its signal only after waiting.',
    category: 'control',
    effect: 'io',
    params: z.object({ ms: z.number().int().min(0) }).strict(),
    prepare: ({ ms }) => ({
      run: async (value, execution) => {
        await execution.context.clock.sleep(ms);
        seen.push(execution.signal.aborted);
        return value;
      },
    }),
  });
  const skills = createBuiltinSkillRegistry().register(lateReader);
  const flow = (failing: boolean) =>
    flowDoc(
      [
        input,
        failing ? fail('boom', false) : delay('boom', 10),
        { id: 'late', kind: 'skill', config: { skill: 'test.late-signal', params: { ms: 50 } } },
        { id: 'join', kind: 'merge' },
        output,
      ],
      [
        { from: 'in', to: 'boom' },
        { from: 'in', to: 'late' },
        { from: 'boom', to: 'join' },
        { from: 'late', to: 'join' },
        { from: 'join', to: 'out' },
      ],
    );

  it('is aborted for a node that first reads it after the run failed', async () => {
    seen.length = 0;
    const { result } = await run(compile(flow(true), { skills }), { input: { why: 'test' } });
    expect(result.status).toBe('failed');
    await vi.waitFor(() => expect(seen).toEqual([true]));
  });

  it('is not aborted while the run goes on', async () => {
    seen.length = 0;
    const { result } = await run(compile(flow(false), { skills }));
    expect(result.status).toBe('succeeded');
    expect(seen).toEqual([false]);
  });
});

describe('runFlow: run input', () => {
  const typed = flowDoc(
    [
      {
        id: 'in',
        kind: 'input',
        config: { fields: { name: { type: 'string', required: true }, greeting: { type: 'string', default: 'Hello' }, times: { type: 'integer' } } },
      },
      { id: 'greet', kind: 'skill', config: { skill: 'template', params: { template: '{{ greeting }}, {{ name }}' } } },
      output,
    ],
    [
      { from: 'in', to: 'greet' },
      { from: 'greet', to: 'out' },
    ],
  );

  async function inputError(value: unknown): Promise<{ error: RunInputError; sink: MemorySink }> {
    const sink = new MemorySink();
    const error = await runFlow(compile(typed), testContext(sink), { input: value }).then(
      () => {
        throw new Error('expected the run to be refused');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunInputError);
    return { error: error as RunInputError, sink };
  }

  it('refuses a missing required input before logging anything', async () => {
    const { error, sink } = await inputError({ greeting: 'Hi' });
    expect(error.message).toBe('input node "in": missing required input "name"');
    expect(error.issues).toEqual([{ path: ['name'], nodeId: 'in', message: 'missing required input "name"' }]);
    expect(sink.events).toEqual([]);
  });

  it('refuses an input of the wrong type', async () => {
    const { error, sink } = await inputError({ name: 42, times: 1.5 });
    expect(error.message).toContain('input "name" must be a string, got a number (42)');
    expect(error.message).toContain('input "times" must be an integer');
    expect(sink.events).toEqual([]);
  });

  it('fills in declared defaults', async () => {
    expect((await run(typed, { input: { name: 'Ada' } })).result.output).toBe('Hello, Ada');
    expect((await run(typed, { input: { name: 'Ada', greeting: 'Hi' } })).result.output).toBe('Hi, Ada');
  });
});

describe('runFlow: run output', () => {
  it('keys several outputs by config.key or node id, leaving out skipped ones', async () => {
    const doc = flowDoc(
      [
        input,
        { id: 'route', kind: 'router', config: { routes: [{ port: 'big', when: 'n > 10' }], defaultPort: 'small' } },
        { id: 'bigOut', kind: 'output', config: { key: 'large' } },
        { id: 'smallOut', kind: 'output' },
        { id: 'always', kind: 'output' },
      ],
      [
        { from: 'in', to: 'route' },
        { from: 'route', fromPort: 'big', to: 'bigOut' },
        { from: 'route', fromPort: 'small', to: 'smallOut' },
        { from: 'in', to: 'always' },
      ],
    );
    // Strict: a skipped output must be absent, not present as undefined.
    expect((await run(doc, { input: { n: 50 } })).result.output).toStrictEqual({ large: { n: 50 }, always: { n: 50 } });
    expect((await run(doc, { input: { n: 5 } })).result.output).toStrictEqual({ smallOut: { n: 5 }, always: { n: 5 } });
  });
});

describe('runFlow: determinism', () => {
  const mixed = flowDoc(
    [
      input,
      { id: 'route', kind: 'router', config: { routes: [{ port: 'long', when: '$length(text) > 3' }], defaultPort: 'short' } },
      { id: 'wait', kind: 'skill', config: { skill: 'delay', params: { ms: 25 } } },
      { id: 'shout', kind: 'skill', config: { skill: 'template', params: { template: '{{ $uppercase(text) }} at {{ $now() }}' } } },
      { id: 'agent', kind: 'agent', config: { prompt: 'Please {{ text }}' } },
      { id: 'join', kind: 'merge' },
      output,
    ],
    [
      { from: 'in', to: 'route' },
      { from: 'route', fromPort: 'long', to: 'wait' },
      { from: 'route', fromPort: 'short', to: 'join', toPort: 'short' },
      { from: 'wait', to: 'shout' },
      { from: 'in', to: 'agent' },
      { from: 'shout', to: 'join' },
      { from: 'agent', to: 'join' },
      { from: 'join', to: 'out' },
    ],
  );

  it('gives identical logs for the same flow and input on a virtual clock', async () => {
    const compiled = compile(mixed);
    const first = await run(compiled, { input: { text: 'hello world' } });
    const second = await run(compiled, { input: { text: 'hello world' } });
    expect(first.result.status).toBe('succeeded');
    expect(first.events.length).toBeGreaterThan(10);
    expect(second.events).toEqual(first.events);
  });

  it('gives identical logs apart from ts on the system clock', async () => {
    const withoutTs = (events: RunEvent[]) => events.map(({ ts: _ts, ...rest }) => rest);
    const pure = flowDoc(
      [
        input,
        { id: 'a', kind: 'skill', config: { skill: 'template', params: { template: 'a:{{ text }}' } } },
        { id: 'b', kind: 'skill', config: { skill: 'json.transform', params: { expression: '$uppercase(text)' } } },
        { id: 'c', kind: 'agent', config: { prompt: '{{ text }}' } },
        { id: 'join', kind: 'merge', config: { mode: 'array' } },
        output,
      ],
      [
        { from: 'in', to: 'a' },
        { from: 'in', to: 'b' },
        { from: 'in', to: 'c' },
        { from: 'a', to: 'join' },
        { from: 'b', to: 'join' },
        { from: 'c', to: 'join' },
        { from: 'join', to: 'out' },
      ],
    );
    const compiled = compile(pure);
    const first = await run(compiled, { input: { text: 'x' }, clock: systemClock });
    const second = await run(compiled, { input: { text: 'x' }, clock: systemClock });
    expect(first.result.status).toBe('succeeded');
    expect(withoutTs(second.events)).toEqual(withoutTs(first.events));
  });

  it('derives equal run ids for equal flow and input, different ones for different input', async () => {
    const compiled = compile(chain);
    const a = await run(compiled, { input: { text: 'one' } });
    const b = await run(compiled, { input: { text: 'one' } });
    const c = await run(compiled, { input: { text: 'two' } });
    expect(a.result.runId).toBe(b.result.runId);
    expect(a.result.runId).not.toBe(c.result.runId);
    expect(a.result.runId).toBe(derivedIds.runId(compiled.hash, { text: 'one' }));
  });
});

describe('runFlow: a failing event sink', () => {
  const failingSink = (failFrom: number) => {
    let count = 0;
    return {
      append: () => {
        if (++count >= failFrom) throw new Error('event store is full');
      },
    };
  };

  it.each([
    ['on the first event', 1],
    ['mid-run', 4],
    ['on run.finished', 9],
  ])('makes runFlow reject %s', { timeout: 3000 }, async (_label, failFrom) => {
    const context = { ...testContext(new MemorySink()), log: failingSink(failFrom) };
    await expect(runFlow(compile(chain), context, { input: { text: 'hi' } })).rejects.toThrow('event store is full');
  });

  it('rejects when the sink fails while a node waits, without waiting for the node', { timeout: 3000 }, async () => {
    const doc = flowDoc(
      [input, delay('a', 5_000), delay('b', 5_000), { id: 'join', kind: 'merge' }, output],
      [
        { from: 'in', to: 'a' },
        { from: 'in', to: 'b' },
        { from: 'a', to: 'join' },
        { from: 'b', to: 'join' },
        { from: 'join', to: 'out' },
      ],
    );
    const started = performance.now();
    // run.started, in running, in succeeded, a running, b running (throws).
    const context = { ...testContext(new MemorySink(), { clock: systemClock }), log: failingSink(5) };
    await expect(runFlow(compile(doc), context)).rejects.toThrow('event store is full');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('does not retry a node whose own event (llm.request) could not be logged', async () => {
    const doc = flowDoc(
      [input, { id: 'agent', kind: 'agent', retry: { maxAttempts: 3, backoffMs: 10 }, config: { model: 'spy/echo' } }, output],
      [
        { from: 'in', to: 'agent' },
        { from: 'agent', to: 'out' },
      ],
    );
    let calls = 0;
    const spy = { name: 'spy', complete: async () => ((calls += 1), { content: 'hi', toolCalls: [], tokens: { input: 1, output: 1 } }) };
    const appended: string[] = [];
    const log = {
      append: (event: RunEvent) => {
        if (event.type === 'llm.request') throw new Error('event store is full');
        appended.push(event.type === 'node.status' ? `${event.nodeId} ${event.status} ${event.attempt}` : event.type);
      },
    };
    const context = { ...testContext(new MemorySink()), llm: new Map([['spy', spy]]), log };
    await expect(runFlow(compile(doc), context, { input: 'x' })).rejects.toThrow('event store is full');
    expect(calls).toBe(0);
    expect(appended.filter((line) => line.startsWith('agent'))).toEqual(['agent running 1']);
  });
});
