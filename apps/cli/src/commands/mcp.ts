import { randomUUID } from 'node:crypto';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { reduceRun, type RunEvent } from '@loom/shared';
import {
  checkRunInput,
  createFlowToolServer,
  createStandardProviders,
  derivedIds,
  envCredentials,
  fetchHttpClient,
  FlowToolRefusal,
  inputJsonSchema,
  runFlow,
  runResources,
  systemClock,
  type FlowTool,
  type FlowToolCatalog,
} from '@loom/engine';
import { loadFlow, type LoadedFlow } from '../load.js';
import { UsageError } from '../usage.js';
import { providerUrls } from './run.js';

export interface McpCommandOptions {
  /** Time limit per call; a run over it is cancelled. */
  timeoutMs: number;
  /** Calls running at once; more are refused. */
  maxConcurrent: number;
}

/**
 * `pnpm flow mcp <flow.json>...`: serves flow files as MCP tools over stdio (stdout is the
 * protocol: progress and errors go to stderr). Each call is checked (arguments against the
 * flow's input fields, the concurrency limit), runs in a context of its own (its own
 * cancellation, event log and time limit), and answers with the run id, duration and
 * resources used. Resolves when the client closes stdin.
 */
export async function mcpCommand(files: string[], options: McpCommandOptions, err: (line: string) => void): Promise<number> {
  if (files.length === 0) throw new UsageError('mcp needs at least one flow file: pnpm flow mcp <flow.json>...');
  const flows = new Map<string, LoadedFlow>();
  for (const file of files) {
    const loaded = loadFlow(file);
    if (flows.has(loaded.flow.id)) throw new UsageError(`${file}: another file already serves a flow with id "${loaded.flow.id}"`);
    flows.set(loaded.flow.id, loaded);
  }
  const server = await createFlowToolServer(fileFlowTools(flows, options), { name: 'loom-cli', version: '0.1.0' });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  process.stdin.once('end', () => void server.close());
  await server.connect(transport);
  err(`serving ${flows.size} flow${flows.size === 1 ? '' : 's'} as MCP tools on stdio: ${[...flows.keys()].join(', ')}`);
  await closed;
  return 0;
}

function fileFlowTools(flows: ReadonlyMap<string, LoadedFlow>, options: McpCommandOptions): FlowToolCatalog {
  const llm = createStandardProviders(providerUrls(process.env));
  const credentials = envCredentials(process.env);
  let active = 0;
  return {
    list: (): FlowTool[] =>
      [...flows.values()].map(({ flow, compiled }) => ({
        name: flow.id,
        title: flow.name,
        description: flow.description ?? `Runs the Loom flow "${flow.name}".`,
        inputSchema: inputJsonSchema(compiled) ?? { type: 'object', additionalProperties: true },
      })),
    async call(name, args, signal) {
      const loaded = flows.get(name);
      if (!loaded) throw new FlowToolRefusal(`no tool "${name}": no flow with that id is served here`, 'unknown_tool');
      const issues = checkRunInput(loaded.compiled, args);
      if (issues.length) throw new FlowToolRefusal(`invalid arguments for flow "${name}": ${issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}`, 'invalid_arguments');
      if (active >= options.maxConcurrent) throw new FlowToolRefusal(`${active} runs are already going (the limit is ${options.maxConcurrent}); try again later`, 'limit');
      active++;
      const controller = new AbortController();
      const cancel = () => controller.abort();
      signal.addEventListener('abort', cancel, { once: true });
      const timer = setTimeout(cancel, options.timeoutMs);
      const events: RunEvent[] = [];
      const started = systemClock.now();
      try {
        const result = await runFlow(
          loaded.compiled,
          { clock: systemClock, ids: derivedIds, llm, http: fetchHttpClient, credentials, log: { append: (event) => void events.push(event) }, signal: controller.signal },
          { input: args, runId: randomUUID() },
        );
        return { ...result, durationMs: systemClock.now() - started, resources: runResources(reduceRun(events), events.length) };
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', cancel);
        active--;
      }
    },
  };
}
