import { create } from 'zustand';
import { api, toProblem } from '../api/client.js';

/** A tool of a registered MCP server, with its approval state (`changed`: awaits an admin's approval). */
export type McpToolInfo = Awaited<ReturnType<typeof api.mcp.tools.query>>[number];

export interface McpToolsState {
  /** null until loaded. Tests set it directly. */
  tools: McpToolInfo[] | null;
  error: string | null;
}

/** The registered MCP servers' tools, for the palette and the inspector's tool pickers. */
export const useMcpTools = create<McpToolsState>()(() => ({ tools: null, error: null }));

let loading: Promise<void> | null = null;

/** Loads the tools unless loaded or on their way; `reload` asks again (after an approval, say). */
export function loadMcpTools(reload = false): void {
  if (loading || (useMcpTools.getState().tools && !reload)) return;
  loading = api.mcp.tools.query().then(
    (tools) => {
      loading = null;
      useMcpTools.setState({ tools, error: null });
    },
    (error: unknown) => {
      loading = null;
      useMcpTools.setState({ error: `Could not load the MCP tools: ${toProblem(error).message}` });
    },
  );
}
