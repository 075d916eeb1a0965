import type { FlowInput } from '../schema.js';

type NodeInput = FlowInput['nodes'][number];
type EdgeInput = FlowInput['edges'][number];

/** A flow document as a person writes it, defaults left out. */
export function flowDoc(nodes: NodeInput[], edges: EdgeInput[], extra: Partial<FlowInput> = {}): FlowInput {
  return { version: 1, id: 'test-flow', name: 'Test flow', nodes, edges, ...extra };
}

/** The smallest useful flow: `in -> out`. */
export function minimalFlowDoc(): FlowInput {
  return flowDoc([{ id: 'in', kind: 'input' }, { id: 'out', kind: 'output' }], [{ from: 'in', to: 'out' }]);
}

export function skill(id: string, extra: Partial<Extract<NodeInput, { kind: 'skill' }>> = {}): NodeInput {
  return { id, kind: 'skill', config: { skill: 'template' }, ...extra };
}
