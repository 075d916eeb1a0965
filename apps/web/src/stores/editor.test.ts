import { beforeEach, describe, expect, it } from 'vitest';
import type { Flow } from '@loom/shared';
import { GROUP_HEADER, GROUP_PADDING, NODE_HEIGHT, NODE_WIDTH, NOTE_SIZE } from '../flow/model.js';
import { paletteEntries } from '../flow/palette.js';
import { flowNodeAt, useEditor } from './editor.js';

const flow: Flow = {
  version: 1,
  id: 'f',
  name: 'F',
  settings: { concurrency: 4, allowHosts: [] },
  nodes: [
    { id: 'in', kind: 'input', config: { fields: {} }, position: { x: 0, y: 0 } },
    { id: 'shout', kind: 'skill', config: { skill: 'template', params: { template: '{{ text }}!' } }, position: { x: 200, y: 0 } },
    { id: 'out', kind: 'output', config: {}, position: { x: 400, y: 0 } },
  ],
  edges: [
    { from: 'in', to: 'shout' },
    { from: 'shout', to: 'out' },
  ],
};

const editor = () => useEditor.getState();
const select = (...ids: string[]) => useEditor.setState({ nodes: editor().nodes.map((n) => ({ ...n, selected: ids.includes(n.id) })) });

beforeEach(() => editor().load(flow, 'f', 3));

describe('editor store', () => {
  it('loads a flow clean and writes the same document back', () => {
    expect(editor().dirty).toBe(false);
    expect(editor().baseVersion).toBe(3);
    expect(editor().document()).toEqual(flow);
  });

  it('undoes and redoes adding, connecting and deleting', () => {
    const id = editor().addNode((nodeId) => ({ id: nodeId, kind: 'merge', config: { mode: 'array' } }), { x: 300, y: 200 });
    expect(id).toBe('merge');
    editor().connect({ source: 'in', target: 'merge', sourceHandle: null, targetHandle: null });
    expect(editor().edges).toHaveLength(3);
    select('shout');
    editor().deleteSelected();
    expect(editor().nodes.map((n) => n.id)).toEqual(['in', 'out', 'merge']);
    expect(editor().edges.map((e) => e.id)).toEqual(['in->merge']);
    editor().undo();
    expect(editor().nodes.map((n) => n.id)).toEqual(['in', 'shout', 'out', 'merge']);
    editor().undo();
    editor().undo();
    expect(editor().document()).toEqual(flow);
    editor().redo();
    editor().redo();
    expect(editor().edges.map((e) => e.id)).toContain('in->merge');
    expect(editor().dirty).toBe(true);
  });

  it('selects everything without an undo step, so deleting all is one undoable change', () => {
    editor().selectAll();
    expect(editor().nodes.every((n) => n.selected) && editor().edges.every((e) => e.selected)).toBe(true);
    expect(editor().past).toHaveLength(0);
    editor().deleteSelected();
    expect(editor().nodes).toHaveLength(0);
    expect(editor().edges).toHaveLength(0);
    editor().undo();
    expect(editor().nodes.map((n) => n.id)).toEqual(['in', 'shout', 'out']);
  });

  it('refuses an invalid connection with a reason and records nothing', () => {
    const before = editor().past.length;
    editor().connect({ source: 'out', target: 'shout', sourceHandle: null, targetHandle: null });
    expect(editor().connectionRefusal).toMatch(/output node/);
    expect(editor().past.length).toBe(before);
    expect(editor().edges).toHaveLength(2);
  });

  it('copies and pastes a selection with fresh ids, keeping the edges between copied nodes', () => {
    select('in', 'shout');
    editor().copySelected();
    editor().paste();
    const ids = editor().nodes.map((n) => n.id);
    expect(ids).toEqual(['in', 'shout', 'out', 'in-2', 'shout-2']);
    expect(editor().edges.map((e) => `${e.source}->${e.target}`)).toContain('in-2->shout-2');
    expect(editor().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['in-2', 'shout-2']);
    editor().paste();
    expect(editor().nodes.map((n) => n.id)).toContain('shout-3');
  });

  it('renames a node and its edges together', () => {
    editor().updateNode('shout', { id: 'yell', kind: 'skill', config: { skill: 'template', params: { template: '{{ text }}!!' } } });
    expect(editor().document()!.edges).toEqual([
      { from: 'in', to: 'yell' },
      { from: 'yell', to: 'out' },
    ]);
    expect(editor().validate()).toEqual([]);
  });

  it('applies a layout as one undoable step', () => {
    editor().applyLayout(new Map([['in', { x: 10, y: 10 }], ['out', { x: 900, y: 10 }]]));
    expect(editor().nodes.find((n) => n.id === 'out')!.position).toEqual({ x: 900, y: 10 });
    editor().undo();
    expect(editor().document()).toEqual(flow);
  });
});

/** `flow` with the shout step moved into a sub-flow drawn as a group. */
const withGroup: Flow = {
  ...flow,
  nodes: [
    flow.nodes[0]!,
    {
      id: 'sub',
      kind: 'subflow',
      position: { x: 200, y: 0 },
      config: {
        flow: {
          version: 1,
          id: 'inner',
          name: 'Inner',
          settings: { concurrency: 64, allowHosts: [] },
          nodes: [
            { id: 'in', kind: 'input', config: { fields: {} }, position: { x: 24, y: 64 } },
            { id: 'shout', kind: 'skill', config: { skill: 'template', params: { template: '{{ text }}!' } }, position: { x: 294, y: 64 } },
            { id: 'out', kind: 'output', config: {}, position: { x: 564, y: 64 } },
          ],
          edges: [
            { from: 'in', to: 'shout' },
            { from: 'shout', to: 'out' },
          ],
        },
      },
    },
    { ...flow.nodes[2]!, position: { x: 1200, y: 0 } },
  ],
  edges: [
    { from: 'in', to: 'sub' },
    { from: 'sub', to: 'out' },
  ],
};
const innerFlow = (doc: Flow | null) => (doc!.nodes[1] as Extract<Flow['nodes'][number], { kind: 'subflow' }>).config.flow;

describe('editor store: sub-flow groups', () => {
  beforeEach(() => editor().load(withGroup, 'g', 1));

  it('edits an inner node in place: the change lands in the sub-flow\'s config.flow on save', () => {
    expect(editor().document()).toEqual(withGroup);
    editor().updateNode('sub/shout', { id: 'yell', kind: 'skill', config: { skill: 'template', params: { template: '{{ text }}!!' } } });
    expect(editor().nodes.map((n) => n.id)).toContain('sub/yell');
    const inner = innerFlow(editor().document());
    expect(inner.nodes.map((n) => n.id)).toEqual(['in', 'yell', 'out']);
    expect(inner.nodes[1]).toMatchObject({ config: { params: { template: '{{ text }}!!' } }, position: { x: 294, y: 64 } });
    expect(inner.edges).toEqual([
      { from: 'in', to: 'yell' },
      { from: 'yell', to: 'out' },
    ]);
    // The outer flow's own ids are not touched, and an inner id may repeat an outer one.
    expect(editor().document()!.nodes.map((n) => n.id)).toEqual(['in', 'sub', 'out']);
    expect(editor().validate()).toEqual([]);
    editor().undo();
    expect(editor().document()).toEqual(withGroup);
  });

  it('redraws the group when its inner flow is edited as a whole (the inspector), keeping its place', () => {
    const sub = flowNodeAt(editor(), 'sub') as Extract<Flow['nodes'][number], { kind: 'subflow' }>;
    expect(sub.config.flow.nodes).toHaveLength(3);
    expect(flowNodeAt(editor(), 'sub')).toBe(sub); // the same object while nothing changes
    const shorter = { ...sub, name: 'Shorter', config: { flow: { ...sub.config.flow, nodes: [sub.config.flow.nodes[0]!, sub.config.flow.nodes[2]!], edges: [{ from: 'in', to: 'out' }] } } };
    editor().updateNode('sub', shorter);
    expect(editor().nodes.map((n) => n.id)).toEqual(['in', 'sub', 'sub/in', 'sub/out', 'out']);
    expect(editor().edges.map((e) => e.id)).toEqual(['in->sub', 'sub->out', 'sub/in->sub/out']);
    expect(editor().document()!.nodes[1]).toMatchObject({ name: 'Shorter', position: { x: 200, y: 0 } });
    expect(innerFlow(editor().document()).edges).toEqual([{ from: 'in', to: 'out' }]);
  });

  it('refuses an edge between an inner node and an outer one, saying why', () => {
    editor().connect({ source: 'in', target: 'sub/shout', sourceHandle: null, targetHandle: null });
    expect(editor().connectionRefusal).toMatch(/same flow/);
    editor().connect({ source: 'sub/in', target: 'sub/out', sourceHandle: null, targetHandle: null });
    expect(editor().connectionRefusal).toBeNull();
    expect(innerFlow(editor().document()).edges).toContainEqual({ from: 'in', to: 'out' });
  });

  it('folds and opens a group without an undo step, hiding its inner nodes', () => {
    editor().toggleGroup('sub');
    expect(editor().nodes.filter((n) => n.parentId === 'sub').every((n) => n.hidden)).toBe(true);
    expect(editor().past).toHaveLength(0);
    expect(editor().dirty).toBe(false);
    expect(editor().document()).toEqual(withGroup);
    editor().toggleGroup('sub');
    expect(editor().nodes.some((n) => n.hidden)).toBe(false);
  });

  it('deletes, copies and pastes a group with everything inside it', () => {
    select('sub');
    editor().copySelected();
    editor().paste();
    expect(editor().nodes.map((n) => n.id)).toEqual(['in', 'sub', 'sub/in', 'sub/shout', 'sub/out', 'out', 'sub-2', 'sub-2/in', 'sub-2/shout', 'sub-2/out']);
    expect(editor().nodes.find((n) => n.id === 'sub-2/shout')).toMatchObject({ parentId: 'sub-2', position: { x: 294, y: 64 } });
    expect(editor().edges.map((e) => e.id)).toContain('sub-2/in->sub-2/shout');
    // The copy's inner flow is whole; only the copy itself waits to be connected.
    expect(editor().validate().map((i) => i.message)).toEqual(['subflow node has no incoming edge, so it would never run']);
    select('sub');
    editor().deleteSelected();
    expect(editor().nodes.map((n) => n.id)).toEqual(['in', 'out', 'sub-2', 'sub-2/in', 'sub-2/shout', 'sub-2/out']);
    expect(editor().edges.some((e) => e.source.startsWith('sub/') || e.source === 'sub' || e.target === 'sub')).toBe(false);
  });

  it('pastes a copied inner node into the same group with a fresh id', () => {
    select('sub/shout');
    editor().copySelected();
    editor().paste();
    expect(editor().nodes.find((n) => n.id === 'sub/shout-2')).toMatchObject({ parentId: 'sub', data: { node: { id: 'shout-2' } } });
    expect(innerFlow(editor().document()).nodes.map((n) => n.id)).toEqual(['in', 'shout', 'out', 'shout-2']);
  });
});

describe('editor store: notes', () => {
  it('adds, edits, resizes, copies, deletes notes with undo, and saves them in the flow', () => {
    const id = editor().addNote({ x: 10, y: 20 });
    expect(id).toBe('note:note');
    expect(editor().nodes[0]).toMatchObject({ id, type: 'note', selected: true });
    editor().updateNote(id, { text: 'Remember the tone', color: 'green' });
    expect(editor().document()!.notes).toEqual([{ id: 'note', text: 'Remember the tone', position: { x: 10, y: 20 }, color: 'green' }]);
    editor().onNodesChange([{ type: 'dimensions', id, dimensions: { width: 260, height: 150 }, resizing: false, setAttributes: true }]);
    expect(editor().document()!.notes![0]!.size).toEqual({ width: 260, height: 150 });
    editor().undo();
    expect(editor().document()!.notes![0]).not.toHaveProperty('size');
    select(id);
    editor().copySelected();
    editor().paste();
    expect(editor().document()!.notes!.map((n) => [n.id, n.text, n.position])).toEqual([
      ['note', 'Remember the tone', { x: 10, y: 20 }],
      ['note-2', 'Remember the tone', { x: 50, y: 60 }],
    ]);
    editor().deleteSelected();
    expect(editor().document()!.notes!.map((n) => n.id)).toEqual(['note']);
    editor().undo();
    editor().undo();
    editor().undo();
    editor().undo();
    expect(editor().document()).toEqual(flow);
    expect(editor().validate()).toEqual([]);
  });

  it('loads a flow\'s notes and writes them back unchanged', () => {
    const noted: Flow = { ...flow, notes: [{ id: 'a', text: 'one', position: { x: 1, y: 2 }, size: { width: 300, height: 200 }, color: 'grey' }] };
    editor().load(noted, 'f', 1);
    expect(editor().document()).toEqual(noted);
    expect(editor().meta).not.toHaveProperty('notes');
  });
});

describe('editor store: dropping into groups', () => {
  // `sub` is drawn at (200, 0), 821 x 178: its inner nodes are at y 64, up to x 564 + 233.
  beforeEach(() => editor().load(withGroup, 'g', 1));
  const skill = (id: string): Flow['nodes'][number] => ({ id, kind: 'skill', config: { skill: 'template', params: { template: 'x' } } });
  // The palette's sub-flow starts as a copy of the templates' (here `sub`: in -> shout -> out).
  const subflowEntry = paletteEntries([{ flow: withGroup }]).find((e) => e.kind === 'subflow')!;

  it('adds a node dropped on an open group to its sub-flow: relative position, an id of that flow, saved in config.flow', () => {
    expect(editor().dropNode(skill, { x: 50, y: 400 })).toBe('skill');
    expect(editor().dropNode(skill, { x: 200 + 300, y: 150 })).toBe('sub/skill');
    expect(editor().dropNode(skill, { x: 200 + 310, y: 160 })).toBe('sub/skill-2');
    expect(editor().nodes.find((n) => n.id === 'sub/skill')).toMatchObject({ parentId: 'sub', extent: 'parent', position: { x: 300, y: 150 }, data: { node: { id: 'skill' } } });
    expect(editor().nodes.find((n) => n.id === 'sub/skill-2')?.selected).toBe(true);
    expect(editor().nodes.filter((n) => n.selected)).toHaveLength(1);
    const doc = editor().document()!;
    expect(doc.nodes.map((n) => n.id)).toEqual(['in', 'sub', 'out', 'skill']);
    expect(innerFlow(doc).nodes.map((n) => [n.id, n.position])).toEqual([
      ['in', { x: 24, y: 64 }],
      ['shout', { x: 294, y: 64 }],
      ['out', { x: 564, y: 64 }],
      ['skill', { x: 300, y: 150 }],
      ['skill-2', { x: 310, y: 160 }],
    ]);
    // It arrives unconnected, and edges still never cross the border.
    editor().connect({ source: 'in', target: 'sub/skill', sourceHandle: null, targetHandle: null });
    expect(editor().connectionRefusal).toMatch(/same flow/);
    editor().connect({ source: 'sub/in', target: 'sub/skill', sourceHandle: null, targetHandle: null });
    expect(innerFlow(editor().document()).edges).toContainEqual({ from: 'in', to: 'skill' });
    // Each drop is one undoable step.
    editor().undo();
    editor().undo();
    expect(innerFlow(editor().document()).nodes.map((n) => n.id)).toEqual(['in', 'shout', 'out', 'skill']);
  });

  it('grows the group to hold what was dropped near its edge, and keeps it below the header', () => {
    const id = editor().dropNode(skill, { x: 200 + 780, y: 10 })!;
    expect(editor().nodes.find((n) => n.id === id)!.position).toEqual({ x: 780, y: GROUP_HEADER });
    const group = editor().nodes.find((n) => n.id === 'sub')!;
    expect(group.width).toBeGreaterThanOrEqual(780 + NODE_WIDTH + GROUP_PADDING);
    expect(group.height).toBeGreaterThanOrEqual(GROUP_HEADER + NODE_HEIGHT + GROUP_PADDING);
  });

  it('drops into the innermost open group: a sub-flow dropped in a group nests, and a node dropped in that lands in it', () => {
    const nested = editor().dropNode(subflowEntry.make, { x: 200 + 40, y: 150 })!;
    expect(nested).toBe('sub/subflow');
    const nestedNode = editor().nodes.find((n) => n.id === nested)!;
    expect(nestedNode).toMatchObject({ type: 'subflow', parentId: 'sub', position: { x: 40, y: 150 } });
    const innerIds = editor().nodes.filter((n) => n.parentId === nested).map((n) => n.id);
    expect(innerIds.length).toBeGreaterThan(1);
    expect(innerIds.every((id) => id.startsWith('sub/subflow/'))).toBe(true);
    // The outer group grew around the nested one.
    const outer = editor().nodes.find((n) => n.id === 'sub')!;
    expect(outer.height).toBeGreaterThanOrEqual(150 + nestedNode.height! + GROUP_PADDING);
    const deep = editor().dropNode(skill, { x: 200 + 40 + 30, y: 150 + nestedNode.height! - 20 })!;
    expect(deep).toBe('sub/subflow/skill');
    const nestedDoc = innerFlow(editor().document()).nodes.find((n) => n.id === 'subflow') as Extract<Flow['nodes'][number], { kind: 'subflow' }>;
    expect(nestedDoc.config.flow.nodes.map((n) => n.id)).toContain('skill');
  });

  it('refuses a drop on a folded group with a reason, changing nothing', () => {
    editor().toggleGroup('sub');
    const before = editor().nodes;
    expect(editor().dropNode(skill, { x: 250, y: 50 })).toBeNull();
    expect(editor().dropRefusal).toMatch(/"sub" is folded/);
    expect(editor().nodes).toBe(before);
    expect(editor().past).toHaveLength(0);
    // Beside it, the drop works and the message goes.
    expect(editor().dropNode(skill, { x: 250, y: 400 })).toBe('skill');
    expect(editor().dropRefusal).toBeNull();
  });
});

describe('editor store: notes in groups', () => {
  beforeEach(() => editor().load(withGroup, 'g', 1));
  const drag = (id: string, position: { x: number; y: number }) => editor().onNodesChange([{ type: 'position', id, position, dragging: false }]);

  it('makes a note whose middle is in an open group that sub-flow\'s note, saved in its inner flow', () => {
    const inGroup = editor().addNote({ x: 200 + 300, y: 40 }, 'inner');
    expect(inGroup).toBe('sub/note:note');
    expect(editor().nodes.find((n) => n.id === inGroup)).toMatchObject({ type: 'note', parentId: 'sub', position: { x: 300, y: GROUP_HEADER } });
    // Right after its group: React Flow wants parents first.
    expect(editor().nodes.map((n) => n.id).indexOf(inGroup)).toBe(editor().nodes.map((n) => n.id).indexOf('sub') + 1);
    const top = editor().addNote({ x: 0, y: 400 }, 'outer');
    expect(top).toBe('note:note'); // ids are per flow
    const doc = editor().document()!;
    expect(doc.notes).toEqual([{ id: 'note', text: 'outer', position: { x: 0, y: 400 } }]);
    expect(innerFlow(doc).notes).toEqual([{ id: 'note', text: 'inner', position: { x: 300, y: GROUP_HEADER } }]);
    editor().updateNote(inGroup, { text: 'edited inside' });
    expect(innerFlow(editor().document()).notes![0]!.text).toBe('edited inside');
    // Reloading the saved document draws it in the group again.
    editor().load(editor().document()!, 'g', 2);
    expect(editor().nodes.find((n) => n.id === 'sub/note:note')).toMatchObject({ parentId: 'sub', data: { note: { text: 'edited inside' } } });
  });

  it('moves a note dragged into a group into its sub-flow, and out again; each drag one undoable step', () => {
    const id = editor().addNote({ x: 0, y: 400 }, 'wandering');
    drag(id, { x: 200 + 350, y: 20 }); // its middle (450 + 100, 20 + 60) is in the group
    expect(editor().nodes.some((n) => n.id === id)).toBe(false);
    const inside = editor().nodes.find((n) => n.id === 'sub/note:note')!;
    expect(inside).toMatchObject({ parentId: 'sub', position: { x: 350, y: GROUP_HEADER }, selected: true });
    expect(editor().document()!).not.toHaveProperty('notes');
    expect(innerFlow(editor().document()).notes!.map((n) => n.text)).toEqual(['wandering']);
    // Dragged within the group over its right edge (its middle still in): it stays, and the group grows to hold it.
    drag('sub/note:note', { x: 700, y: 70 });
    expect(editor().nodes.find((n) => n.id === 'sub/note:note')!.position).toEqual({ x: 700, y: 70 });
    expect(editor().nodes.find((n) => n.id === 'sub')!.width).toBeGreaterThanOrEqual(700 + NOTE_SIZE.width + GROUP_PADDING);
    // Resized past the frame's bottom: the group grows too.
    editor().onNodesChange([{ type: 'dimensions', id: 'sub/note:note', dimensions: { width: 200, height: 400 }, resizing: false, setAttributes: true }]);
    expect(editor().nodes.find((n) => n.id === 'sub')!.height).toBeGreaterThanOrEqual(70 + 400 + GROUP_PADDING);
    expect(innerFlow(editor().document()).notes![0]!.size).toEqual({ width: 200, height: 400 });
    editor().undo();
    // Out again: positions are relative to the group, so (-600, 500) inside is (-400, 500) on the canvas.
    drag('sub/note:note', { x: -600, y: 500 });
    expect(editor().nodes.find((n) => n.id === 'note:note')).toMatchObject({ position: { x: -400, y: 500 } });
    expect(editor().nodes.find((n) => n.id === 'note:note')).not.toHaveProperty('parentId');
    expect(editor().document()!.notes).toEqual([{ id: 'note', text: 'wandering', position: { x: -400, y: 500 } }]);
    expect(innerFlow(editor().document())).not.toHaveProperty('notes');
    editor().undo();
    editor().undo();
    editor().undo();
    expect(editor().nodes.find((n) => n.id === 'note:note')).toMatchObject({ position: { x: 0, y: 400 } });
  });

  it('gives a note moving into a group that has one of the same id a fresh id there', () => {
    editor().addNote({ x: 200 + 300, y: 40 }, 'inner');
    const top = editor().addNote({ x: 0, y: 400 }, 'outer');
    expect(top).toBe('note:note');
    drag(top, { x: 200 + 500, y: 70 });
    expect(innerFlow(editor().document()).notes!.map((n) => [n.id, n.text])).toEqual([
      ['note-2', 'outer'],
      ['note', 'inner'],
    ]);
  });

  it('does not put a note into a folded group; folding hides a group\'s notes; pasting keeps a note in its group', () => {
    const inner = editor().addNote({ x: 200 + 300, y: 40 }, 'inner');
    editor().toggleGroup('sub');
    expect(editor().nodes.find((n) => n.id === inner)!.hidden).toBe(true);
    expect(editor().addNote({ x: 200, y: 0 }, 'over the folded group')).toBe('note:note');
    editor().toggleGroup('sub');
    select(inner);
    editor().copySelected();
    editor().paste();
    expect(editor().nodes.find((n) => n.id === 'sub/note:note-2')).toMatchObject({ parentId: 'sub', data: { note: { id: 'note-2', text: 'inner' } } });
    expect(editor().nodes.find((n) => n.id === 'sub/note:note-2')).not.toHaveProperty('extent');
    // The group counts its inner nodes, not its notes, and deleting it takes its notes too.
    select('sub');
    editor().deleteSelected();
    expect(editor().nodes.map((n) => n.id)).toEqual(['note:note', 'in', 'out']);
  });

  it('shows a node inside a folded group: opens the group and selects the node alone, with no undo step', () => {
    select('in', 'sub/out');
    editor().toggleGroup('sub');
    expect(editor().showNode('sub/shout')).toBe(true);
    expect(editor().nodes.find((n) => n.id === 'sub')).toMatchObject({ data: { node: { id: 'sub' } } });
    expect(editor().nodes.some((n) => n.hidden)).toBe(false);
    expect(editor().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['sub/shout']);
    expect(editor().past).toHaveLength(0);
    expect(editor().showNode('sub/nothing')).toBe(false);
  });
});
