import type { RunEvent, RunState } from '@loom/shared';

const MARK = { succeeded: '✓', failed: '✗', skipped: '-', cancelled: '■', running: '…', pending: ' ' } as const;

/** One progress line for an event, or nothing for events a person need not see live. */
export function describeEvent(event: RunEvent, started: Map<string, number>): string | undefined {
  switch (event.type) {
    case 'run.started':
      return `run ${event.runId} of flow "${event.flowId}" (${event.nodeIds.length} nodes)`;
    case 'node.status': {
      if (event.status === 'running') {
        if (!started.has(event.nodeId)) started.set(event.nodeId, event.ts);
        return event.attempt > 1 ? `${MARK.running} ${event.nodeId}: attempt ${event.attempt}` : undefined;
      }
      const took = started.has(event.nodeId) ? ` (${event.ts - started.get(event.nodeId)!} ms)` : '';
      if (event.status === 'failed' && event.retryInMs !== undefined) {
        return `${MARK.failed} ${event.nodeId}: attempt ${event.attempt} failed: ${event.error?.message ?? 'error'}; retrying in ${event.retryInMs} ms`;
      }
      if (event.status === 'failed') {
        return `${MARK.failed} ${event.nodeId}${took}: ${event.error?.message ?? 'failed'}${event.ports?.includes('error') ? ' (continuing through its error port)' : ''}`;
      }
      if (event.status === 'pending') return undefined;
      return `${MARK[event.status]} ${event.nodeId}${event.status === 'succeeded' ? took : ` ${event.status}`}`;
    }
    case 'llm.response':
      return `  ${event.nodeId}: ${event.provider}/${event.model} answered (${event.tokens.input} tokens in, ${event.tokens.output} out)${event.toolCalls ? `, calls ${event.toolCalls.map((c) => c.name).join(', ')}` : ''}`;
    case 'tool.call':
      return `  ${event.nodeId}: tool ${event.tool} ${event.error ? `failed: ${event.error.message}` : 'answered'}`;
    case 'mcp.call':
      return `  ${event.nodeId}: MCP ${event.server}/${event.tool} ${event.error ? `failed: ${event.error.message}` : event.result?.isError ? 'answered an error' : 'answered'}`;
    case 'task.assigned':
      return `  ${event.nodeId}: ${shortTask(event.taskId)} → ${event.assignee}`;
    case 'task.succeeded':
      return `  ${event.nodeId}: ${MARK.succeeded} ${shortTask(event.taskId)}${event.attempt && event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`;
    case 'task.failed':
      return `  ${event.nodeId}: ${MARK.failed} ${shortTask(event.taskId)}: ${event.error.message}${event.retryInMs !== undefined ? `; retrying in ${event.retryInMs} ms` : ''}`;
    case 'metrics':
      return event.nodeId === undefined ? undefined : `  ${event.nodeId}: metrics ${formatMetrics(event.values)}`;
    case 'sandbox.created':
      return `  ${event.nodeId}: sandbox ${event.sandboxId} (${event.driver}${event.isolation === 'strong' ? '' : `, ${event.isolation} isolation`}, ${event.runtime}, ${event.limits.memoryMb} MB, ${event.limits.wallClockMs} ms)`;
    case 'sandbox.output':
      return event.text.trimEnd().split('\n').map((line) => `  ${event.nodeId} ${event.stream === 'stderr' ? '!' : '|'} ${line}`).join('\n') + (event.truncated ? `\n  ${event.nodeId}: (${event.stream} cut)` : '');
    case 'sandbox.violation':
      return `  ${event.nodeId}: sandbox ${event.kind} violation: ${event.detail}`;
    case 'sandbox.killed':
      return `  ${event.nodeId}: sandbox killed (${event.reason}): ${event.detail}`;
    case 'sandbox.cleaned':
      return event.ok ? undefined : `  ${event.nodeId}: sandbox NOT cleaned up: ${event.leftovers.join(', ')}`;
    case 'supervision.entry':
      return `  ${event.nodeId}: [${event.state}] ${event.agent}: ${event.action} — ${event.assessment}`;
    default:
      return undefined;
  }
}

/** The final state of a replayed run, for a person. */
export function describeRunState(state: RunState): string[] {
  const lines = [`run ${state.runId} of flow "${state.flowId}": ${state.status}${state.error ? ` (${state.error.message})` : ''}`];
  if (state.startedAt !== undefined && state.finishedAt !== undefined) lines[0] += ` in ${state.finishedAt - state.startedAt} ms`;
  lines.push(`events: ${state.lastSeq}; llm calls: ${state.llm.calls} (${state.llm.tokens.input} tokens in, ${state.llm.tokens.output} out); tool calls: ${state.toolCalls}; MCP calls: ${state.mcpCalls}`);
  lines.push('nodes:');
  const width = Math.max(4, ...Object.keys(state.nodes).map((id) => id.length));
  for (const [id, node] of Object.entries(state.nodes)) {
    const took = node.startedAt !== undefined && node.finishedAt !== undefined ? `${node.finishedAt - node.startedAt} ms` : '';
    const attempts = node.attempt > 1 ? `, ${node.attempt} attempts` : '';
    const error = node.error ? `  ${node.error.message}` : '';
    lines.push(`  ${MARK[node.status]} ${id.padEnd(width)}  ${node.status.padEnd(9)} ${took}${attempts}${error}`);
  }
  if (state.supervision.length > 0) {
    lines.push('supervision log:');
    for (const entry of state.supervision) lines.push(`  #${entry.step} [${entry.state}] ${entry.agent}: ${entry.action} — ${entry.assessment}`);
  }
  if (state.output !== undefined) lines.push(`output: ${formatValue(state.output, 4000)}`);
  return lines;
}

export function formatValue(value: unknown, limit: number): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length - limit} more characters)` : text;
}

/** `node/1/step-2-fetch/subtask-3` -> `step-2-fetch/subtask-3`: the task's path inside its node. */
function shortTask(taskId: string): string {
  const parts = taskId.split('/');
  return parts.slice(2).join('/') || taskId;
}

function formatMetrics(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${Number.isInteger(value) ? value : value.toFixed(2)}`)
    .join(' ');
}
