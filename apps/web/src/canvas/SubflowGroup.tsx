import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowCanvasNode } from '../flow/model.js';
import { useEditor } from '../stores/editor.js';
import { useRun } from '../stores/run.js';
import { statusLabel, useNodeRun } from './LoomNode.js';
import { countNodeRender } from './render-count.js';

const FINAL = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

/**
 * A sub-flow drawn as a group: a framed area whose inner nodes and edges are React Flow
 * children (`parentId`), so a person sees what runs inside. The header carries the node's
 * own handles, its live status and how many inner nodes have finished; it folds the group
 * into a node-sized box and opens it again.
 */
function SubflowGroupView({ id, data, selected }: NodeProps<FlowCanvasNode>) {
  countNodeRender(id);
  const node = data.node;
  const run = useNodeRun(id);
  const status = run.node && run.node.status !== 'pending' ? run.node : undefined;
  const retrying = status?.status === 'failed' && status.retryInMs !== undefined;
  // The direct inner nodes' canvas ids (not the sub-flow's notes), as one string so the selector's value is stable.
  const childKey = useEditor((s) => {
    let key = '';
    for (const n of s.nodes) if (n.parentId === id && n.type !== 'note') key += (key ? '\n' : '') + n.id;
    return key;
  });
  const progress = useRun((s) => {
    if (!childKey) return '';
    const children = childKey.split('\n');
    let done = 0;
    let started = false;
    for (const child of children) {
      const state = s.state.nodes[s.scoped[child] ?? child];
      if (state) started = true;
      if (state && FINAL.has(state.status)) done++;
    }
    return started ? `${done}/${children.length} inner nodes done` : '';
  });
  // Which inner nodes failed for good (their latest attempt), so a person sees where the sub-flow broke.
  const failedInner = useRun((s) => {
    if (!childKey) return '';
    let key = '';
    for (const child of childKey.split('\n')) {
      const state = s.state.nodes[s.scoped[child] ?? child];
      if (state?.status === 'failed' && state.retryInMs === undefined) key += (key ? '\n' : '') + child;
    }
    return key;
  });
  const inner = node.kind === 'subflow' ? node.config.flow : undefined;
  const count = childKey ? childKey.split('\n').length : 0;
  return (
    <div
      className={`loom-group ${data.collapsed ? 'collapsed' : ''} ${status ? `status-${retrying ? 'retrying' : status.status}` : ''} ${selected ? 'selected' : ''}`}
      data-testid={`node-${id}`}
      data-status={status ? (retrying ? 'retrying' : status.status) : 'idle'}
      data-collapsed={data.collapsed ? 'true' : 'false'}
    >
      <Handle type="target" position={Position.Left} style={{ top: 28 }} />
      <div className="loom-group-header">
        <button
          className="loom-group-toggle nodrag"
          onClick={() => useEditor.getState().toggleGroup(id)}
          title={data.collapsed ? 'Show the inner flow' : 'Fold the inner flow'}
          aria-label={data.collapsed ? 'Expand sub-flow' : 'Collapse sub-flow'}
          aria-expanded={!data.collapsed}
          data-testid={`group-toggle-${id}`}
        >
          {data.collapsed ? '▸' : '▾'}
        </button>
        <div className="loom-group-titles">
          <div className="loom-node-kind">Sub-flow{inner ? ` · ${inner.name}` : ''}</div>
          <div className="loom-node-title">{node.name ?? node.id}</div>
        </div>
      </div>
      <div className="loom-group-status" data-testid={`node-status-${id}`} title={status?.error?.message}>
        {status && <span className="badge">{statusLabel(status)}</span>}
        {status && status.attempt > 1 && <span> attempt {status.attempt}</span>}
        {failedInner && (
          // In the status row: a line of its own would fall under the inner nodes (drawn over the group).
          <span className="loom-group-failed nodrag" data-testid={`group-failed-${id}`}>
            {status?.status === 'failed' ? ' at ' : ' · failed: '}
            {failedInner.split('\n').map((child, i) => (
              <span key={child}>
                {i > 0 && ', '}
                {/* Selects the inner node (opening the group when folded); not the group, as a click on it would. */}
                <button className="link" onClick={(e) => (e.stopPropagation(), useEditor.getState().showNode(child))} title={`Select ${child}`} data-testid={`group-failed-link-${child}`}>
                  {child.slice(id.length + 1)}
                </button>
              </span>
            ))}
          </span>
        )}
        {progress ? (
          <span data-testid={`group-progress-${id}`}> {progress}</span>
        ) : (
          <span className="muted">
            {' '}
            {count} inner node{count === 1 ? '' : 's'}
            {data.collapsed ? ' (folded)' : ''}
          </span>
        )}
      </div>
      {/* Open, the line would fall under the inner nodes: the status row's tooltip and the run panel say it. */}
      {status?.error && data.collapsed && (
        <div className="loom-node-error" title={status.error.message}>
          {status.error.message}
        </div>
      )}
      <Handle type="source" position={Position.Right} style={{ top: 28 }} />
    </div>
  );
}

export const SubflowGroup = memo(SubflowGroupView, (a, b) => a.id === b.id && a.data === b.data && a.selected === b.selected);
