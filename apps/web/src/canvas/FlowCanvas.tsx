import { Background, Controls, ReactFlow, type IsValidConnection } from '@xyflow/react';
import { useCallback, useMemo } from 'react';
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
/**
 * Flows past this size get a plain canvas, no dot grid: a pan/zoom frame re-rasters the whole
 * visible canvas, and the dots were half of it (bench:web, 500 nodes, full runs: 42-47 fps and
 * p95 33-50 ms with them, 55-56 fps and p95 33 ms without). Such a flow's nodes are reference
 * enough, and at its fitted zoom the dots are barely visible.
 */
const DOTS_UP_TO_NODES = 300;

export function FlowCanvas({ readOnly = false }: { readOnly?: boolean }) {
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const connect = useEditor((s) => s.connect);
  const refusal = useEditor((s) => s.connectionRefusal);
  const isValidConnection: IsValidConnection<CanvasEdge> = useCallback(
    (connection) => connectionProblem({ source: connection.source, target: connection.target, sourceHandle: connection.sourceHandle ?? null, targetHandle: connection.targetHandle ?? null }, useEditor.getState().nodes, useEditor.getState().edges) === null,
    [],
  );
  // Each edge names its target in the DOM, so RunningEdges can animate the edges into running
  // nodes with a stylesheet: a new edge array per run update made ReactFlow rebuild its edge
  // lookups and every edge's store selector run (~20 ms per update at 500 nodes, bench:web live).
  const shownEdges = useMemo(() => edges.map((e) => ({ ...e, domAttributes: { ...e.domAttributes, [TARGET_ATTRIBUTE]: e.target } })), [edges]);
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
          {nodes.length <= DOTS_UP_TO_NODES && <Background />}
          {/* Not xyflow's MiniMap: see CanvasMiniMap for why. */}
          <CanvasMiniMap />
          <Controls />
        </ReactFlow>
      </CanvasReadOnly.Provider>
      <RunningEdges />
      {refusal && (
        <div className="canvas-notice" role="status" data-testid="connection-refusal">
          {refusal}
        </div>
      )}
    </div>
  );
}

const TARGET_ATTRIBUTE = 'data-target';

/**
 * "Edges animate as data flows": the edges into running nodes get xyflow's `animated` dash
 * (same stroke and keyframes), by a generated stylesheet keyed on the edges' target attribute.
 * Only this component renders when the set of running nodes changes.
 */
function RunningEdges() {
  const activeEdges = useRun((s) => activeEdgeKey(s.state.nodes));
  if (!activeEdges) return null;
  const selectors = activeEdges.split(',').map((id) => `.react-flow__edge[${TARGET_ATTRIBUTE}="${cssString(id)}"] path.react-flow__edge-path`);
  return <style data-testid="running-edges">{`${selectors.join(',\n')} { stroke-dasharray: 5; animation: dashdraw 0.5s linear infinite; }`}</style>;
}

/** The inside of a double-quoted CSS string. */
const cssString = (text: string) => text.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\a ' : `\\${c}`));

/** Ids of running nodes as one string, so the selector's value only changes when the set does. */
function activeEdgeKey(nodes: Record<string, { status: string }>): string {
  const ids: string[] = [];
  // Inside a sub-flow's group, edges end at canvas ids (`sub/inner`), not logged ones (`sub/1/inner`).
  for (const [id, node] of Object.entries(nodes)) if (node.status === 'running') ids.push(canvasIdOfLogged(id) ?? id);
  return ids.sort().join(',');
}
