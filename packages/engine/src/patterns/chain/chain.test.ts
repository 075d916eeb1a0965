import { describe, expect, it } from 'vitest';
import { compile, eventsOf, flowDoc, run } from '../../test-harness.js';
import { validateFlow } from '../../graph/compile.js';

const input = { id: 'in', kind: 'input' };
const output = { id: 'out', kind: 'output' };
const chainFlow = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  flowDoc(
    [input, { id: 'chain', kind: 'chain', config, ...extra }, output],
    [
      { from: 'in', to: 'chain' },
      { from: 'chain', to: 'out' },
    ],
  );
const transform = (id: string, expression: string, extra: Record<string, unknown> = {}) => ({ id, skill: 'json.transform', params: { expression }, ...extra });
const failing = (id: string, extra: Record<string, unknown> = {}) => ({ id, skill: 'error.throw', params: { message: 'down: {{ $ }}', code: 'down', retryable: true }, ...extra });

describe('chain of skills', () => {
  it('runs steps in order, each on the previous output, as tasks of the chain node', async () => {
    const { result, events } = await run(chainFlow({ steps: [transform('double', '$ * 2'), transform('plus_one', '$ + 1'), transform('square', '$ * $')] }), { input: 3 });
    expect(result).toMatchObject({ status: 'succeeded', output: 49 });
    const assigned = eventsOf(events, 'task.assigned');
    expect(assigned.map((e) => e.assignee)).toEqual(['double', 'plus_one', 'square']);
    expect(assigned.map((e) => e.input)).toEqual([3, 6, 7]);
    expect(assigned.every((e) => e.nodeId === 'chain' && e.parentTaskId === 'chain/1')).toBe(true);
    expect(eventsOf(events, 'task.succeeded').map((e) => e.output)).toEqual([6, 7, 49]);
  });

  it('maps inputs and output with expressions over { input, previous, steps }', async () => {
    const { result } = await run(
      chainFlow({
        steps: [transform('name', '$uppercase(name)'), transform('greeting', "'Hello ' & $", { input: 'steps.name' }), transform('shout', '$', { input: "previous & '!'" })],
        output: "{ 'original': input.name, 'final': steps.shout, 'greeting': steps.greeting }",
      }),
      { input: { name: 'ada' } },
    );
    expect(result.output).toEqual({ original: 'ada', final: 'Hello ADA!', greeting: 'Hello ADA' });
  });

  it('validates a step input against the skill schema and fails the chain by default', async () => {
    const { result, events } = await run(chainFlow({ steps: [{ id: 'join', skill: 'text.join', params: {} }] }), { input: 'not a list' });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('node "chain" failed: step 1 of 1 ("join") failed: step "join": input does not fit skill "text.join": expected a list');
    expect(result.error?.code).toBe('invalid_input');
    expect(eventsOf(events, 'task.failed')).toHaveLength(1);
  });

  it('retries a step with backoff, then skips it with its default output', async () => {
    const { result, events } = await run(
      chainFlow({
        steps: [
          failing('flaky', { onError: 'retry', retry: { maxAttempts: 3, backoffMs: 100, factor: 2 }, afterRetries: 'skip', default: 'fallback' }),
          transform('after', "'got ' & $"),
        ],
      }),
      { input: 'x' },
    );
    expect(result).toMatchObject({ status: 'succeeded', output: 'got fallback' });
    const failures = eventsOf(events, 'task.failed').filter((e) => e.taskId.endsWith('flaky'));
    expect(failures.map((e) => [e.attempt, e.retryInMs])).toEqual([
      [1, 100],
      [2, 200],
      [3, undefined],
    ]);
    // The virtual clock shows the waits: 100 ms, then 200 ms.
    const ts = failures.map((e) => e.ts - failures[0]!.ts);
    expect(ts).toEqual([0, 100, 300]);
    const metrics = eventsOf(events, 'metrics').find((e) => e.nodeId === 'chain')!.values;
    expect(metrics).toMatchObject({ stepsTotal: 2, stepsSucceeded: 1, stepsSkipped: 1, retries: 2, taskCompletionRate: 1, successRate: 0.5, errorRecoveryMs: 300 });
  });

  it('skips a failing step at once with onError skip, and fails the chain with fail_chain', async () => {
    const skipped = await run(chainFlow({ steps: [failing('a', { onError: 'skip', default: { d: 1 } }), transform('b', 'd + 1')] }), { input: 'x' });
    expect(skipped.result.output).toBe(2);
    expect(eventsOf(skipped.events, 'task.failed')).toHaveLength(1);
    // The timeline says the policy skipped it, right after the failure, with the default it went on with.
    const [skip] = eventsOf(skipped.events, 'task.skipped');
    expect(skip).toMatchObject({ nodeId: 'chain', reason: 'step 1 of 2 ("a") failed; its policy skips it and the chain goes on with its default', output: { d: 1 } });
    expect(skip!.seq).toBe(eventsOf(skipped.events, 'task.failed')[0]!.seq + 1);

    const failed = await run(chainFlow({ steps: [transform('a', '$'), failing('b'), transform('c', '$')] }), { input: 'x' });
    expect(failed.result.status).toBe('failed');
    expect(eventsOf(failed.events, 'task.skipped')).toHaveLength(0);
    expect(failed.result.error?.message).toBe('node "chain" failed: step 2 of 3 ("b") failed: down: x');
    expect(eventsOf(failed.events, 'task.assigned').map((e) => e.assignee)).toEqual(['a', 'b']);
    expect(eventsOf(failed.events, 'metrics').find((e) => e.nodeId === 'chain')!.values).toMatchObject({ stepsFailed: 1, stepsNotRun: 1, taskCompletionRate: 1 / 3 });
  });

  it('retries exhausted with afterRetries fail_chain fail the chain, naming the attempts', async () => {
    const { result } = await run(chainFlow({ steps: [failing('flaky', { onError: 'retry', retry: { maxAttempts: 2, backoffMs: 10 } })] }), { input: 'x' });
    expect(result.error?.message).toBe('node "chain" failed: step 1 of 1 ("flaky") failed after 2 attempts: down: x');
  });

  it('reports bad configuration at the step fields', () => {
    const result = validateFlow(
      chainFlow({
        steps: [
          { id: 'a', skill: 'json.transfrom', params: {} },
          { id: 'b', skill: 'template', params: { template: 'x', extra: 1 } },
          transform('c', '$', { input: '((' }),
          transform('d', '$', { retry: { maxAttempts: 2 } }),
          transform('d', '$'),
        ],
        output: '$$$(',
      }),
    );
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues.map((i) => `${i.path.slice(2).join('.')}: ${i.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^config\.steps\.0\.skill: unknown skill "json\.transfrom" \(available: .*json\.transform/),
      'config.steps.1.params: unknown parameter "extra" for skill "template"',
      expect.stringMatching(/^config\.steps\.2\.input: invalid expression "\(\("/),
      'config.steps.3.retry: "retry" only applies with onError: "retry" (this step has "fail_chain")',
      'config.steps.4.id: duplicate step id "d"',
      expect.stringMatching(/^config\.output: invalid expression/),
    ]);
  });

  it('compiles once and gives identical logs for identical runs', async () => {
    const compiled = compile(chainFlow({ steps: [transform('a', '$ * 2'), failing('b', { onError: 'skip', default: 0 })] }));
    const first = await run(compiled, { input: 4 });
    const second = await run(compiled, { input: 4 });
    expect(second.events).toEqual(first.events);
  });
});
