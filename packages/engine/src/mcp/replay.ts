import type { RunEvent, RunEventOf } from '@loom/shared';
import { canonicalJson } from '../graph/hash.js';
import { NodeError } from '../errors.js';
import type { McpCallOptions, McpToolDescription, McpToolResult, McpToolSource } from './source.js';

/**
 * An MCP source that answers every call and description from a recorded run log, by call id,
 * so a re-run reproduces the run without any MCP server. A call the log does not hold, or
 * one for another tool or other arguments, fails (`replay_missing` / `replay_diverged`).
 */
export function createReplayMcp(events: Iterable<RunEvent>): McpToolSource {
  const calls = new Map<string, RunEventOf<'mcp.call'>>();
  const tools = new Map<string, RunEventOf<'mcp.tool'>>();
  for (const event of events) {
    if (event.type === 'mcp.call') calls.set(event.callId, event);
    else if (event.type === 'mcp.tool') tools.set(event.callId, event);
  }
  const recordedError = (error: { message: string; code?: string | undefined; retryable?: boolean | undefined }) =>
    new NodeError(error.message, error.code ?? 'mcp_error', error.retryable ?? false);
  return {
    async describeTool(server: string, tool: string, { signal, callId }: McpCallOptions): Promise<McpToolDescription> {
      signal.throwIfAborted();
      const recorded = tools.get(callId);
      if (!recorded) throw new NodeError(`replay: MCP tool description "${callId}" (${server}/${tool}) is not in the log; a replay never calls an MCP server`, 'replay_missing', false);
      if (recorded.server !== server || recorded.tool !== tool) throw new NodeError(`replay: "${callId}" describes ${server}/${tool}, recorded ${recorded.server}/${recorded.tool}`, 'replay_diverged', false);
      if (recorded.error) throw recordedError(recorded.error);
      return { ...(recorded.description !== undefined ? { description: recorded.description } : {}), inputSchema: recorded.inputSchema ?? {} };
    },
    async callTool(server: string, tool: string, args: Record<string, unknown>, { signal, callId }: McpCallOptions): Promise<McpToolResult> {
      signal.throwIfAborted();
      const recorded = calls.get(callId);
      if (!recorded) throw new NodeError(`replay: MCP call "${callId}" (${server}/${tool}) is not in the log; a replay never calls an MCP server`, 'replay_missing', false);
      if (recorded.server !== server || recorded.tool !== tool) throw new NodeError(`replay: MCP call "${callId}" is to ${server}/${tool}, recorded ${recorded.server}/${recorded.tool}`, 'replay_diverged', false);
      if (canonicalJson(recorded.args) !== canonicalJson(args)) throw new NodeError(`replay: MCP call "${callId}" to ${server}/${tool} has other arguments than the recorded call`, 'replay_diverged', false);
      if (recorded.error) throw recordedError(recorded.error);
      const result = recorded.result!;
      return { content: result.content, ...(result.structuredContent !== undefined ? { structuredContent: result.structuredContent } : {}), ...(result.isError ? { isError: true } : {}) };
    },
  };
}
