import { describe, expect, it } from 'vitest';
import { reduceRun } from '@loom/shared';
import { systemClock } from '../../context/defaults.js';
import { validateFlow, MAX_NESTING_DEPTH } from '../../graph/compile.js';
import { eventsOf, flowDoc, run, statusesOf } from '../../test-harness.js';

const inner = (nodes: unknown[], edges: unknown[]) => ({ version: 1, id: 'inner', name: 'Inner', nodes, edges });
const greetFlow = inner(
  [
    { id: 'in', kind: 'input', config: { fields: { name: { type: 'string', required: true } } } },
    { id: 'greet', kind: 'skill', config: { skill: 'template', params: { template: 'Hi {{ name }}' } } },
    { id: 'out', kind: 'output' },
  ],
  [
    { from: 'in', to: 'greet' },
    { from: 'greet', to: 'out' },
  ],
);
const outer = (flow: unknown, extra: Record<string, unknown> = {}) =>
  flowDoc(
    [{ id: 'in', kind: 'input' }, { id: 'sub', kind: 'subflow', config: { flow }, ...extra }, { id: 'out', kind: 'output' }],
    [
      { from: 'in', to: 'sub' },
      { from: 'sub', to: 'out' },
    ],
  );

describe('subflow', () => {
  it('runs the inner flow in the same log, its nodes under the sub-flow task id', async () => {
    const { result, events, state } = await run(outer(greetFlow), { input: { name: 'Ada' } });
    expect(result).toMatchObject({ status: 'succeeded', output: 'Hi Ada' });
    expect(statusesOf(events, 'sub/1/greet')).toEqual(['running#1', 'succeeded#1']);
    expect(eventsOf(events, 'run.started')).toHaveLength(1);
    expect(eventsOf(events, 'run.finished')).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(state.nodes['sub/1/out']).toMatchObject({ status: 'succeeded', output: 'Hi Ada' });
    // Inner events come between the sub-flow node's running and succeeded.
    const order = eventsOf(events, 'node.status').map((e) => `${e.nodeId}:${e.status}`);
    expect(order.indexOf('sub:running')).toBeLessThan(order.indexOf('sub/1/in:running'));
    expect(order.indexOf('sub/1/out:succeeded')).toBeLessThan(order.indexOf('sub:succeeded'));
  });

  it('fails with the inner error, and is retried as one node with fresh inner ids per attempt', async () => {
    const failing = inner(
      [
        { id: 'in', kind: 'input' },
        { id: 'boom', kind: 'skill', config: { skill: 'error.throw', params: { message: 'inner broke', retryable: true } } },
        { id: 'out', kind: 'output' },
      ],
      [
        { from: 'in', to: 'boom' },
        { from: 'boom', to: 'out' },
      ],
    );
    const { result, events } = await run(outer(failing, { retry: { maxAttempts: 2, backoffMs: 10 } }), { input: {} });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('node "sub" failed: sub-flow "inner" failed: node "boom" failed: inner broke');
    expect(statusesOf(events, 'sub/1/boom')).toEqual(['running#1', 'failed#1']);
    expect(statusesOf(events, 'sub/2/boom')).toEqual(['running#1', 'failed#1']);
  });

  it('checks the inner input fields and reports them as the node error', async () => {
    const { result } = await run(outer(greetFlow), { input: { nom: 'Ada' } });
    expect(result.error?.message).toBe('node "sub" failed: sub-flow "inner": input node "in": missing required input "name"');
  });

  it('cancels the inner flow with the run', async () => {
    const slow = inner(
      [{ id: 'in', kind: 'input' }, { id: 'wait', kind: 'skill', config: { skill: 'delay', params: { ms: 5_000 } } }, { id: 'out', kind: 'output' }],
      [
        { from: 'in', to: 'wait' },
        { from: 'wait', to: 'out' },
      ],
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    const { result, events } = await run(outer(slow), { clock: systemClock, signal: controller.signal });
    expect(result.status).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(reduceRun(events).nodes['sub/1/wait']!.status).toBe('cancelled');
  });

  it('reports problems inside the inner flow at their path', () => {
    const broken = inner([{ id: 'in', kind: 'input' }, { id: 'x', kind: 'skill', config: { skill: 'nope' } }], [{ from: 'in', to: 'x' }, { from: 'in', to: 'ghost' }]);
    const result = validateFlow(outer(broken));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['nodes.1.config.flow.edges.1.to', 'edge in -> ghost: no node "ghost"']]);
    const badSkill = validateFlow(outer(inner([{ id: 'in', kind: 'input' }, { id: 'x', kind: 'skill', config: { skill: 'nope' } }], [{ from: 'in', to: 'x' }])));
    expect(!badSkill.ok && badSkill.issues.map((i) => [i.nodeId, i.path.join('.'), i.message.slice(0, 34)])).toEqual([['sub', 'nodes.1.config.flow.nodes.1.config.skill', 'node "x": unknown skill "nope" (av']]);
  });

  it(`refuses sub-flows nested deeper than ${MAX_NESTING_DEPTH} levels`, () => {
    let flow: unknown = greetFlow;
    for (let level = 0; level <= MAX_NESTING_DEPTH; level++) flow = { ...outer(flow), id: `level${level}` };
    const result = validateFlow(flow);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues[0]!.message).toMatch(/nested more than 8 levels deep/);
  });
});
