import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RunError, RunState, RunStatus } from '@loom/shared';

/** A flow offered as an MCP tool: its id as the name, its input fields as the input schema. */
export interface FlowTool {
  name: string;
  title?: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** What a run cost: read from its log when it ended. */
export interface FlowToolResources {
  events: number;
  llmCalls: number;
  tokens: { input: number; output: number };
  costUsd: number;
  toolCalls: number;
  mcpCalls: number;
}

export interface FlowToolRun {
  runId: string;
  status: RunStatus;
  output?: unknown;
  error?: RunError;
  durationMs: number;
  resources: FlowToolResources;
}

/**
 * A request refused before anything ran (bad arguments, a limit, a missing permission, a
 * flow that cannot run here). The caller gets the reason as a tool error, with `code`.
 */
export class FlowToolRefusal extends Error {
  override name = 'FlowToolRefusal';
  constructor(
    message: string,
    readonly code: 'invalid_arguments' | 'limit' | 'forbidden' | 'incompatible' | 'unknown_tool',
  ) {
    super(message);
  }
}

/** Where a flow-serving MCP server gets its tools and runs them (the server's saved flows, or the CLI's files). */
export interface FlowToolCatalog {
  list(): FlowTool[] | Promise<FlowTool[]>;
  /** Checks the request, runs the flow in a context of its own, and cleans up; throws FlowToolRefusal when it refuses. */
  call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<FlowToolRun>;
}

/** Key of the run metadata in a result's `_meta` (MCP reserves unprefixed keys). */
export const FLOW_RUN_META_KEY = 'dev.loom/run';

/** Resources a run used, from its reduced state and event count. */
export function runResources(state: RunState, events: number): FlowToolResources {
  return {
    events,
    llmCalls: state.llm.calls,
    tokens: { ...state.llm.tokens },
    costUsd: state.llm.costUsd,
    toolCalls: state.toolCalls,
    mcpCalls: state.mcpCalls,
  };
}

/**
 * An MCP server (the SDK's low-level `Server`, since the tools' schemas are JSON Schema made
 * from flows, not zod) whose tools are flows. Each call's answer carries the run's metadata
 * under `_meta["dev.loom/run"]`: run id, status, duration and resources used. A run that
 * failed is a tool error (`isError`) with the same metadata; an unknown tool is a protocol
 * error, as the MCP specification asks.
 */
export async function createFlowToolServer(catalog: FlowToolCatalog, info: { name: string; version: string }): Promise<Server> {
  // Loaded on first use, not with the engine: the SDK's schemas take about half a second to
  // load, which every run of the CLI and every server start would otherwise pay.
  const [{ Server }, { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError }] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/index.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  const server = new Server(info, { capabilities: { tools: { listChanged: false } }, instructions: 'Each tool runs a Loom flow; the result carries the run id, duration and resources used in _meta["dev.loom/run"].' });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: (await catalog.list()).map((tool) => ({
      name: tool.name,
      ...(tool.title ? { title: tool.title } : {}),
      description: tool.description,
      inputSchema: { ...tool.inputSchema, type: 'object' as const },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const args = request.params.arguments ?? {};
    let run: FlowToolRun;
    try {
      run = await catalog.call(request.params.name, args, extra.signal);
    } catch (error) {
      if (error instanceof FlowToolRefusal) {
        if (error.code === 'unknown_tool') throw new McpError(ErrorCode.InvalidParams, error.message);
        return { isError: true, content: [{ type: 'text', text: error.message }], _meta: { [FLOW_RUN_META_KEY]: { refused: error.code } } };
      }
      throw error;
    }
    const meta = { [FLOW_RUN_META_KEY]: { runId: run.runId, status: run.status, durationMs: run.durationMs, resources: run.resources } };
    if (run.status !== 'succeeded') {
      return { isError: true, content: [{ type: 'text', text: `run ${run.runId} ${run.status}: ${run.error?.message ?? 'no error message'}` }], _meta: meta };
    }
    const output = run.output ?? null;
    return {
      content: [{ type: 'text', text: typeof output === 'string' ? output : JSON.stringify(output) }],
      ...(typeof output === 'object' && output !== null && !Array.isArray(output) ? { structuredContent: output as Record<string, unknown> } : {}),
      _meta: meta,
    };
  });
  return server;
}
