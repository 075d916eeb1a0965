import type { FlowInput } from '@loom/shared';
import { chain } from '../flows.js';

/** Flow documents the server benchmark saves through the API (`flows.create`). */

/** input -> output: the least a run can do, so the API and the event log are all that is measured. */
export function trivialFlow(): FlowInput {
  return {
    version: 1,
    id: 'bench-trivial',
    name: 'Bench: input to output',
    nodes: [
      { id: 'in', kind: 'input' },
      { id: 'out', kind: 'output' },
    ],
    edges: [{ from: 'in', to: 'out' }],
  };
}

/**
 * input -> `pairs` × (template "{{ n + 1 }}" -> json.transform { "n": $number($) }) -> output:
 * `2 × pairs + 2` nodes doing real (small) work, each pair adding one to `n`.
 * With input `{ n: 0 }` the output is `{ n: pairs }`.
 */
export function transformChain(pairs: number): FlowInput {
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`pair count must be a positive integer, got ${pairs}`);
  const nodes: FlowInput['nodes'] = [{ id: 'in', kind: 'input' }];
  const edges: FlowInput['edges'] = [];
  let previous = 'in';
  for (let i = 1; i <= pairs; i++) {
    const render = `render${i}`;
    const parse = `parse${i}`;
    nodes.push(
      { id: render, kind: 'skill', config: { skill: 'template', params: { template: '{{ n + 1 }}' } } },
      { id: parse, kind: 'skill', config: { skill: 'json.transform', params: { expression: '{ "n": $number($) }' } } },
    );
    edges.push({ from: previous, to: render }, { from: render, to: parse });
    previous = parse;
  }
  nodes.push({ id: 'out', kind: 'output' });
  edges.push({ from: previous, to: 'out' });
  return { version: 1, id: `bench-transform-${2 * pairs + 2}`, name: `Bench: ${pairs} template/json.transform pairs`, nodes, edges };
}

/** input -> `n` delay(`ms`) nodes -> output, with an id the server accepts. */
export function delayChain(n: number, ms: number): FlowInput {
  return { ...chain(n, { skill: 'delay', delayMs: ms }), id: `bench-delay-${n}x${ms}` };
}

/** input -> `n` noop nodes -> output: the W1/W4/W5 chain. */
export function noopChain(n: number): FlowInput {
  return chain(n);
}
