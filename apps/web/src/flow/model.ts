import type { Edge, Node } from '@xyflow/react';
import type { Flow, FlowEdge, FlowNode } from '@loom/shared';

/** What a canvas node carries: the flow node itself. Position lives on the canvas node. */
export type LoomNodeData = { node: FlowNode };
export type CanvasNode = Node<LoomNodeData, 'loom'>;
export type CanvasEdge = Edge<{ toPort?: string }>;

const GRID_X = 270;
const GRID_Y = 120;

/** Canvas nodes and edges for a flow. Nodes without a saved position get a simple left-to-right layout by depth. */
export function toCanvas(flow: Flow): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const depth = depths(flow);
  const rowAt = new Map<number, number>();
  const nodes: CanvasNode[] = flow.nodes.map((node) => {
    let position = node.position;
    if (!position) {
      const column = depth.get(node.id) ?? 0;
      const row = rowAt.get(column) ?? 0;
      rowAt.set(column, row + 1);
      position = { x: column * GRID_X, y: row * GRID_Y };
    }
    const { position: _saved, ...rest } = node;
    return { id: node.id, type: 'loom', position, data: { node: rest as FlowNode } };
  });
  return { nodes, edges: flow.edges.map(toCanvasEdge) };
}

export function edgeId(edge: Pick<FlowEdge, 'from' | 'to' | 'fromPort' | 'toPort'>): string {
  return `${edge.from}${edge.fromPort ? `:${edge.fromPort}` : ''}->${edge.to}${edge.toPort ? `:${edge.toPort}` : ''}`;
}

export function toCanvasEdge(edge: FlowEdge): CanvasEdge {
  return {
    id: edge.id ?? edgeId(edge),
    source: edge.from,
    target: edge.to,
    sourceHandle: edge.fromPort ?? null,
    targetHandle: null,
    // The source handle already names `fromPort`; the label names the value's key at the target.
    ...(edge.toPort ? { data: { toPort: edge.toPort }, label: edge.toPort } : {}),
  };
}

/** The flow document for the canvas state: node order, edges and positions as drawn. */
export function fromCanvas(base: Omit<Flow, 'nodes' | 'edges'>, nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): Flow {
  return {
    ...base,
    nodes: nodes.map((n) => ({ ...n.data.node, id: n.id, position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } }) as FlowNode),
    edges: edges.map((e) => {
      const edge: FlowEdge = { from: e.source, to: e.target };
      if (e.sourceHandle) edge.fromPort = e.sourceHandle;
      if (e.data?.toPort) edge.toPort = e.data.toPort;
      return edge;
    }),
  };
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

function depths(flow: Flow): Map<string, number> {
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
