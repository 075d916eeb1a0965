import { drawnSize, groupSize, isFlowNode, type CanvasNode, type FlowCanvasNode } from './model.js';

type Point = { x: number; y: number };

/**
 * Where things land on a canvas with groups: canvas positions of inner nodes are relative to
 * their group (React Flow's `parentId`), so placing something by where it is on screen needs
 * the absolute positions of the groups around it.
 */

/** A node's position on the canvas (its own plus those of the groups it is drawn in). */
export function absolutePosition(nodes: readonly CanvasNode[], node: CanvasNode, byId = indexById(nodes)): Point {
  let x = node.position.x;
  let y = node.position.y;
  for (let parent = node.parentId && byId.get(node.parentId); parent; parent = parent.parentId && byId.get(parent.parentId)) {
    x += parent.position.x;
    y += parent.position.y;
  }
  return { x, y };
}

/** How deep a node is drawn: 0 at the top, 1 inside a group, and so on. */
function depthOf(node: CanvasNode, byId: ReadonlyMap<string, CanvasNode>): number {
  let depth = 0;
  for (let parent = node.parentId && byId.get(node.parentId); parent; parent = parent.parentId && byId.get(parent.parentId)) depth++;
  return depth;
}

/**
 * The innermost shown group whose frame holds `point` (canvas coordinates), or undefined. A
 * folded group counts (it is drawn, node-sized) unless `openOnly`: callers decide what
 * dropping on one means.
 */
export function groupAt(nodes: readonly CanvasNode[], point: Point, { openOnly = false } = {}, byId = indexById(nodes)): FlowCanvasNode | undefined {
  let found: FlowCanvasNode | undefined;
  let foundDepth = -1;
  for (const n of nodes) {
    if (n.type !== 'subflow' || n.hidden || !isFlowNode(n) || (openOnly && n.data.collapsed)) continue;
    const at = absolutePosition(nodes, n, byId);
    const size = drawnSize(n);
    if (point.x < at.x || point.y < at.y || point.x > at.x + size.width || point.y > at.y + size.height) continue;
    const depth = depthOf(n, byId);
    if (depth > foundDepth) {
      found = n;
      foundDepth = depth;
    }
  }
  return found;
}

/**
 * `nodes` with the open group `groupId` and the open groups around it grown to hold their
 * children (never shrunk: a person may have made a group roomy on purpose). Unchanged groups
 * keep their objects.
 */
export function growGroups(nodes: readonly CanvasNode[], groupId: string | undefined): CanvasNode[] {
  let next = nodes.slice();
  for (let id = groupId; id !== undefined; ) {
    const at = next.findIndex((n) => n.id === id);
    const group = next[at];
    if (!group || group.type !== 'subflow' || !isFlowNode(group) || group.data.collapsed) break;
    const fits = groupSize(next.filter((n) => n.parentId === id));
    const current = drawnSize(group);
    if (fits.width > current.width || fits.height > current.height) {
      const width = Math.max(fits.width, current.width);
      const height = Math.max(fits.height, current.height);
      next[at] = { ...group, width, height, ...(group.measured ? { measured: { width, height } } : {}) };
    }
    id = group.parentId;
  }
  return next;
}

export function indexById(nodes: readonly CanvasNode[]): Map<string, CanvasNode> {
  return new Map(nodes.map((n) => [n.id, n]));
}
