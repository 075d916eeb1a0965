import { checkFlowGraph, type Flow } from '@loom/shared';
import { checkRunInput, compileFlow, FlowToolRefusal, inputJsonSchema, runResources, type CompiledFlow, type FlowTool, type FlowToolCatalog, type FlowToolRun } from '@loom/engine';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import type { Services } from '../services.js';

export interface FlowToolLimits {
  /** Flow runs started through MCP at once; more are refused (the caller may retry). */
  maxConcurrent: number;
  /** A run over this is cancelled and answered as such. */
  timeoutMs: number;
  /** Largest arguments object, as JSON. */
  maxArgumentBytes: number;
  /** Flow ids that may be called; empty: every saved flow. */
  allowFlows: readonly string[];
}

/**
 * The saved flows as MCP tools. A call goes through the steps of the seed's "MCP server and
 * context isolation": validate its format (arguments against the flow's input fields),
 * resource limits (size, concurrent calls), permission (the flow is served) and context
 * compatibility (the models and MCP tools the flow uses exist here); then the flow runs as
 * an ordinary run (its own context, log, cancellation and time limit, on the canvas like any
 * other), is cleaned up (cancelled if the caller goes away or the time is up), and the answer
 * carries the run id, duration and resources used.
 */
export function savedFlowTools(services: Services, limits: FlowToolLimits): FlowToolCatalog {
  const compiledByHash = new Map<string, CompiledFlow | null>();
  let active = 0;
  const allowed = (id: string) => limits.allowFlows.length === 0 || limits.allowFlows.includes(id);

  const compiled = (flow: Flow, hash: string): CompiledFlow | null => {
    let entry = compiledByHash.get(hash);
    if (entry === undefined) {
      const result = checkFlowGraph(flow).length === 0 ? compileFlow(flow) : undefined;
      entry = result?.ok ? result.compiled : null;
      if (compiledByHash.size >= 512) compiledByHash.delete(compiledByHash.keys().next().value!);
      compiledByHash.set(hash, entry);
    }
    return entry;
  };

  return {
    list(): FlowTool[] {
      const tools: FlowTool[] = [];
      for (const summary of services.flows.list()) {
        if (!allowed(summary.id)) continue;
        const flow = services.flows.get(summary.id);
        const ready = compiled(flow.definition, flow.hash);
        // A flow still being drawn cannot run: it is not offered until it can.
        if (!ready) continue;
        tools.push({
          name: flow.id,
          title: flow.name,
          description: flow.description || flow.definition.description || `Runs the Loom flow "${flow.name}".`,
          inputSchema: inputJsonSchema(ready) ?? { type: 'object', additionalProperties: true },
        });
      }
      return tools;
    },

    async call(name, args, signal): Promise<FlowToolRun> {
      // Permission first: a flow that is not served answers exactly like one that does not exist.
      let flow;
      try {
        if (!allowed(name)) throw new NotFoundError('flow', name);
        flow = services.flows.get(name);
      } catch (error) {
        if (error instanceof NotFoundError) throw new FlowToolRefusal(`no tool "${name}": no flow with that id is served here`, 'unknown_tool');
        throw error;
      }
      const size = Buffer.byteLength(JSON.stringify(args));
      if (size > limits.maxArgumentBytes) throw new FlowToolRefusal(`the arguments are ${size} bytes; the limit is ${limits.maxArgumentBytes}`, 'limit');
      const ready = compiled(flow.definition, flow.hash);
      if (!ready) throw new FlowToolRefusal(`flow "${name}" version ${flow.version} cannot run: ${services.flows.problems(flow.definition).map((p) => p.message).slice(0, 5).join('; ')}`, 'incompatible');
      const inputIssues = checkRunInput(ready, args);
      if (inputIssues.length) throw new FlowToolRefusal(`invalid arguments for flow "${name}": ${inputIssues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}`, 'invalid_arguments');
      const missing = contextProblems(flow.definition, services);
      if (missing.length) throw new FlowToolRefusal(`flow "${name}" cannot run on this server: ${missing.join('; ')}`, 'incompatible');
      if (active >= limits.maxConcurrent) throw new FlowToolRefusal(`${active} flow runs requested over MCP are already running (the limit is ${limits.maxConcurrent}); try again later`, 'limit');

      active++;
      let runId: string | undefined;
      const cancel = () => {
        if (runId === undefined) return;
        try {
          services.runs.cancel(runId);
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
        }
      };
      const timer = setTimeout(cancel, limits.timeoutMs);
      signal.addEventListener('abort', cancel, { once: true });
      try {
        let started;
        try {
          started = services.runs.start(name, { version: flow.version, input: args });
        } catch (error) {
          if (error instanceof InvalidInputError || error instanceof ConflictError) throw new FlowToolRefusal(error.message, 'incompatible');
          throw error;
        }
        runId = started.id;
        if (signal.aborted) cancel();
        const finished = await services.runs.settled(runId);
        const replay = services.runs.replay(runId);
        return {
          runId,
          status: finished.status === 'queued' || finished.status === 'running' ? 'interrupted' : finished.status,
          ...(finished.output !== undefined ? { output: finished.output } : {}),
          ...(finished.error !== undefined ? { error: finished.error } : {}),
          durationMs: (finished.finishedAt ?? services.now()) - (finished.startedAt ?? finished.createdAt),
          resources: runResources(replay.state, replay.events),
        };
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', cancel);
        active--;
      }
    },
  };
}

/**
 * What a flow needs from this server that it does not have: LLM providers its agents name,
 * and MCP tools (registered, approved, unchanged). Nested nodes count: patterns and
 * sub-flows are searched too.
 */
export function contextProblems(flow: Flow, services: Services): string[] {
  const providers = new Set(services.info().providers.map((p) => p.name));
  const problems = new Set<string>();
  for (const provider of agentProviders(flow)) if (!providers.has(provider)) problems.add(`no LLM provider "${provider}" is configured`);
  for (const { server, tool } of referencedMcpTools(flow)) {
    let view;
    try {
      view = services.mcp.get(server);
    } catch {
      problems.add(`MCP server "${server}" is not registered`);
      continue;
    }
    const found = view.tools.find((t) => t.name === tool);
    if (!found || found.state === 'added' || found.state === 'removed') problems.add(`MCP server "${server}" has no approved tool "${tool}"`);
    else if (found.state === 'changed') problems.add(`MCP tool "${server}/${tool}" changed since it was approved and awaits an admin's approval`);
  }
  return [...problems];
}

/** The MCP tools a flow uses (`mcp` nodes and agents' MCP tools, nested ones too), unique, in order. */
export function referencedMcpTools(flow: Flow): { server: string; tool: string }[] {
  const found = new Map<string, { server: string; tool: string }>();
  const add = (server: string, tool: string) => found.set(`${server}/${tool}`, { server, tool });
  walk(flow.nodes, (record) => {
    if (record.kind === 'mcp' && typeof record.config?.server === 'string' && typeof record.config.tool === 'string') add(record.config.server, record.config.tool);
    if (typeof record.mcp?.server === 'string' && typeof record.mcp.tool === 'string') add(record.mcp.server, record.mcp.tool);
  });
  return [...found.values()];
}

function agentProviders(flow: Flow): Set<string> {
  const providers = new Set<string>();
  walk(flow.nodes, (record) => {
    if (record.kind === 'agent' && typeof record.config?.model === 'string') providers.add(record.config.model.split('/')[0]!);
  });
  return providers;
}

type Visited = { kind?: unknown; config?: { model?: unknown; server?: unknown; tool?: unknown }; mcp?: { server?: unknown; tool?: unknown } };

/** Every object in a flow's nodes, at any depth (patterns and sub-flows nest nodes). */
function walk(value: unknown, visit: (record: Visited) => void): void {
  if (Array.isArray(value)) return value.forEach((item) => walk(item, visit));
  if (typeof value !== 'object' || value === null) return;
  visit(value as Visited);
  for (const child of Object.values(value)) walk(child, visit);
}
