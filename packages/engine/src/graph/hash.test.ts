import { describe, expect, it } from 'vitest';
import { parseFlow, type Flow } from '@loom/shared';
import { flowHash } from './hash.js';

function flowOf(doc: unknown): Flow {
  const parsed = parseFlow(doc);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.flow;
}

const inner = {
  version: 1,
  id: 'inner',
  name: 'Inner',
  nodes: [
    { id: 'in', kind: 'input', position: { x: 0, y: 0 } },
    { id: 'out', kind: 'output', position: { x: 200, y: 0 } },
  ],
  edges: [{ from: 'in', to: 'out' }],
};
const base = {
  version: 1,
  id: 'outer',
  name: 'Outer',
  nodes: [
    { id: 'in', kind: 'input', position: { x: 0, y: 0 } },
    { id: 'sub', kind: 'subflow', config: { flow: inner } },
    { id: 'out', kind: 'output' },
  ],
  edges: [
    { from: 'in', to: 'sub' },
    { from: 'sub', to: 'out' },
  ],
};

describe('flowHash', () => {
  const hash = flowHash(flowOf(base));

  it('ignores notes, node positions and the positions inside sub-flows', () => {
    const withNotes = { ...base, notes: [{ id: 'n1', text: 'why this flow exists', position: { x: 5, y: 5 }, size: { width: 200, height: 120 }, color: 'blue' }] };
    expect(flowHash(flowOf(withNotes))).toBe(hash);
    const moved = structuredClone(base);
    moved.nodes[0]!.position = { x: 999, y: 1 };
    moved.nodes[1]!.config!.flow.nodes[1]!.position = { x: 7, y: 70 };
    (moved.nodes[1]!.config!.flow as Record<string, unknown>)['notes'] = [{ id: 'inner-note', text: 'x', position: { x: 0, y: 0 } }];
    expect(flowHash(flowOf(moved))).toBe(hash);
  });

  it('changes when behaviour changes, inside a sub-flow too', () => {
    const renamed = structuredClone(base);
    renamed.nodes[1]!.config!.flow.nodes[1]!.id = 'result';
    renamed.nodes[1]!.config!.flow.edges[0]!.to = 'result';
    expect(flowHash(flowOf(renamed))).not.toBe(hash);
  });
});
