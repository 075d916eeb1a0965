import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFlow, parseFlowText, type Flow } from '@loom/shared';
import { connectionProblem } from './connect.js';
import { flowNodeOf, fromCanvas, GROUP_HEADER, isFlowNode, isNote, NODE_WIDTH, NOTE_SIZE, outputPorts, toCanvas, type FlowCanvasNode } from './model.js';
import { freshId, paletteEntries } from './palette.js';

const examplesDir = new URL('../../../../examples/', import.meta.url);
const examples: Flow[] = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json'))
  .map((f) => {
    const parsed = parseFlowText(readFileSync(new URL(f, examplesDir), 'utf8'));
    if (!parsed.ok) throw new Error(`${f} does not parse`);
    return parsed.flow;
  });

/** The flow without node positions and edge ids, at every depth of sub-flows. */
function withoutLayout(flow: Pick<Flow, 'nodes' | 'edges'>): unknown {
  return {
    ...flow,
    nodes: flow.nodes.map(({ position: _p, ...n }) => (n.kind === 'subflow' ? { ...n, config: { ...n.config, flow: withoutLayout(n.config.flow) } } : n)),
    edges: flow.edges.map(({ id: _id, ...e }) => e),
  };
}

const inner = (id: string, nodes: unknown[], edges: unknown[]) => ({ version: 1, id, name: `Inner ${id}`, description: 'kept', settings: { concurrency: 2, allowHosts: [] }, nodes, edges });
/** A flow with a sub-flow (itself holding one) drawn as groups, and notes at both levels. */
const grouped: Flow = (() => {
  const parsed = parseFlow({
    version: 1,
    id: 'grouped',
    name: 'Grouped',
    notes: [{ id: 'why', text: 'Top note', position: { x: -300, y: -100 }, size: { width: 220, height: 90 }, color: 'pink' }, { id: 'plain', text: '', position: { x: 0, y: 400 } }],
    nodes: [
      { id: 'in', kind: 'input' },
      {
        id: 'sub',
        kind: 'subflow',
        name: 'Greeter',
        config: {
          flow: {
            ...inner(
              'greeter',
              [
                { id: 'in', kind: 'input', position: { x: 24, y: 64 } },
                { id: 'nest', kind: 'subflow', config: { flow: inner('deep', [{ id: 'in', kind: 'input' }, { id: 'out', kind: 'output' }], [{ from: 'in', to: 'out' }]) } },
                { id: 'route', kind: 'router', config: { routes: [{ port: 'yes', when: 'true' }], defaultPort: 'no' } },
                { id: 'out', kind: 'output' },
              ],
              [
                { from: 'in', to: 'nest' },
                { from: 'nest', to: 'route' },
                { from: 'route', to: 'out', fromPort: 'yes', toPort: 'value' },
              ],
            ),
            notes: [{ id: 'inside', text: 'kept as is', position: { x: 560, y: 70 } }],
          },
        },
      },
      { id: 'out', kind: 'output' },
    ],
    edges: [
      { from: 'in', to: 'sub' },
      { from: 'sub', to: 'out' },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.flow;
})();

describe('sub-flows drawn as groups', () => {
  const { nodes, edges } = toCanvas(grouped);
  const byId = new Map(nodes.map((n) => [n.id, n]));

  it('draws the inner flow inside a framed group: inner nodes are its children, parents listed first', () => {
    expect(nodes.map((n) => n.id)).toEqual(['note:why', 'note:plain', 'in', 'sub', 'sub/note:inside', 'sub/in', 'sub/nest', 'sub/nest/in', 'sub/nest/out', 'sub/route', 'sub/out', 'out']);
    expect(byId.get('sub')).toMatchObject({ type: 'subflow', width: expect.any(Number), height: expect.any(Number) });
    expect(byId.get('sub/in')).toMatchObject({ type: 'loom', parentId: 'sub', extent: 'parent', position: { x: 24, y: 64 }, data: { node: { id: 'in' } } });
    expect(byId.get('sub/nest/out')).toMatchObject({ parentId: 'sub/nest', data: { node: { id: 'out' } } });
    expect(edges.map((e) => `${e.source}->${e.target}`)).toEqual(['sub/nest/in->sub/nest/out', 'sub/in->sub/nest', 'sub/nest->sub/route', 'sub/route->sub/out', 'in->sub', 'sub->out']);
    // Inner nodes without a position start below the header; the group holds them all.
    const group = byId.get('sub')!;
    for (const child of nodes.filter((n) => n.parentId === 'sub' && isFlowNode(n))) {
      expect(child.position.y).toBeGreaterThanOrEqual(GROUP_HEADER);
      expect(child.position.x + NODE_WIDTH).toBeLessThanOrEqual(group.width!);
    }
    // The next column starts after the group, not on top of it.
    expect(byId.get('out')!.position.x).toBeGreaterThan(byId.get('sub')!.position.x + group.width!);
  });

  it('writes the same document back: inner nodes and edges into config.flow, notes into notes', () => {
    const { nodes: _n, edges: _e, ...meta } = grouped;
    const back = fromCanvas(meta, nodes, edges);
    expect(withoutLayout(back)).toEqual(withoutLayout(grouped));
    expect(back.notes).toEqual(grouped.notes);
    // Saved positions come back as saved; the rest are written where they were drawn.
    const sub = back.nodes[1] as Extract<Flow['nodes'][number], { kind: 'subflow' }>;
    expect(sub.config.flow.nodes[0]!.position).toEqual({ x: 24, y: 64 });
    expect(parseFlow(back).ok).toBe(true);
    // And again: drawn positions are stable.
    const again = toCanvas(back);
    expect(fromCanvas(meta, again.nodes, again.edges)).toEqual(back);
  });

  it('gives the flow node of a group with its inner flow put back together', () => {
    const sub = flowNodeOf('sub', nodes, edges);
    expect(withoutLayout({ nodes: [sub!], edges: [] })).toEqual(withoutLayout({ nodes: [grouped.nodes[1]!], edges: [] }));
    expect(flowNodeOf('sub/route', nodes, edges)).toMatchObject({ id: 'route', kind: 'router' });
    expect(flowNodeOf('note:why', nodes, edges)).toBeUndefined();
  });

  it('draws a folded group node-sized with its inner nodes hidden, and saves the same document', () => {
    const folded = toCanvas(grouped, new Set(['sub']));
    const group = folded.nodes.find((n) => n.id === 'sub') as FlowCanvasNode;
    expect(group.data.collapsed).toBe(true);
    expect(group.width).toBeLessThan(byId.get('sub')!.width!);
    expect(folded.nodes.filter((n) => n.id.startsWith('sub/')).every((n) => n.hidden)).toBe(true);
    expect(folded.nodes.find((n) => n.id === 'sub/note:inside')?.hidden).toBe(true);
    const { nodes: _n, edges: _e, ...meta } = grouped;
    expect(withoutLayout(fromCanvas(meta, folded.nodes, folded.edges))).toEqual(withoutLayout(grouped));
  });

  it('draws a sub-flow\'s own notes inside its group, free to leave its frame, and saves them back into its inner flow', () => {
    const note = byId.get('sub/note:inside')!;
    expect(note).toMatchObject({ type: 'note', parentId: 'sub', position: { x: 560, y: 70 }, data: { note: { id: 'inside', text: 'kept as is' } } });
    expect(note).not.toHaveProperty('extent');
    // The group is drawn big enough to hold its notes as well as its inner nodes.
    expect(byId.get('sub')!.width).toBeGreaterThanOrEqual(560 + NOTE_SIZE.width);
    // The group keeps none of them itself: the drawn notes are what is saved.
    const group = byId.get('sub') as FlowCanvasNode;
    expect(group.data.node.kind === 'subflow' && group.data.node.config.flow.notes).toEqual([]);
    const edited = nodes.map((n) => (n.id === 'sub/note:inside' && isNote(n) ? { ...n, position: { x: 40, y: 300 }, width: 150, height: 80, data: { note: { ...n.data.note, text: 'edited', color: 'green' as const } } } : n));
    const { nodes: _n, edges: _e, ...meta } = grouped;
    const back = fromCanvas(meta, edited, edges);
    const sub = back.nodes[1] as Extract<Flow['nodes'][number], { kind: 'subflow' }>;
    expect(sub.config.flow.notes).toEqual([{ id: 'inside', text: 'edited', position: { x: 40, y: 300 }, size: { width: 150, height: 80 }, color: 'green' }]);
    expect(back.notes!.map((n) => n.id)).toEqual(['why', 'plain']);
    // A nested group's notes go to its own flow; the inspector's view of the group has them too.
    expect(flowNodeOf('sub', edited, edges)).toMatchObject({ config: { flow: { notes: [{ id: 'inside', text: 'edited' }] } } });
  });

  it('keeps an inner flow\'s empty note list, and leaves out a list it never had', () => {
    const withEmpty = structuredClone(grouped);
    const sub = withEmpty.nodes[1] as Extract<Flow['nodes'][number], { kind: 'subflow' }>;
    sub.config.flow.notes = [];
    const drawn = toCanvas(withEmpty);
    const { nodes: _n, edges: _e, ...meta } = withEmpty;
    const back = fromCanvas(meta, drawn.nodes, drawn.edges);
    expect((back.nodes[1] as typeof sub).config.flow.notes).toEqual([]);
    const nest = (back.nodes[1] as typeof sub).config.flow.nodes[1] as typeof sub;
    expect(nest.config.flow).not.toHaveProperty('notes');
  });

  it('draws notes with their size only when they have one; an empty note list is left out', () => {
    const why = nodes.find((n) => n.id === 'note:why')!;
    const plain = nodes.find((n) => n.id === 'note:plain')!;
    expect(isNote(why) && why.data.note).toEqual({ id: 'why', text: 'Top note', color: 'pink' });
    expect([why.width, why.height]).toEqual([220, 90]);
    expect(plain.width).toBeUndefined();
    const { nodes: _n, edges: _e, ...meta } = grouped;
    expect(fromCanvas(meta, nodes.filter((n) => !isNote(n)), edges)).not.toHaveProperty('notes');
  });
});

describe('canvas model', () => {
  it('round-trips every example through the canvas (positions added, nothing else changed)', () => {
    for (const flow of examples) {
      const { nodes, edges } = toCanvas(flow);
      const { nodes: _n, edges: _e, ...meta } = flow;
      const back = fromCanvas(meta, nodes, edges);
      expect(withoutLayout(back)).toEqual(withoutLayout(flow));
      expect(parseFlow(back).ok).toBe(true);
      // Nodes without a saved position are laid out by depth: no two on the same spot.
      const spots = new Set(nodes.map((n) => `${n.position.x},${n.position.y}`));
      expect(spots.size).toBe(nodes.length);
    }
  });

  it('gives routers one output handle per route and nodes that continue on error an error handle', () => {
    const triage = examples.find((f) => f.id === 'support-triage')!;
    expect(outputPorts(triage.nodes.find((n) => n.id === 'classify')!)).toEqual(['urgent', 'normal']);
    expect(outputPorts({ id: 'x', kind: 'skill', onError: 'continue', config: { skill: 'template', params: {} } })).toEqual(['error']);
  });
});

describe('connection rules', () => {
  const { nodes, edges } = toCanvas(examples.find((f) => f.id === 'support-triage')!);
  const problem = (source: string, target: string, sourceHandle: string | null = null) => connectionProblem({ source, target, sourceHandle, targetHandle: null }, nodes, edges);

  it('refuses edges out of outputs, into inputs, to itself, duplicates and cycles, each with a reason', () => {
    expect(problem('result', 'reply')).toMatch(/output node/);
    expect(problem('reply', 'ticket')).toMatch(/input node/);
    expect(problem('reply', 'reply')).toMatch(/itself/);
    expect(problem('classify', 'escalate', 'urgent')).toMatch(/already connected/);
    expect(problem('reply', 'classify')).toMatch(/cycle/);
  });

  it('allows a new forward edge', () => {
    expect(problem('ticket', 'reply')).toBeNull();
  });
});

describe('palette', () => {
  it('offers every node kind, and each new node is valid in a flow', () => {
    const entries = paletteEntries(examples.map((flow) => ({ flow })));
    expect(entries.map((e) => e.kind).sort()).toEqual(['agent', 'chain', 'coordinator', 'input', 'master_worker', 'mcp', 'merge', 'output', 'parallel', 'router', 'skill', 'subflow', 'supervisor']);
    for (const entry of entries) {
      const node = entry.make(entry.kind.replace(/_/g, '-'));
      const flow = { version: 1, id: 'palette', name: 'Palette', nodes: [node], edges: [] };
      const parsed = parseFlow(flow, { allowUnconnected: true });
      expect(parsed.ok ? [] : parsed.issues, entry.kind).toEqual([]);
    }
  });

  it('finds a free id', () => {
    expect(freshId('master_worker', new Set())).toBe('master-worker');
    expect(freshId('agent', new Set(['agent', 'agent-2']))).toBe('agent-3');
  });
});
