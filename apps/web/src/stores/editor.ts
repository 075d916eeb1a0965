import { addEdge, applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from '@xyflow/react';
import { create } from 'zustand';
import { parseFlow, type Flow, type FlowIssue, type FlowNode } from '@loom/shared';
import { connectionProblem } from '../flow/connect.js';
import { edgeId, fromCanvas, toCanvas, type CanvasEdge, type CanvasNode } from '../flow/model.js';
import { freshId } from '../flow/palette.js';

interface Snapshot {
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

const HISTORY_LIMIT = 100;

export interface EditorState {
  flowId: string | null;
  /** The saved version the canvas started from: saves are made on top of it. */
  baseVersion: number;
  /** The flow's fields other than nodes and edges (id, name, settings…). */
  meta: Omit<Flow, 'nodes' | 'edges'> | null;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
  dirty: boolean;
  past: Snapshot[];
  future: Snapshot[];
  clipboard: Snapshot | null;
  /** Why the last connection attempt was refused (shown near the canvas), or null. */
  connectionRefusal: string | null;

  load(flow: Flow, flowId: string, version: number): void;
  markSaved(version: number): void;
  onNodesChange(changes: NodeChange<CanvasNode>[]): void;
  onEdgesChange(changes: EdgeChange<CanvasEdge>[]): void;
  connect(connection: Connection): void;
  addNode(make: (id: string) => FlowNode, position: { x: number; y: number }): string;
  updateNode(id: string, node: FlowNode): void;
  renameFlow(name: string): void;
  deleteSelected(): void;
  /** Selects every node and edge (not an undoable change: nothing in the flow changes). */
  selectAll(): void;
  copySelected(): void;
  paste(): void;
  undo(): void;
  redo(): void;
  /** Moves nodes to computed positions as one undoable step. */
  applyLayout(positions: ReadonlyMap<string, { x: number; y: number }>): void;
  document(): Flow | null;
  /** Schema and graph problems of the current canvas, by node id ('' for flow-level ones). */
  validate(): FlowIssue[];
}

/**
 * The canvas being edited. Every change that alters the flow (not a selection or a drag in
 * progress) pushes the previous nodes and edges on the undo stack; nodes keep their object
 * identity unless they changed, so memoised node components re-render only when theirs did.
 */
export const useEditor = create<EditorState>()((set, get) => {
  /** Records the current canvas for undo, then applies `next`. */
  const commit = (next: Partial<Snapshot>, extra: Partial<EditorState> = {}) => {
    const { nodes, edges, past } = get();
    set({ ...next, ...extra, past: [...past.slice(-HISTORY_LIMIT + 1), { nodes, edges }], future: [], dirty: true });
  };

  return {
    flowId: null,
    baseVersion: 0,
    meta: null,
    nodes: [],
    edges: [],
    dirty: false,
    past: [],
    future: [],
    clipboard: null,
    connectionRefusal: null,

    load(flow, flowId, version) {
      const { nodes: _n, edges: _e, ...meta } = flow;
      const { nodes, edges } = toCanvas(flow);
      set({ flowId, baseVersion: version, meta, nodes, edges, dirty: false, past: [], future: [], connectionRefusal: null });
    },

    markSaved(version) {
      set({ baseVersion: version, dirty: false });
    },

    onNodesChange(changes) {
      const { nodes, edges } = get();
      const next = applyNodeChanges(changes, nodes);
      // Selection and dimension changes are not edits; a finished drag and a removal are.
      const edits = changes.some((c) => c.type === 'remove' || (c.type === 'position' && c.dragging === false));
      if (!edits) return set({ nodes: next });
      const removed = new Set(changes.filter((c) => c.type === 'remove').map((c) => c.id));
      commit({ nodes: next, edges: removed.size ? edges.filter((e) => !removed.has(e.source) && !removed.has(e.target)) : edges });
    },

    onEdgesChange(changes) {
      const next = applyEdgeChanges(changes, get().edges);
      if (changes.some((c) => c.type === 'remove')) commit({ edges: next });
      else set({ edges: next });
    },

    connect(connection) {
      const { nodes, edges } = get();
      const problem = connectionProblem(connection, nodes, edges);
      if (problem) return set({ connectionRefusal: problem });
      const id = edgeId({ from: connection.source, to: connection.target, ...(connection.sourceHandle ? { fromPort: connection.sourceHandle } : {}) });
      commit({ edges: addEdge({ ...connection, id }, edges) }, { connectionRefusal: null });
    },

    addNode(make, position) {
      const { nodes } = get();
      const taken = new Set(nodes.map((n) => n.id));
      const node = make(freshId('node', taken));
      const id = freshId(node.kind, taken);
      const created: CanvasNode = { id, type: 'loom', position, data: { node: { ...node, id } }, selected: true };
      commit({ nodes: [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), created] });
      return id;
    },

    updateNode(id, node) {
      const { nodes, edges } = get();
      const renamed = node.id !== id;
      const nextNodes = nodes.map((n) => (n.id === id ? { ...n, id: node.id, data: { node } } : n));
      const nextEdges = renamed
        ? edges.map((e) => (e.source === id || e.target === id ? { ...e, source: e.source === id ? node.id : e.source, target: e.target === id ? node.id : e.target } : e))
        : edges;
      commit({ nodes: nextNodes, edges: nextEdges });
    },

    renameFlow(name) {
      const { meta } = get();
      if (meta) commit({}, { meta: { ...meta, name } });
    },

    deleteSelected() {
      const { nodes, edges } = get();
      const removed = new Set(nodes.filter((n) => n.selected).map((n) => n.id));
      const keptEdges = edges.filter((e) => !e.selected && !removed.has(e.source) && !removed.has(e.target));
      if (removed.size === 0 && keptEdges.length === edges.length) return;
      commit({ nodes: nodes.filter((n) => !removed.has(n.id)), edges: keptEdges });
    },

    selectAll() {
      const { nodes, edges } = get();
      set({ nodes: nodes.map((n) => (n.selected ? n : { ...n, selected: true })), edges: edges.map((e) => (e.selected ? e : { ...e, selected: true })) });
    },

    copySelected() {
      const { nodes, edges } = get();
      const chosen = nodes.filter((n) => n.selected);
      if (chosen.length === 0) return;
      const ids = new Set(chosen.map((n) => n.id));
      set({ clipboard: { nodes: structuredClone(chosen), edges: structuredClone(edges.filter((e) => ids.has(e.source) && ids.has(e.target))) } });
    },

    paste() {
      const { clipboard, nodes, edges } = get();
      if (!clipboard) return;
      const taken = new Set(nodes.map((n) => n.id));
      const renamed = new Map<string, string>();
      const pasted = clipboard.nodes.map((n) => {
        const id = freshId(n.id.replace(/-\d+$/, ''), taken);
        taken.add(id);
        renamed.set(n.id, id);
        return { ...n, id, selected: true, position: { x: n.position.x + 40, y: n.position.y + 40 }, data: { node: { ...n.data.node, id } } };
      });
      const pastedEdges = clipboard.edges.map((e) => {
        const source = renamed.get(e.source)!;
        const target = renamed.get(e.target)!;
        return { ...e, source, target, selected: false, id: edgeId({ from: source, to: target, ...(e.sourceHandle ? { fromPort: e.sourceHandle } : {}) }) };
      });
      commit({ nodes: [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pasted], edges: [...edges, ...pastedEdges] });
      // The next paste lands a little further on.
      set({ clipboard: { nodes: pasted.map((n) => ({ ...n, id: n.id })), edges: pastedEdges } });
    },

    undo() {
      const { past, future, nodes, edges } = get();
      const previous = past[past.length - 1];
      if (!previous) return;
      set({ ...previous, past: past.slice(0, -1), future: [{ nodes, edges }, ...future], dirty: true });
    },

    redo() {
      const { past, future, nodes, edges } = get();
      const next = future[0];
      if (!next) return;
      set({ ...next, past: [...past, { nodes, edges }], future: future.slice(1), dirty: true });
    },

    applyLayout(positions) {
      const { nodes } = get();
      commit({ nodes: nodes.map((n) => (positions.has(n.id) ? { ...n, position: positions.get(n.id)! } : n)) });
    },

    document() {
      const { meta, nodes, edges } = get();
      return meta ? fromCanvas(meta, nodes, edges) : null;
    },

    validate() {
      const doc = get().document();
      if (!doc) return [];
      const parsed = parseFlow(doc);
      return parsed.ok ? [] : parsed.issues;
    },
  };
});
