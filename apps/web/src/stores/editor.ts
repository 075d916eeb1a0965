import { addEdge, applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from '@xyflow/react';
import { create } from 'zustand';
import { parseFlow, type Flow, type FlowIssue, type FlowNode, type FlowNote } from '@loom/shared';
import { connectionProblem } from '../flow/connect.js';
import {
  COLLAPSED_SIZE,
  drawnSize,
  edgeId,
  flowIdOf,
  flowNodeOf,
  fromCanvas,
  GROUP_HEADER,
  GROUP_PADDING,
  groupSize,
  isFlowNode,
  isNote,
  nodeToCanvas,
  noteCanvasId,
  NOTE_PREFIX,
  NOTE_SIZE,
  NOTE_Z,
  scopedId,
  toCanvas,
  type CanvasEdge,
  type CanvasNode,
  type FlowCanvasNode,
  type NoteCanvasNode,
} from '../flow/model.js';
import { absolutePosition, groupAt, growGroups, indexById } from '../flow/groups.js';
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
  /** Why the last palette drop was refused (shown near the canvas), or null. */
  dropRefusal: string | null;

  load(flow: Flow, flowId: string, version: number): void;
  markSaved(version: number): void;
  onNodesChange(changes: NodeChange<CanvasNode>[]): void;
  onEdgesChange(changes: EdgeChange<CanvasEdge>[]): void;
  connect(connection: Connection): void;
  /** Adds a node to the main flow at `position`; returns its canvas id. */
  addNode(make: (id: string) => FlowNode, position: { x: number; y: number }): string;
  /**
   * Adds a node dropped at `position` (canvas coordinates): into the sub-flow of the open group
   * it lands in, else the main flow. Dropped on a folded group it is refused (`dropRefusal`
   * says why) and null is returned; else its canvas id.
   */
  dropNode(make: (id: string) => FlowNode, position: { x: number; y: number }): string | null;
  /** Replaces a node (by canvas id); a sub-flow's group is redrawn from its `config.flow`. */
  updateNode(id: string, node: FlowNode): void;
  /**
   * Adds a sticky note with its top left corner at `position` (canvas coordinates); returns its
   * canvas id. A note whose middle lands in an open group is that sub-flow's note.
   */
  addNote(position: { x: number; y: number }, text?: string): string;
  updateNote(id: string, change: Partial<Pick<FlowNote, 'text' | 'color'>>): void;
  /** Folds a sub-flow's group to a node-sized box, or opens it (a view choice: not an edit). */
  toggleGroup(id: string): void;
  /** Selects the node `id` alone, opening the folded groups it is drawn in; false if there is none. */
  showNode(id: string): boolean;
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

  /** Adds a new node at `position` (canvas coordinates), inside `group`'s sub-flow when given; returns its canvas id. */
  const place = (make: (id: string) => FlowNode, position: { x: number; y: number }, group: FlowCanvasNode | undefined): string => {
    const { nodes, edges } = get();
    const taken = new Set(nodes.map((n) => n.id));
    const node = make(freshId('node', taken));
    // Unique in the flow it joins: an inner flow has ids of its own.
    const id = freshIdIn(node.kind, group ? `${group.id}/` : '', taken);
    const created = nodeToCanvas({ ...node, id }, inside(nodes, group, position), group?.id);
    created.nodes[0]!.selected = true;
    const next = [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...created.nodes];
    commit({ nodes: growGroups(next, group?.id), edges: [...edges, ...created.edges] }, { dropRefusal: null });
    return created.nodes[0]!.id;
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
    dropRefusal: null,

    load(flow, flowId, version) {
      const { nodes: _n, edges: _e, notes: _notes, ...meta } = flow;
      const { nodes, edges } = toCanvas(flow);
      set({ flowId, baseVersion: version, meta, nodes, edges, dirty: false, past: [], future: [], connectionRefusal: null, dropRefusal: null });
    },

    markSaved(version) {
      set({ baseVersion: version, dirty: false });
    },

    onNodesChange(changes) {
      const { nodes, edges } = get();
      let next = applyNodeChanges(changes, nodes);
      // Selection and measurements are not edits; a finished drag or resize and a removal are.
      const edits = changes.some((c) => c.type === 'remove' || (c.type === 'position' && c.dragging === false) || (c.type === 'dimensions' && c.resizing === false));
      if (!edits) return set({ nodes: next });
      // A note dropped after a drag belongs to the open group it now lies in (or the top).
      for (const c of changes) if (c.type === 'position' && c.dragging === false && c.id.includes(NOTE_PREFIX)) next = moveNoteToWhereItLies(next, c.id);
      // A group's note resized past its frame: the group grows to hold it (as it does for inner nodes).
      for (const c of changes) if (c.type === 'dimensions' && c.resizing === false && c.id.includes(NOTE_PREFIX)) next = growGroups(next, next.find((n) => n.id === c.id)?.parentId);
      const removed = withDescendants(next, new Set(changes.filter((c) => c.type === 'remove').map((c) => c.id)));
      commit({ nodes: removed.size ? next.filter((n) => !removed.has(n.id)) : next, edges: removed.size ? edges.filter((e) => !removed.has(e.source) && !removed.has(e.target)) : edges });
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
      return place(make, position, undefined);
    },

    dropNode(make, position) {
      const group = groupAt(get().nodes, position);
      if (group?.data.collapsed) {
        set({ dropRefusal: `"${group.id}" is folded: open it (▸) to drop nodes into its sub-flow, or drop beside it` });
        return null;
      }
      return place(make, position, group);
    },

    updateNode(id, node) {
      const { nodes, edges } = get();
      const current = nodes.find((n) => n.id === id);
      if (!current || !isFlowNode(current)) return;
      const newId = scopedId(current.parentId, node.id);
      const renamed = newId !== id;
      const rename = (ref: string) => (ref === id ? newId : ref);
      let nextNodes: CanvasNode[];
      let nextEdges = renamed ? edges.map((e) => (e.source === id || e.target === id ? { ...e, source: rename(e.source), target: rename(e.target) } : e)) : edges;
      if (current.type === 'subflow' || node.kind === 'subflow') {
        // Redrawn from the document: its inner nodes and edges are replaced as a whole.
        const inside = withDescendants(nodes, new Set([id]));
        inside.delete(id);
        const collapsed = new Set(nodes.filter((n) => isFlowNode(n) && n.data.collapsed && (n.id === id || inside.has(n.id))).map((n) => (n.id === id ? newId : n.id.replace(id, newId))));
        const drawn = nodeToCanvas(node, current.position, current.parentId, collapsed);
        const head = { ...drawn.nodes[0]!, selected: current.selected ?? false, ...(current.parentId && current.hidden ? { hidden: true } : {}) } as CanvasNode;
        const at = nodes.indexOf(current);
        nextNodes = [...nodes.slice(0, at).filter((n) => !inside.has(n.id)), head, ...drawn.nodes.slice(1), ...nodes.slice(at + 1).filter((n) => !inside.has(n.id))];
        nextEdges = [...nextEdges.filter((e) => !inside.has(e.source) && !inside.has(e.target)), ...drawn.edges];
      } else {
        nextNodes = nodes.map((n) => (n.id === id ? ({ ...n, id: newId, data: { ...n.data, node } } as CanvasNode) : n));
      }
      commit({ nodes: nextNodes, edges: nextEdges });
    },

    addNote(position, text = '') {
      const { nodes } = get();
      const byId = indexById(nodes);
      const group = groupAt(nodes, { x: position.x + NOTE_SIZE.width / 2, y: position.y + NOTE_SIZE.height / 2 }, { openOnly: true }, byId);
      const parentId = group?.id;
      const id = freshIdIn('note', noteScope(parentId), new Set(byId.keys()));
      const note: NoteCanvasNode = { id: noteCanvasId(id, parentId), type: 'note', position: inside(nodes, group, position), zIndex: NOTE_Z, data: { note: { id, text } }, selected: true, ...(parentId ? { parentId } : {}) };
      commit({ nodes: growGroups(withNote(nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), note), parentId) });
      return note.id;
    },

    updateNote(id, change) {
      const { nodes } = get();
      const current = nodes.find((n) => n.id === id);
      if (!current || !isNote(current)) return;
      const note = { ...current.data.note, ...change };
      if (note.color === undefined || note.color === 'yellow') delete note.color;
      if (note.text === current.data.note.text && note.color === current.data.note.color) return;
      commit({ nodes: nodes.map((n) => (n === current ? { ...current, data: { note } } : n)) });
    },

    toggleGroup(id) {
      const { nodes } = get();
      const group = nodes.find((n) => n.id === id);
      if (!group || group.type !== 'subflow') return;
      const collapsed = !group.data.collapsed;
      const inside = withDescendants(nodes, new Set([id]));
      inside.delete(id);
      // Opening shows the direct children and, inside them, what is not in a folded group.
      const foldedInside = new Set(nodes.filter((n) => inside.has(n.id) && n.type === 'subflow' && n.data.collapsed).map((n) => n.id));
      const hiddenWhenOpen = withDescendants(nodes, foldedInside);
      for (const f of foldedInside) hiddenWhenOpen.delete(f);
      const children = nodes.filter((n) => n.parentId === id);
      const size = collapsed ? COLLAPSED_SIZE : groupSize(children);
      set({
        nodes: nodes.map((n) => {
          if (n.id === id) {
            const { collapsed: _c, ...data } = group.data;
            return { ...group, ...size, data: collapsed ? { ...data, collapsed: true } : data };
          }
          if (!inside.has(n.id)) return n;
          const hidden = collapsed || hiddenWhenOpen.has(n.id);
          if (hidden) return { ...n, hidden: true, selected: false };
          const { hidden: _h, ...shown } = n;
          return shown as CanvasNode;
        }),
      });
    },

    showNode(id) {
      const byId = indexById(get().nodes);
      const target = byId.get(id);
      if (!target) return false;
      const around: string[] = [];
      for (let p = target.parentId; p !== undefined; p = byId.get(p)?.parentId) around.unshift(p);
      // Outermost first: opening a group leaves the folded groups inside it folded.
      for (const groupId of around) {
        const group = get().nodes.find((n) => n.id === groupId);
        if (group && isFlowNode(group) && group.data.collapsed) get().toggleGroup(groupId);
      }
      const { nodes, edges } = get();
      set({
        nodes: nodes.map((n) => (n.id === id ? (n.selected ? n : { ...n, selected: true }) : n.selected ? { ...n, selected: false } : n)),
        edges: edges.some((e) => e.selected) ? edges.map((e) => (e.selected ? { ...e, selected: false } : e)) : edges,
      });
      return true;
    },

    renameFlow(name) {
      const { meta } = get();
      if (meta) commit({}, { meta: { ...meta, name } });
    },

    deleteSelected() {
      const { nodes, edges } = get();
      const removed = withDescendants(nodes, new Set(nodes.filter((n) => n.selected).map((n) => n.id)));
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
      const ids = withDescendants(nodes, new Set(nodes.filter((n) => n.selected).map((n) => n.id)));
      const chosen = nodes.filter((n) => ids.has(n.id));
      if (chosen.length === 0) return;
      set({ clipboard: { nodes: structuredClone(chosen), edges: structuredClone(edges.filter((e) => ids.has(e.source) && ids.has(e.target))) } });
    },

    paste() {
      const { clipboard, nodes, edges } = get();
      if (!clipboard) return;
      const taken = new Set(nodes.map((n) => n.id));
      const renamed = new Map<string, string>();
      // Parents come before their children, so a pasted group's inner nodes follow it in.
      const pasted = clipboard.nodes.map((n): CanvasNode => {
        const newParent = n.parentId === undefined ? undefined : renamed.get(n.parentId);
        const intoOld = n.parentId !== undefined && newParent === undefined && taken.has(n.parentId);
        const parentId = newParent ?? (intoOld ? n.parentId : undefined);
        const scope = isNote(n) ? noteScope(parentId) : parentId ? `${parentId}/` : '';
        const ownId = flowIdOf(n);
        // Inside a pasted group ids are free already; elsewhere they get a fresh one.
        const newOwnId = newParent ? ownId : freshIdIn(ownId.replace(/-\d+$/, ''), scope, taken);
        const id = scope + newOwnId;
        taken.add(id);
        renamed.set(n.id, id);
        const position = newParent ? n.position : { x: n.position.x + 40, y: n.position.y + 40 };
        const { parentId: _p, extent: _e, expandParent: _x, ...rest } = n;
        // Notes are not held in by their group's frame (see `toNoteNode`).
        const placed = { ...rest, id, selected: !newParent, position, ...(parentId ? (isNote(n) ? { parentId } : { parentId, extent: 'parent' as const, expandParent: true }) : {}) };
        return isNote(n) ? ({ ...placed, data: { note: { ...n.data.note, id: newOwnId } } } as CanvasNode) : ({ ...placed, data: { ...n.data, node: { ...n.data.node, id: newOwnId } } } as CanvasNode);
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

/** `ids` and every node drawn inside them (a group's inner nodes, at any depth). */
export function withDescendants(nodes: readonly CanvasNode[], ids: ReadonlySet<string>): Set<string> {
  const all = new Set(ids);
  // Parents come before children in the list, so one pass finds every depth.
  for (const n of nodes) if (n.parentId !== undefined && all.has(n.parentId)) all.add(n.id);
  return all;
}

/** The canvas id prefix of the notes drawn in `parentId` (a group), or at the top. */
const noteScope = (parentId: string | undefined) => noteCanvasId('', parentId);

/**
 * A position in `group` (relative to it) for something placed at canvas position `at`, kept
 * below the group's header (its fold button stays reachable); `at` itself at the top.
 */
function inside(nodes: readonly CanvasNode[], group: CanvasNode | undefined, at: { x: number; y: number }): { x: number; y: number } {
  if (!group) return { x: Math.round(at.x), y: Math.round(at.y) };
  const origin = absolutePosition(nodes, group);
  return { x: Math.max(GROUP_PADDING / 2, Math.round(at.x - origin.x)), y: Math.max(GROUP_HEADER, Math.round(at.y - origin.y)) };
}

/** `nodes` with `note` added: a top-level note first, a group's right after its group (React Flow wants parents first). */
function withNote(nodes: readonly CanvasNode[], note: NoteCanvasNode): CanvasNode[] {
  if (note.parentId === undefined) return [note, ...nodes];
  const at = nodes.findIndex((n) => n.id === note.parentId);
  return [...nodes.slice(0, at + 1), note, ...nodes.slice(at + 1)];
}

/**
 * The note `id` made a note of the open group its middle lies in, or of the main flow: its
 * canvas id, own id (when taken there), parent and relative position change, the place on
 * screen stays (unless it was over the group's header). The group grows to hold it.
 */
function moveNoteToWhereItLies(nodes: CanvasNode[], id: string): CanvasNode[] {
  const byId = indexById(nodes);
  const note = byId.get(id);
  if (!note || !isNote(note)) return nodes;
  const at = absolutePosition(nodes, note, byId);
  const size = drawnSize(note);
  const group = groupAt(nodes, { x: at.x + size.width / 2, y: at.y + size.height / 2 }, { openOnly: true }, byId);
  if (group?.id === note.parentId) return growGroups(nodes, note.parentId);
  byId.delete(id);
  const ownId = note.data.note.id;
  const scope = noteScope(group?.id);
  const newOwnId = byId.has(scope + ownId) ? freshIdIn(ownId.replace(/-\d+$/, ''), scope, new Set(byId.keys())) : ownId;
  const { parentId: _p, ...rest } = note;
  const moved: NoteCanvasNode = { ...rest, id: scope + newOwnId, position: inside(nodes, group, at), data: { note: { ...note.data.note, id: newOwnId } }, ...(group ? { parentId: group.id } : {}) };
  return growGroups(withNote(nodes.filter((n) => n !== note), moved), group?.id);
}

/** A fresh id among the canvas ids starting with `scope` (a group's `<id>/`, `note:`, or '' for the top). */
function freshIdIn(stem: string, scope: string, taken: ReadonlySet<string>): string {
  const inScope = new Set<string>();
  for (const id of taken) if (id.startsWith(scope) && !id.slice(scope.length).includes('/')) inScope.add(id.slice(scope.length));
  return freshId(stem, inScope);
}

let nodeDocCache: { nodes: readonly CanvasNode[]; edges: readonly CanvasEdge[]; docs: Map<string, FlowNode | undefined> } | undefined;

/**
 * The flow node shown at canvas id `id` (a group with its inner flow put back together), the
 * same object while the canvas does not change: a selector (`useEditor((s) => flowNodeAt(s, id))`).
 */
export function flowNodeAt(s: Pick<EditorState, 'nodes' | 'edges'>, id: string): FlowNode | undefined {
  if (nodeDocCache?.nodes !== s.nodes || nodeDocCache.edges !== s.edges) nodeDocCache = { nodes: s.nodes, edges: s.edges, docs: new Map() };
  if (!nodeDocCache.docs.has(id)) nodeDocCache.docs.set(id, flowNodeOf(id, s.nodes, s.edges));
  return nodeDocCache.docs.get(id);
}
