import { formatFlowIssue, parseFlow, type Flow, type FlowInput } from '@loom/shared';

/**
 * A valid flow of exactly `n` nodes (n ≥ 4) for the canvas benchmark: `in -> L lanes of
 * delay skills -> join (merge) -> out`. Lanes and depth are chosen so the canvas's depth
 * layout (`toCanvas`: 270 px per column, 120 px per row) is about as wide as tall on a
 * 16:10 screen, so `fitView` shows every node and a zoom-in culls a realistic share.
 */
export function benchFlow(n: number): Flow {
  if (!Number.isInteger(n) || n < 4) throw new Error(`benchFlow: n must be an integer ≥ 4, got ${n}`);
  const inner = n - 3; // in, join, out
  const lanes = Math.max(1, Math.round(Math.sqrt(inner / 0.71)));
  const depth = Math.floor(inner / lanes);
  const longer = inner - lanes * depth; // the first `longer` lanes get one node more

  const nodes: FlowInput['nodes'] = [{ id: 'in', kind: 'input', config: { fields: { items: { type: 'array' } } } }];
  const edges: FlowInput['edges'] = [];
  for (let lane = 0; lane < lanes; lane++) {
    let previous = 'in';
    const length = depth + (lane < longer ? 1 : 0);
    for (let step = 0; step < length; step++) {
      const id = `l${lane}_s${step}`;
      nodes.push({ id, kind: 'skill', name: `Lane ${lane + 1} · step ${step + 1}`, config: { skill: 'delay', params: { ms: 10 } } });
      edges.push({ from: previous, to: id });
      previous = id;
    }
    edges.push({ from: previous, to: 'join', toPort: `lane${lane}` });
  }
  nodes.push({ id: 'join', kind: 'merge', config: { mode: 'object' } }, { id: 'out', kind: 'output' });
  edges.push({ from: 'join', to: 'out' });

  const parsed = parseFlow({ version: 1, id: `bench-${n}`, name: `Canvas benchmark, ${n} nodes`, nodes, edges });
  if (!parsed.ok) throw new Error(`benchFlow(${n}) is not a valid flow: ${parsed.issues.map((issue) => formatFlowIssue(issue)).join('; ')}`);
  return parsed.flow;
}
