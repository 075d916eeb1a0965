import { beforeEach, describe, expect, it } from 'vitest';
import type { Flow } from '@loom/shared';
import { useEditor } from './editor.js';

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
