import { Background, Controls, ReactFlow, type IsValidConnection } from '@xyflow/react';
import { useCallback } from 'react';
import { connectionProblem } from '../flow/connect.js';
import type { CanvasEdge, CanvasNode } from '../flow/model.js';
import { useEditor } from '../stores/editor.js';
import { canvasIdOfLogged, useRun } from '../stores/run.js';
import { CanvasMiniMap } from './CanvasMiniMap.js';
import { LoomNode } from './LoomNode.js';
import { CanvasReadOnly, NoteNode } from './NoteNode.js';
import { SubflowGroup } from './SubflowGroup.js';

// Module-level: a new object per render would remount every node.
const nodeTypes = { loom: LoomNode, subflow: SubflowGroup, note: NoteNode };

/** Flows past this size render only what is on screen: beyond it, layout and paint dominate. */
const CULL_FROM_NODES = 800; // measured: below it, mounting nodes while zooming costs more than it saves

export function FlowCanvas({ readOnly = false }: { readOnly?: boolean }) {
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const connect = useEditor((s) => s.connect);
  const refusal = useEditor((s) => s.connectionRefusal);
  const activeEdges = useRun((s) => activeEdgeKey(s.state.nodes));
  const isValidConnection: IsValidConnection<CanvasEdge> = useCallback(
    (connection) => connectionProblem({ source: connection.source, target: connection.target, sourceHandle: connection.sourceHandle ?? null, targetHandle: connection.targetHandle ?? null }, useEditor.getState().nodes, useEditor.getState().edges) === null,
    [],
  );
  const running = new Set(activeEdges ? activeEdges.split(',') : []);
  const shownEdges = running.size ? edges.map((e) => (running.has(e.target) && !e.animated ? { ...e, animated: true } : e)) : edges;
  return (
    <div className="canvas" data-testid="canvas">
      <CanvasReadOnly.Provider value={readOnly}>
        <ReactFlow<CanvasNode, CanvasEdge>
          nodes={nodes}
          edges={shownEdges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={connect}
          isValidConnection={isValidConnection}
          nodesDraggable={!readOnly}
          nodesConnectable={!readOnly}
          elementsSelectable
          deleteKeyCode={null}
          onlyRenderVisibleElements={nodes.length > CULL_FROM_NODES}
          fitView
          fitViewOptions={{ maxZoom: 1 }}
          minZoom={0.05}
        >
          <Background />
          {/* Not xyflow's MiniMap: see CanvasMiniMap for why. */}
          <CanvasMiniMap />
          <Controls />
        </ReactFlow>
      </CanvasReadOnly.Provider>
      {refusal && (
        <div className="canvas-notice" role="status" data-testid="connection-refusal">
          {refusal}
        </div>
      )}
    </div>
  );
}

/** Ids of running nodes as one string, so the selector's value only changes when the set does. */
function activeEdgeKey(nodes: Record<string, { status: string }>): string {
  const ids: string[] = [];
  // Inside a sub-flow's group, edges end at canvas ids (`sub/inner`), not logged ones (`sub/1/inner`).
  for (const [id, node] of Object.entries(nodes)) if (node.status === 'running') ids.push(canvasIdOfLogged(id) ?? id);
  return ids.sort().join(',');
}
