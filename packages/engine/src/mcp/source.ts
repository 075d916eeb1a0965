import type { RunEventOf } from '@loom/shared';
import { NodeError, toRunError } from '../errors.js';
import type { NodeExecution } from '../nodes/node-kind.js';

/** What an MCP tool's call answered: MCP's CallToolResult, as the server sent it. */
export interface McpToolResult {
  content: unknown[];
  structuredContent?: unknown;
  isError?: boolean;
}

/** A tool as its server describes it (the approved, pinned version). */
export interface McpToolDescription {
  description?: string;
  inputSchema: Record<string, unknown>;
}

export interface McpCallOptions {
  signal: AbortSignal;
  /** The call's id in the log (the same in every replay of the run). */
  callId: string;
}

/**
 * The run's way to the tools of MCP servers, by the names an admin registered them under.
 * The engine never connects to a server itself: the server process owns the connections
 * (and refuses tools whose description changed since it was approved); a replay answers
 * from the log (`createReplayMcp`).
 */
export interface McpToolSource {
  describeTool(server: string, tool: string, options: McpCallOptions): Promise<McpToolDescription>;
  callTool(server: string, tool: string, args: Record<string, unknown>, options: McpCallOptions): Promise<McpToolResult>;
}

/** Without an `mcp` source in the context (the CLI, a test), MCP tools fail with this. */
export function mcpUnavailable(server: string): NodeError {
  return new NodeError(`MCP server "${server}" cannot be reached from here: this run has no MCP connections (run the flow in the Loom server, where MCP servers are registered)`, 'mcp_unavailable', false);
}

/**
 * Calls a tool through the context and logs the call and its answer as `mcp.call`, so the
 * canvas shows it and a replay needs no server. A tool's own error answer (`isError`) is
 * logged as an answer; turning it into a failure is the caller's choice.
 */
export async function callMcpTool(execution: NodeExecution, callId: string, server: string, tool: string, args: Record<string, unknown>): Promise<McpToolResult> {
  const { context, signal, nodeId, emit } = execution;
  const base = { type: 'mcp.call', callId, nodeId, server, tool, args } as const;
  if (!context.mcp) {
    const error = mcpUnavailable(server);
    emit({ ...base, error: toRunError(error) });
    throw error;
  }
  let result: McpToolResult;
  try {
    result = await context.mcp.callTool(server, tool, args, { signal, callId });
  } catch (error) {
    if (signal.aborted) throw error;
    emit({ ...base, error: toRunError(error) });
    throw error;
  }
  signal.throwIfAborted();
  const recorded: NonNullable<RunEventOf<'mcp.call'>['result']> = {
    content: result.content,
    ...(result.structuredContent !== undefined ? { structuredContent: result.structuredContent } : {}),
    ...(result.isError ? { isError: true } : {}),
  };
  emit({ ...base, result: recorded });
  return result;
}

/** Asks for a tool's pinned description and logs it as `mcp.tool`. */
export async function describeMcpTool(execution: NodeExecution, callId: string, server: string, tool: string): Promise<McpToolDescription> {
  const { context, signal, nodeId, emit } = execution;
  const base = { type: 'mcp.tool', callId, nodeId, server, tool } as const;
  if (!context.mcp) {
    const error = mcpUnavailable(server);
    emit({ ...base, error: toRunError(error) });
    throw error;
  }
  let description: McpToolDescription;
  try {
    description = await context.mcp.describeTool(server, tool, { signal, callId });
  } catch (error) {
    if (signal.aborted) throw error;
    emit({ ...base, error: toRunError(error) });
    throw error;
  }
  emit({ ...base, ...(description.description !== undefined ? { description: description.description } : {}), inputSchema: description.inputSchema });
  return description;
}

/** The text parts of a result, joined: what a model reads, and what an error says. */
export function mcpResultText(result: McpToolResult): string {
  return result.content
    .map((part) => (isTextPart(part) ? part.text : JSON.stringify(part)))
    .join('\n');
}

/** A node's output from a result: the structured result, else the text, else the content list. */
export function mcpResultValue(result: McpToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  if (result.content.length > 0 && result.content.every(isTextPart)) return mcpResultText(result);
  return result.content;
}

function isTextPart(part: unknown): part is { type: 'text'; text: string } {
  return typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string';
}
