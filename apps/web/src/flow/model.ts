import type { Edge, Node } from '@xyflow/react';
import { FlowNote, type Flow, type FlowEdge, type FlowNode, type NodeOf } from '@loom/shared';

/**
 * What a flow node's canvas node carries: the flow node itself (position lives on the canvas
 * node). A sub-flow is drawn as a group (`type: 'subflow'`) whose inner nodes are canvas nodes
 * of their own (`parentId`); its `config.flow` then keeps only the inner flow's other fields,
 * its nodes and edges being the group's children.
 */
export type LoomNodeData = { node: FlowNode; collapsed?: boolean };
export type FlowCanvasNode = Node<LoomNodeData, 'loom' | 'subflow'>;
/** A sticky note. Its id, text and colour; position and size are the canvas node's. */
export type NoteData = { note: Pick<FlowNote, 'id' | 'text' | 'color'> };
export type NoteCanvasNode = Node<NoteData, 'note'>;
export type CanvasNode = FlowCanvasNode | NoteCanvasNode;
export type CanvasEdge = Edge<{ toPort?: string }>;

/** The colours a note may have (the first is the default). */
export const NOTE_COLORS = FlowNote.shape.color.unwrap().options;

export const isFlowNode = (n: CanvasNode): n is FlowCanvasNode => n.type !== 'note';
export const isNote = (n: CanvasNode): n is NoteCanvasNode => n.type === 'note';

const GRID_X = 270;
const GRID_Y = 120;
/** A node's drawn size (styles.css `.loom-node`), for sizing groups before React Flow measures. */
export const NODE_WIDTH = 233;
export const NODE_HEIGHT = 90;
/** Room above a group's inner nodes for its header, and around them. */
export const GROUP_HEADER = 64;
export const GROUP_PADDING = 24;
/** A collapsed group is drawn like a node. */
export const COLLAPSED_SIZE = { width: NODE_WIDTH, height: 96 };

/** A note's size before anyone resizes it. */
export const NOTE_SIZE = { width: 200, height: 120 };

/**
 * Canvas ids of notes: `note:` cannot start a node id, so the two never clash. A sub-flow's
 * own notes are drawn inside its group as `<group>/note:<id>`.
 */
export const NOTE_PREFIX = 'note:';
export const noteCanvasId = (id: string, parentId?: string) => scopedId(parentId, `${NOTE_PREFIX}${id}`);
/** Notes are drawn above groups and their inner nodes (else a note dropped on a group vanishes under it). */
export const NOTE_Z = 5;

/** The canvas id of a node of the flow drawn inside `parentId` (a group), or at the top. */
export const scopedId = (parentId: string | undefined, id: string) => (parentId ? `${parentId}/${id}` : id);

/** The id a canvas node has in its own flow (the node's id, or the note's). */
export const flowIdOf = (n: CanvasNode): string => (isNote(n) ? n.data.note.id : n.data.node.id);

/**
 * Canvas nodes and edges for a flow: notes first (drawn under nodes), then each node, a
 * group's inner nodes right after it (React Flow wants parents first). Nodes without a saved
 * position get a simple left-to-right layout by depth.
 */
export function toCanvas(flow: Flow, collapsed: ReadonlySet<string> = new Set()): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const nodes: CanvasNode[] = (flow.notes ?? []).map((note) => toNoteNode(note));
  const edges: CanvasEdge[] = [];
  addFlow(flow, undefined, nodes, edges, collapsed);
  return { nodes, edges };
}

/** The canvas nodes and edges of one flow node placed at `position` (a group brings its inner nodes). */
export function nodeToCanvas(node: FlowNode, position: { x: number; y: number }, parentId?: string, collapsed: ReadonlySet<string> = new Set()): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const nodes: CanvasNode[] = [];
  const edges: CanvasEdge[] = [];
  addFlow({ nodes: [{ ...node, position }], edges: [] }, parentId, nodes, edges, collapsed);
  return { nodes, edges };
}

/**
 * A note's canvas node; inside a group (a sub-flow's own notes) its position is relative to
 * the group. Not held in by the frame (no `extent`): dragged out, it becomes a note of where
 * it lands (`reparentNotes`).
 */
export function toNoteNode(note: FlowNote, parentId?: string, hidden = false): NoteCanvasNode {
  const { position, size, ...rest } = note;
  return {
    id: noteCanvasId(note.id, parentId),
    type: 'note',
    position,
    zIndex: NOTE_Z,
    data: { note: rest },
    ...(size ? { width: size.width, height: size.height } : {}),
    ...(parentId ? { parentId } : {}),
    ...(hidden ? { hidden: true } : {}),
  };
}

/** Adds a flow's nodes and edges, drawn inside the group `parentId` when given (with the sub-flow's notes). */
function addFlow(flow: Pick<Flow, 'nodes' | 'edges' | 'notes'>, parentId: string | undefined, nodes: CanvasNode[], edges: CanvasEdge[], collapsed: ReadonlySet<string>, hidden = false): void {
  // The top level's notes are drawn by `toCanvas`; a group's come first among its children.
  if (parentId) for (const note of flow.notes ?? []) nodes.push(toNoteNode(note, parentId, hidden));
  const inner = parentId ? { parentId, extent: 'parent' as const, expandParent: true, ...(hidden ? { hidden: true } : {}) } : {};
  // First each node with its size (a group's depends on what it holds), then the places of
  // those without a saved one: columns by depth, as wide as their widest node.
  const built = flow.nodes.map((node) => {
    const { position: saved, ...rest } = node;
    const id = scopedId(parentId, node.id);
    if (rest.kind !== 'subflow') return { id, saved, size: { width: NODE_WIDTH, height: NODE_HEIGHT }, canvas: [{ id, type: 'loom', position: { x: 0, y: 0 }, data: { node: rest as FlowNode }, ...inner }] as CanvasNode[], innerEdges: [] as CanvasEdge[] };
    const isCollapsed = collapsed.has(id);
    const children: CanvasNode[] = [];
    const innerEdges: CanvasEdge[] = [];
    addFlow(rest.config.flow, id, children, innerEdges, collapsed, hidden || isCollapsed);
    const size = isCollapsed ? COLLAPSED_SIZE : groupSize(children.filter((n) => n.parentId === id));
    const group: FlowCanvasNode = { id, type: 'subflow', position: { x: 0, y: 0 }, data: { node: groupShell(rest as NodeOf<'subflow'>), ...(isCollapsed ? { collapsed: true } : {}) }, ...size, ...inner };
    return { id, saved, size, canvas: [group, ...children], innerEdges };
  });
  const depth = depths(flow);
  const columnWidth: number[] = [];
  for (const b of built) {
    const column = depth.get(flowIdOf(b.canvas[0]!)) ?? 0;
    if (!b.saved) columnWidth[column] = Math.max(columnWidth[column] ?? NODE_WIDTH, b.size.width);
  }
  const columnX = (column: number) => {
    let x = 0;
    for (let c = 0; c < column; c++) x += (columnWidth[c] ?? NODE_WIDTH) + GRID_X - NODE_WIDTH;
    return x;
  };
  const origin = parentId ? { x: GROUP_PADDING, y: GROUP_HEADER } : { x: 0, y: 0 };
  const nextY = new Map<number, number>();
  for (const b of built) {
    const [head, ...rest] = b.canvas;
    let position = b.saved;
    if (!position) {
      const column = depth.get(flowIdOf(head!)) ?? 0;
      const y = nextY.get(column) ?? 0;
      nextY.set(column, y + b.size.height + GRID_Y - NODE_HEIGHT);
      position = { x: origin.x + columnX(column), y: origin.y + y };
    }
    nodes.push({ ...head!, position }, ...rest);
    edges.push(...b.innerEdges);
  }
  for (const edge of flow.edges) edges.push(toCanvasEdge(edge, parentId));
}

/**
 * The sub-flow node as its group keeps it: its inner nodes, edges and notes are the group's
 * children. An inner flow that had a `notes` list keeps an empty one, so a flow saved with
 * `notes: []` comes back the same.
 */
function groupShell(node: NodeOf<'subflow'>): NodeOf<'subflow'> {
  const { notes, ...flow } = node.config.flow;
  return { ...node, config: { ...node.config, flow: { ...flow, nodes: [], edges: [], ...(notes ? { notes: [] } : {}) } } };
}

/** A group just big enough for its inner nodes (their measured size once drawn). */
export function groupSize(children: readonly CanvasNode[]): { width: number; height: number } {
  let width = NODE_WIDTH + 2 * GROUP_PADDING;
  let height = GROUP_HEADER + NODE_HEIGHT + GROUP_PADDING;
  for (const child of children) {
    const size = drawnSize(child);
    width = Math.max(width, child.position.x + size.width + GROUP_PADDING);
    height = Math.max(height, child.position.y + size.height + GROUP_PADDING);
  }
  return { width: Math.round(width), height: Math.round(height) };
}

/** A canvas node's size: measured once drawn, else what it is drawn at. */
export function drawnSize(n: CanvasNode): { width: number; height: number } {
  const fallback = isNote(n) ? NOTE_SIZE : n.type === 'subflow' && n.data.collapsed ? COLLAPSED_SIZE : { width: NODE_WIDTH, height: NODE_HEIGHT };
  return { width: n.measured?.width ?? n.width ?? fallback.width, height: n.measured?.height ?? n.height ?? fallback.height };
}

export function edgeId(edge: Pick<FlowEdge, 'from' | 'to' | 'fromPort' | 'toPort'>): string {
  return `${edge.from}${edge.fromPort ? `:${edge.fromPort}` : ''}->${edge.to}${edge.toPort ? `:${edge.toPort}` : ''}`;
}

/** A flow edge on the canvas; inside a group, its ends are the group's inner nodes. */
export function toCanvasEdge(edge: FlowEdge, parentId?: string): CanvasEdge {
  const scoped = parentId ? { ...edge, from: scopedId(parentId, edge.from), to: scopedId(parentId, edge.to) } : edge;
  return {
    id: parentId ? edgeId(scoped) : (edge.id ?? edgeId(edge)),
    source: scoped.from,
    target: scoped.to,
    sourceHandle: edge.fromPort ?? null,
    targetHandle: null,
    // The source handle already names `fromPort`; the label names the value's key at the target.
    ...(edge.toPort ? { data: { toPort: edge.toPort }, label: edge.toPort } : {}),
  };
}

/**
 * The flow document for the canvas state: nodes in canvas order, edges and positions as
 * drawn; a group's inner nodes and edges go back into its `config.flow`, notes into `notes`.
 */
export function fromCanvas(base: Omit<Flow, 'nodes' | 'edges'>, nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): Flow {
  const { notes: _notes, ...meta } = base;
  const tree = canvasTree(nodes, edges);
  const notes = (tree.notes.get('') ?? []).map(toFlowNote);
  return { ...meta, ...flowPartsOf(tree, ''), ...(notes.length ? { notes } : {}) };
}

/** The flow node a canvas node stands for; for a group, with its inner flow put back together. */
export function flowNodeOf(id: string, nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): FlowNode | undefined {
  const found = nodes.find((n) => n.id === id);
  if (!found || !isFlowNode(found)) return undefined;
  if (found.type !== 'subflow') return found.data.node;
  return toFlowNode(found, canvasTree(nodes, edges), false);
}

interface CanvasTree {
  children: Map<string, FlowCanvasNode[]>;
  notes: Map<string, NoteCanvasNode[]>;
  edges: Map<string, CanvasEdge[]>;
  byId: Map<string, FlowCanvasNode>;
}

/** Flow nodes and edges by the group they are drawn in ('' for the top). */
function canvasTree(nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): CanvasTree {
  const tree: CanvasTree = { children: new Map(), notes: new Map(), edges: new Map(), byId: new Map() };
  for (const n of nodes) {
    if (isNote(n)) {
      const scope = n.parentId ?? '';
      const list = tree.notes.get(scope);
      if (list) list.push(n);
      else tree.notes.set(scope, [n]);
      continue;
    }
    tree.byId.set(n.id, n);
    const scope = n.parentId ?? '';
    const list = tree.children.get(scope);
    if (list) list.push(n);
    else tree.children.set(scope, [n]);
  }
  for (const e of edges) {
    const scope = tree.byId.get(e.source)?.parentId ?? '';
    const list = tree.edges.get(scope);
    if (list) list.push(e);
    else tree.edges.set(scope, [e]);
  }
  return tree;
}

function flowPartsOf(tree: CanvasTree, scope: string): Pick<Flow, 'nodes' | 'edges'> {
  return {
    nodes: (tree.children.get(scope) ?? []).map((n) => toFlowNode(n, tree, true)),
    edges: (tree.edges.get(scope) ?? []).map((e) => {
      const edge: FlowEdge = { from: tree.byId.get(e.source)?.data.node.id ?? e.source, to: tree.byId.get(e.target)?.data.node.id ?? e.target };
      if (e.sourceHandle) edge.fromPort = e.sourceHandle;
      if (e.data?.toPort) edge.toPort = e.data.toPort;
      return edge;
    }),
  };
}

function toFlowNode(n: FlowCanvasNode, tree: CanvasTree, withPosition: boolean): FlowNode {
  const position = withPosition ? { position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } } : {};
  const node = n.data.node;
  if (node.kind !== 'subflow') return { ...node, ...position } as FlowNode;
  const notes = (tree.notes.get(n.id) ?? []).map(toFlowNote);
  return { ...node, ...position, config: { ...node.config, flow: { ...node.config.flow, ...flowPartsOf(tree, n.id), ...(notes.length ? { notes } : {}) } } } as FlowNode;
}

function toFlowNote(n: NoteCanvasNode): FlowNote {
  const note: FlowNote = { ...n.data.note, position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } };
  if (n.width !== undefined && n.height !== undefined) note.size = { width: Math.round(n.width), height: Math.round(n.height) };
  // Key order as the schema lists it, so a saved file reads the same as a hand-written one.
  const { id, text, position, size, color } = note;
  return { id, text, position, ...(size ? { size } : {}), ...(color ? { color } : {}) };
}

/** Output ports a node offers besides its default one: a router's routes, `error` when it continues on error. */
export function outputPorts(node: FlowNode): string[] {
  const ports: string[] = [];
  if (node.kind === 'router') {
    for (const route of node.config.routes) if (!ports.includes(route.port)) ports.push(route.port);
    if (!ports.includes(node.config.defaultPort)) ports.push(node.config.defaultPort);
  }
  if (node.onError === 'continue') ports.push('error');
  return ports;
}

/** Whether the node sends its output out of an unnamed port (routers only use named ones). */
export function hasDefaultOutput(node: FlowNode): boolean {
  return node.kind !== 'router' && node.kind !== 'output';
}

function depths(flow: Pick<Flow, 'nodes' | 'edges'>): Map<string, number> {
  const incoming = new Map<string, string[]>();
  for (const e of flow.edges) incoming.set(e.to, [...(incoming.get(e.to) ?? []), e.from]);
  const depth = new Map<string, number>();
  const visit = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle: the graph check reports it
    seen.add(id);
    const d = Math.max(-1, ...(incoming.get(id) ?? []).map((from) => visit(from, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  for (const node of flow.nodes) visit(node.id, new Set());
  return depth;
}
