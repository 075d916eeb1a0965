import type { ELK } from 'elkjs/lib/elk-api.js';
import type { CanvasEdge, CanvasNode } from './model.js';

// elkjs is large (~1.4 MB): loaded the first time someone asks for a layout.
let elk: Promise<ELK> | undefined;
const loadElk = () => (elk ??= import('elkjs/lib/elk.bundled.js').then(({ default: Elk }) => new Elk()));

/** Left-to-right layered layout (elkjs) of the main flow; positions by node id. */
export async function autoLayout(nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): Promise<Map<string, { x: number; y: number }>> {
  const graph = await (await loadElk()).layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '80',
      'elk.spacing.nodeNode': '40',
    },
    // The main flow's nodes (a group moves with what it holds); notes stay where they are.
    children: nodes.filter((n) => n.parentId === undefined && n.type !== 'note').map((n) => ({ id: n.id, width: n.measured?.width ?? n.width ?? 200, height: n.measured?.height ?? n.height ?? 80 })),
    edges: edges.filter((e) => !e.source.includes('/')).map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  return new Map((graph.children ?? []).map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0 }]));
}
