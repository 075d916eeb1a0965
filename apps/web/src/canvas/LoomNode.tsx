import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowNode, NodeState } from '@loom/shared';
import { hasDefaultOutput, outputPorts, type FlowCanvasNode } from '../flow/model.js';
import { useRun, type NodeSummary } from '../stores/run.js';
import { countNodeRender } from './render-count.js';

export const KIND_LABEL: Record<FlowNode['kind'], string> = {
  input: 'Input',
  output: 'Output',
  skill: 'Skill',
  router: 'Router',
  merge: 'Merge',
  agent: 'Agent',
  chain: 'Chain',
  parallel: 'Parallel',
  master_worker: 'Master–worker',
  supervisor: 'Supervisor',
  coordinator: 'Coordinator',
  subflow: 'Sub-flow',
  mcp: 'MCP tool',
};

/** One line saying what the node does. */
export function summary(node: FlowNode): string {
  switch (node.kind) {
    case 'skill':
      return node.config.skill;
    case 'agent':
      return node.config.model;
    case 'mcp':
      return `${node.config.server} / ${node.config.tool}`;
    case 'router':
      return `${node.config.routes.length} route(s), else ${node.config.defaultPort}`;
    case 'merge':
      return node.config.mode;
    case 'input':
      return Object.keys(node.config.fields).join(', ') || 'any input';
    default:
      return node.description ?? '';
  }
}

/**
 * A node's live status and its summary (tasks, supervisor state, streamed text): lookups, not
 * scans. A node inside a sub-flow's group is logged under the sub-flow's task: `scoped` says where.
 */
export function useNodeRun(id: string): { node: NodeState | undefined; summary: NodeSummary | undefined } {
  const logged = useRun((s) => s.scoped[id] ?? id);
  const node = useRun((s) => s.state.nodes[logged]);
  const summary = useRun((s) => s.summaries[logged]);
  return { node, summary };
}

export function statusLabel(state: NodeState): string {
  if (state.status === 'failed' && state.retryInMs !== undefined) return `retrying in ${state.retryInMs} ms`;
  if (state.reused) return 'reused';
  return state.status;
}

/**
 * Summaries up to this length fit on the node's one line (210 px, 12 px text) even in wide
 * letters, so they are drawn without `overflow: hidden`: an overflow clip is a paint property
 * node, which Chromium's layerization walks on every pan/zoom frame (one per node at 500 nodes).
 */
const SUMMARY_FITS_CHARS = 18;

function LoomNodeView({ id, data, selected }: NodeProps<FlowCanvasNode>) {
  countNodeRender(id); // the canvas benchmark counts renders per run update
  const node = data.node;
  const run = useNodeRun(id);
  const status = run.node && run.node.status !== 'pending' ? run.node : undefined;
  const duration = status?.startedAt !== undefined && status.finishedAt !== undefined ? status.finishedAt - status.startedAt : undefined;
  const ports = outputPorts(node);
  const text = summary(node);
  const retrying = status?.status === 'failed' && status.retryInMs !== undefined;
  return (
    <div
      className={`loom-node kind-${node.kind} ${status ? `status-${retrying ? 'retrying' : status.status}` : ''} ${selected ? 'selected' : ''}`}
      data-testid={`node-${id}`}
      data-status={status ? (retrying ? 'retrying' : status.status) : 'idle'}
    >
      {node.kind !== 'input' && <Handle type="target" position={Position.Left} />}
      <div className="loom-node-kind">{KIND_LABEL[node.kind]}</div>
      <div className="loom-node-title">{node.name ?? node.id}</div>
      <div className={`loom-node-summary${text.length > SUMMARY_FITS_CHARS ? ' clipped' : ''}`}>{text}</div>
      {/* Always there, empty until the node runs: a row that appeared would resize the node,
          and React Flow would measure it again and redraw its edges, on every status change. */}
      {!status && <div className="loom-node-status" aria-hidden="true">{'\u00a0'}</div>}
      {status && (
        <div className="loom-node-status" data-testid={`node-status-${id}`}>
          <span className="badge">{statusLabel(status)}</span>
          {status.attempt > 1 && <span> attempt {status.attempt}</span>}
          {duration !== undefined && <span> · {duration} ms</span>}
          {run.summary?.wave && <span data-testid={`node-wave-${id}`}> · {run.summary.wave}</span>}
          {run.summary && run.summary.tasksTotal > 0 && (
            <span data-testid={`node-tasks-${id}`}>
              {' '}
              · {run.summary.tasksDone}/{run.summary.tasksTotal} tasks
            </span>
          )}
        </div>
      )}
      {run.summary?.phase && (
        <div className="loom-node-phase" data-testid={`node-phase-${id}`}>
          {run.summary.phase}
        </div>
      )}
      {run.summary?.streaming && (
        <div className="loom-node-stream" data-testid={`node-stream-${id}`} aria-live="polite">
          {run.summary.streaming}
        </div>
      )}
      {status?.error && <div className="loom-node-error" title={status.error.message}>{status.error.message}</div>}
      {hasDefaultOutput(node) && <Handle type="source" position={Position.Right} />}
      {ports.map((port, i) => (
        <Handle key={port} id={port} type="source" position={Position.Right} style={{ top: `${((i + 1) * 100) / (ports.length + 1)}%` }}>
          <span className="port-label">{port}</span>
        </Handle>
      ))}
    </div>
  );
}

// Only what the view uses: React Flow also passes the measured size and position, which
// change after a status row appears and would render every resized node twice.
export const LoomNode = memo(LoomNodeView, (a, b) => a.id === b.id && a.data === b.data && a.selected === b.selected);
