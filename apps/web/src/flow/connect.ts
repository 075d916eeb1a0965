import type { Connection } from '@xyflow/react';
import { isFlowNode, type CanvasEdge, type CanvasNode } from './model.js';

/** Why a connection is refused, or null when it may be made. Shown to the person as they drag. */
export function connectionProblem(connection: Connection, nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): string | null {
  const { source, target } = connection;
  if (!source || !target) return 'connect an output handle to an input handle';
  if (source === target) return 'a node cannot feed itself';
  const fromCanvas = nodes.find((n) => n.id === source);
  const toCanvas = nodes.find((n) => n.id === target);
  if (!fromCanvas || !toCanvas || !isFlowNode(fromCanvas) || !isFlowNode(toCanvas)) return 'both ends must be nodes of this flow';
  if (fromCanvas.parentId !== toCanvas.parentId) {
    const where = (parentId: string | undefined) => (parentId ? `inside the sub-flow "${parentId}"` : 'in the main flow');
    return `"${source}" is ${where(fromCanvas.parentId)} and "${target}" is ${where(toCanvas.parentId)}: edges join nodes of the same flow (a sub-flow takes its input through its input node)`;
  }
  const from = fromCanvas.data.node;
  const to = toCanvas.data.node;
  if (from.kind === 'output') return `"${source}" is an output node: it ends the flow and has no outgoing edges`;
  if (to.kind === 'input') return `"${target}" is an input node: it takes the run input, not edges`;
  if (edges.some((e) => e.source === source && e.target === target && (e.sourceHandle ?? null) === (connection.sourceHandle ?? null))) {
    return `"${source}" is already connected to "${target}" this way`;
  }
  // A flow is a DAG: refuse an edge that would close a cycle (target already reaches source).
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === source) return `this edge would make a cycle (${target} already leads to ${source}); flows run left to right`;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return null;
}
