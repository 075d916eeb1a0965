import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowNode, NodeState } from '@loom/shared';
import { hasDefaultOutput, outputPorts, type CanvasNode } from '../flow/model.js';
import { useRun } from '../stores/run.js';
import { countNodeRender } from './render-count.js';

const KIND_LABEL: Record<FlowNode['kind'], string> = {
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
};

/** One line saying what the node does. */
function summary(node: FlowNode): string {
  switch (node.kind) {
    case 'skill':
      return node.config.skill;
    case 'agent':
      return node.config.model;
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

/** A node's live status, with what its tasks have done so far (patterns). */
function useNodeRun(id: string): { node: NodeState | undefined; tasks: { done: number; total: number } | undefined; phase: string; streaming: string } {
  const node = useRun((s) => s.state.nodes[id]);
  const tasks = useRun((s) => {
    let total = 0;
    let done = 0;
    for (const task of Object.values(s.state.tasks)) {
      // The node's own tasks: not those nested under another of its tasks.
      if (task.nodeId !== id || (task.parentTaskId !== undefined && task.parentTaskId in s.state.tasks)) continue;
      total++;
      if (task.status !== 'running') done++;
    }
    return total ? `${done}/${total}` : '';
  });
  // The supervisor's current state machine state, from its latest supervision entry.
  const phase = useRun((s) => {
    for (let i = s.state.supervision.length - 1; i >= 0; i--) if (s.state.supervision[i]!.nodeId === id) return `${s.state.supervision[i]!.state} · step ${s.state.supervision[i]!.step}`;
    return '';
  });
  // What the node's model is writing right now (its latest stream), the end of it.
  const streaming = useRun((s) => {
    let text = '';
    for (const stream of Object.values(s.state.streams)) if (stream.nodeId === id) text = stream.text;
    return text.slice(-160);
  });
  const [done, total] = tasks ? tasks.split('/').map(Number) : [];
  return { node, tasks: tasks ? { done: done!, total: total! } : undefined, phase, streaming };
}

function statusLabel(state: NodeState): string {
  if (state.status === 'failed' && state.retryInMs !== undefined) return `retrying in ${state.retryInMs} ms`;
  if (state.reused) return 'reused';
  return state.status;
}

function LoomNodeView({ id, data, selected }: NodeProps<CanvasNode>) {
  countNodeRender(id); // the canvas benchmark counts renders per run update
  const node = data.node;
  const run = useNodeRun(id);
  const status = run.node && run.node.status !== 'pending' ? run.node : undefined;
  const duration = status?.startedAt !== undefined && status.finishedAt !== undefined ? status.finishedAt - status.startedAt : undefined;
  const ports = outputPorts(node);
  const retrying = status?.status === 'failed' && status.retryInMs !== undefined;
  return (
    <div
      className={`loom-node kind-${node.kind} ${status ? `status-${retrying ? 'retrying' : status.status}` : ''} ${selected ? 'selected' : ''}`}
      data-testid={`node-${id}`}
      data-status={status ? (retrying ? 'retrying' : status.status) : 'idle'}
    >
      {node.kind !== 'input' && <Handle type="target" position={Position.Left} />}
      <div className="loom-node-kind">{KIND_LABEL[node.kind]}</div>
      <div className="loom-node-title">{node.name ?? id}</div>
      <div className="loom-node-summary">{summary(node)}</div>
      {status && (
        <div className="loom-node-status" data-testid={`node-status-${id}`}>
          <span className="badge">{statusLabel(status)}</span>
          {status.attempt > 1 && <span> attempt {status.attempt}</span>}
          {duration !== undefined && <span> · {duration} ms</span>}
          {run.tasks && <span data-testid={`node-tasks-${id}`}> · {run.tasks.done}/{run.tasks.total} tasks</span>}
        </div>
      )}
      {run.phase && (
        <div className="loom-node-phase" data-testid={`node-phase-${id}`}>
          {run.phase}
        </div>
      )}
      {run.streaming && (
        <div className="loom-node-stream" data-testid={`node-stream-${id}`} aria-live="polite">
          {run.streaming}
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

export const LoomNode = memo(LoomNodeView);
