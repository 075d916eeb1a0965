import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { reduceRun, type Flow, type RunEvent } from '@loom/shared';
import { MemorySink } from '../context/defaults.js';
import { runFlow } from '../scheduler/loop.js';
import { compile, flowDoc, nodeStatusEvents, testContext } from '../test-harness.js';
import { planReuse, ReusePlanError } from './reuse.js';

const triage = JSON.parse(readFileSync(new URL('../../../../examples/support-triage.json', import.meta.url), 'utf8')) as unknown;
const ticket = { subject: 'Where is my parcel', body: 'Order 42 has not arrived', orderId: '42' };

async function execute(doc: unknown, input: unknown, options: { reuse?: Map<string, { output: unknown; ports?: string[] }>; parentRunId?: string } = {}) {
  const compiled = compile(doc);
  const sink = new MemorySink();
  const result = await runFlow(compiled, testContext(sink), { input, runId: options.parentRunId ? 'child' : 'parent', ...options });
  return { flow: compiled.flow, result, events: sink.events };
}

/** Nodes whose output this run computed (not reused). */
const executed = (events: readonly RunEvent[]) =>
  nodeStatusEvents(events)
    .filter((e) => e.status === 'succeeded' && !e.reused && !e.nodeId.includes('/'))
    .map((e) => e.nodeId);

describe('planReuse + RunOptions.reuse', () => {
  it('forks from a node: upstream outputs are reused, the fork point and downstream run again, same output', async () => {
    const parent = await execute(triage, ticket);
    expect(parent.result.status).toBe('succeeded');
    const plan = planReuse({ flow: parent.flow, parentFlow: parent.flow, parentEvents: parent.events, fromNodeId: 'assistant' });
    expect([...plan.reuse.keys()]).toEqual(['ticket', 'classify']);
    expect(plan.rerun).toEqual([
      { nodeId: 'assistant', reason: 'fork_point' },
      { nodeId: 'reply', reason: 'downstream' },
      { nodeId: 'result', reason: 'downstream' },
    ]);

    const child = await execute(triage, ticket, { reuse: plan.reuse, parentRunId: 'parent' });
    expect(child.result).toEqual({ ...parent.result, runId: 'child' });
    expect(executed(child.events)).toEqual(['assistant', 'reply', 'result']);
    const reused = nodeStatusEvents(child.events).filter((e) => e.reused);
    expect(reused.map((e) => [e.nodeId, e.ports])).toEqual([
      ['ticket', undefined],
      ['classify', ['normal']],
    ]);
    // The untaken branch is skipped again, from the reused router's recorded port.
    const state = reduceRun(child.events);
    expect(state.nodes['escalate']?.status).toBe('skipped');
    expect(state.nodes['classify']?.reused).toBe(true);
    expect(state.parentRunId).toBe('parent');
  });

  it('resumes a log cut short by a crash: completed nodes are reused, the rest run', async () => {
    const parent = await execute(triage, ticket);
    // The process died right after the router finished.
    const cut = parent.events.findIndex((e) => e.type === 'node.status' && e.nodeId === 'classify' && e.status === 'succeeded');
    const crashed = parent.events.slice(0, cut + 2);
    const plan = planReuse({ flow: parent.flow, parentFlow: parent.flow, parentEvents: crashed });
    expect([...plan.reuse.keys()]).toEqual(['ticket', 'classify']);
    expect(plan.rerun.map((r) => `${r.nodeId}:${r.reason}`)).toEqual(['assistant:not_succeeded', 'reply:not_succeeded', 'result:not_succeeded']);
    const resumed = await execute(triage, ticket, { reuse: plan.reuse, parentRunId: 'parent' });
    expect(resumed.result.output).toEqual(parent.result.output);
    expect(executed(resumed.events)).toEqual(['assistant', 'reply', 'result']);
  });

  it('runs again a node whose definition or incoming edges changed, and what depends on it; moving a node changes nothing', async () => {
    const doc = flowDoc(
      [
        { id: 'in', kind: 'input' },
        { id: 'a', kind: 'skill', config: { skill: 'template', params: { template: 'a:{{ x }}' } } },
        { id: 'b', kind: 'skill', config: { skill: 'template', params: { template: 'b' } } },
        { id: 'c', kind: 'merge', config: { mode: 'array' } },
        { id: 'out', kind: 'output' },
      ],
      [
        { from: 'in', to: 'a' },
        { from: 'in', to: 'b' },
        { from: 'a', to: 'c' },
        { from: 'b', to: 'c' },
        { from: 'c', to: 'out' },
      ],
    );
    const parent = await execute(doc, { x: 1 });
    const edited = structuredClone(parent.flow) as Flow;
    (edited.nodes[1] as unknown as { config: { params: { template: string } } }).config.params.template = 'A:{{ x }}';
    edited.nodes[2]!.position = { x: 500, y: 20 };
    edited.nodes[2]!.name = 'Renamed';
    const plan = planReuse({ flow: edited, parentFlow: parent.flow, parentEvents: parent.events });
    expect([...plan.reuse.keys()]).toEqual(['in', 'b']);
    expect(plan.rerun).toEqual([
      { nodeId: 'a', reason: 'changed' },
      { nodeId: 'c', reason: 'downstream' },
      { nodeId: 'out', reason: 'downstream' },
    ]);
    const child = await execute(edited, { x: 1 }, { reuse: plan.reuse, parentRunId: 'parent' });
    expect(child.result.output).toEqual(['A:1', 'b']);
  });

  it('refuses a fork point the flow does not have', async () => {
    const parent = await execute(triage, ticket);
    expect(() => planReuse({ flow: parent.flow, parentFlow: parent.flow, parentEvents: parent.events, fromNodeId: 'nope' })).toThrow(ReusePlanError);
  });
});
