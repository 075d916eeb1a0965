import { NODE_KINDS, PATTERN_KINDS, type Flow, type FlowNode, type NodeKind } from '@loom/shared';

export interface PaletteEntry {
  kind: NodeKind;
  /** Unique among the entries: the kind, or `mcp:<server>/<tool>` for a registered MCP tool. */
  key: string;
  title: string;
  description: string;
  group: 'Flow' | 'Steps' | 'Patterns' | 'MCP tools';
  /** Set on an MCP tool whose description changed since it was approved: it will not run until approved again. */
  flagged?: boolean;
  /** A new node of this kind with a working configuration. */
  make(id: string): FlowNode;
}

const BASIC: Record<Exclude<NodeKind, (typeof PATTERN_KINDS)[number]>, Omit<PaletteEntry, 'kind' | 'key' | 'make'> & { config: unknown }> = {
  input: { title: 'Input', description: 'Where the run input enters; declares its fields.', group: 'Flow', config: { fields: {} } },
  output: { title: 'Output', description: 'A value of the run output.', group: 'Flow', config: {} },
  skill: { title: 'Skill', description: 'A built-in skill: template, JSON transform, HTTP request, delay…', group: 'Steps', config: { skill: 'template', params: { template: '{{ $string($) }}' } } },
  router: { title: 'Router', description: 'Sends its input down the route whose condition holds.', group: 'Flow', config: { routes: [{ port: 'yes', when: 'true' }], defaultPort: 'no', mode: 'first' } },
  merge: { title: 'Merge', description: 'Joins branches into one value.', group: 'Flow', config: { mode: 'object' } },
  mcp: { title: 'MCP tool', description: 'Calls a tool of a registered MCP server with the node\'s input as arguments.', group: 'Steps', config: { server: 'server', tool: 'tool' } },
  agent: { title: 'Agent', description: 'An LLM with tools. The demo model local/echo is a deterministic stand-in, not a language model.', group: 'Steps', config: { model: 'local/echo', prompt: '{{ $ }}', tools: [], maxIterations: 6 } },
};

const PATTERN_INFO: Record<(typeof PATTERN_KINDS)[number], { title: string; description: string }> = {
  chain: { title: 'Chain of skills', description: 'Skills one after another, with retry, skip or fail per step.' },
  parallel: { title: 'Parallel skills', description: 'Load-balanced skill instances and an aggregation.' },
  master_worker: { title: 'Master–worker', description: 'Decompose, assign to workers by capability and load, validate, aggregate.' },
  supervisor: { title: 'Supervisor', description: 'A state machine choosing agents step by step, with a supervision log.' },
  coordinator: { title: 'Coordinator', description: 'Subtasks in dependency waves with budgets and conflict resolution.' },
  subflow: { title: 'Sub-flow', description: 'A whole flow inside a node.' },
};

/**
 * Every node kind, ready to drop. Patterns start from the configuration of the same kind
 * in the template flows (the examples), so a new pattern node is a working one.
 */
export function paletteEntries(templates: readonly { flow: Flow }[], mcpTools: readonly McpPaletteTool[] = []): PaletteEntry[] {
  const patternConfig = new Map<NodeKind, unknown>();
  // Patterns nest (a master-worker's worker may be a sub-flow): look at nodes at any depth.
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null) return;
    const record = value as { id?: unknown; kind?: unknown; config?: unknown };
    if (typeof record.id === 'string' && typeof record.kind === 'string' && record.config !== undefined && !patternConfig.has(record.kind as NodeKind)) {
      patternConfig.set(record.kind as NodeKind, record.config);
    }
    Object.values(value).forEach(visit);
  };
  for (const { flow } of templates) visit(flow.nodes);
  const entries: PaletteEntry[] = [];
  for (const kind of NODE_KINDS) {
    if ((PATTERN_KINDS as readonly string[]).includes(kind)) {
      const config = patternConfig.get(kind);
      if (config === undefined) continue;
      const info = PATTERN_INFO[kind as (typeof PATTERN_KINDS)[number]];
      entries.push({ ...info, kind, key: kind, group: 'Patterns', make: (id) => ({ id, kind, config: structuredClone(config) }) as FlowNode });
    } else {
      const { config, ...info } = BASIC[kind as keyof typeof BASIC];
      entries.push({ kind, key: kind, ...info, make: (id) => ({ id, kind, config: structuredClone(config) }) as FlowNode });
    }
  }
  // Each tool of a registered MCP server, ready to drop as an `mcp` node (removed tools are not offered).
  for (const tool of mcpTools) {
    if (tool.state === 'removed' || tool.state === 'added') continue;
    const flagged = tool.state === 'changed';
    entries.push({
      kind: 'mcp',
      key: `mcp:${tool.server}/${tool.tool}`,
      title: `${tool.server} / ${tool.tool}`,
      description: flagged ? `Changed since approved: needs an admin's approval. ${tool.description ?? ''}` : (tool.description ?? `Tool "${tool.tool}" of the MCP server "${tool.server}".`),
      group: 'MCP tools',
      ...(flagged ? { flagged } : {}),
      make: (id) => ({ id, kind: 'mcp', config: { server: tool.server, tool: tool.tool } }),
    });
  }
  return entries;
}

/** What the palette needs of a registered MCP tool (the server's `mcp.tools`). */
export interface McpPaletteTool {
  server: string;
  tool: string;
  description?: string;
  state: 'approved' | 'changed' | 'added' | 'removed';
}

/** A node id not used yet: `agent`, `agent-2`, … */
export function freshId(kind: string, taken: ReadonlySet<string>): string {
  const stem = kind.replace(/_/g, '-');
  if (!taken.has(stem)) return stem;
  for (let n = 2; ; n++) if (!taken.has(`${stem}-${n}`)) return `${stem}-${n}`;
}
