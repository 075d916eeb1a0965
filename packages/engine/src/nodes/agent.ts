import { RetryPolicy, type AgentTool, type ChatMessage, type McpToolRef, type RunError } from '@loom/shared';
import { NodeError, toRunError } from '../errors.js';
import { compileTemplate, stringify, type CompiledTemplate } from '../expressions/template.js';
import type { CompiledFlow } from '../graph/compile.js';
import { checkRunInput, inputJsonSchema } from '../graph/input.js';
import { compileJsonSchema, type CompiledJsonSchema } from '../llm/json-schema.js';
import type { LlmCallOptions, LlmDelta, LlmRequest, LlmResult, LlmToolCall, LlmToolSpec } from '../llm/provider.js';
import { runEmbeddedFlow } from '../scheduler/loop.js';
import type { SkillInstance } from '../skills/skill.js';
import type { NodeExecution, NodeKindDefinition, PrepareEnv, PreparedChild } from './node-kind.js';
import { prepareSkill } from './skill.js';
import { callMcpTool, describeMcpTool, mcpResultText, mcpResultValue } from '../mcp/source.js';

/** A tool ready to be called: a skill run in place, a sub-flow run as a task of the agent's execution, or an MCP server's tool. */
type PreparedTool = { spec: LlmToolSpec; args: CompiledJsonSchema } & (
  | { kind: 'skill'; instance: SkillInstance }
  | { kind: 'flow'; compiled: CompiledFlow; child: PreparedChild }
  | { kind: 'mcp'; ref: McpToolRef }
);

/** An MCP tool without `parameters`: the model is shown its pinned schema, asked for when the agent runs. */
interface UndescribedMcpTool {
  kind: 'mcp-undescribed';
  name: string;
  description?: string;
  ref: McpToolRef;
}

/** Where a tool call's work is logged: its `tool.call` event's id, and the task id of a sub-flow tool. */
interface ToolCallSite {
  callId: string;
  /** `tool/<turn>.<n>`: the task key under the agent's execution, so the task id is `callId`. */
  key: string;
}

/** The arguments a tool takes when its config names none: usually `{ "text": "..." }`. */
const DEFAULT_TOOL_PARAMETERS: Record<string, unknown> = { type: 'object', properties: { text: { type: 'string' } }, additionalProperties: true };

/**
 * An LLM with tools. The loop: ask the model; if it asks for tools, run them all in
 * parallel, give it the results, and ask again, until it answers or `maxIterations`
 * turns are used. A JSON answer that does not parse or match `outputSchema` goes back to
 * the model with the errors, `repairAttempts` times at most. Every request, streamed
 * chunk, response and tool call is an event, so a replay can answer the model from the log.
 */
export const agentKind: NodeKindDefinition<'agent'> = {
  kind: 'agent',
  prepare: (node, env) => {
    const { config } = node;
    const slash = config.model.indexOf('/');
    if (slash <= 0 || slash === config.model.length - 1) {
      env.issue(['config', 'model'], `model must be "provider/model" (e.g. "local/echo"), got "${config.model}"`);
    }
    const provider = config.model.slice(0, slash);
    const model = config.model.slice(slash + 1);
    const prompt = tryTemplate(config.prompt, ['config', 'prompt'], env.issue);
    const system = config.systemPrompt === undefined ? undefined : tryTemplate(config.systemPrompt, ['config', 'systemPrompt'], env.issue);
    const outputSchema = config.outputSchema === undefined ? undefined : trySchema(config.outputSchema, ['config', 'outputSchema'], env.issue);
    const tools = new Map<string, PreparedTool | UndescribedMcpTool>();
    config.tools.forEach((tool, i) => {
      if (tools.has(tool.name)) env.issue(['config', 'tools', i, 'name'], `duplicate tool name "${tool.name}"`);
      const prepared = prepareTool(tool, env, ['config', 'tools', i]);
      if (prepared) tools.set(tool.name, prepared);
    });
    const undescribed = [...tools.values()].some((t) => t.kind === 'mcp-undescribed');
    const json = config.outputFormat === 'json' || config.outputSchema !== undefined;
    const repairAttempts = config.repairAttempts ?? 1;

    return {
      effect: 'io',
      inputMode: 'value',
      execute: async (execution) => {
        const { emit, signal, context, taskId, nodeId, scope } = execution;
        const llm = context.llm.get(provider);
        if (!llm) {
          const available = [...context.llm.keys()].join(', ') || 'none';
          throw new NodeError(`no LLM provider "${provider}" is configured (available: ${available})`, 'unknown_provider', false);
        }
        const ready = undescribed ? await describeMcpTools(tools, execution) : (tools as Map<string, PreparedTool>);
        const toolSpecs = [...ready.values()].map((t) => t.spec);
        const conversation: ChatMessage[] = [];
        if (system) conversation.push({ role: 'system', content: await system!.render(execution.input, scope) });
        conversation.push({ role: 'user', content: await prompt!.render(execution.input, scope) });

        let turnsLeft = config.maxIterations;
        let repairsLeft = repairAttempts;
        let repairing = false;
        for (let turn = 1; ; turn++) {
          // A repair turn asks again for the same answer: it is bounded by repairAttempts, not maxIterations.
          if (!repairing) {
            if (turnsLeft === 0) throw new NodeError(`no final answer after maxIterations ${config.maxIterations} model turns`, 'max_iterations', false);
            turnsLeft -= 1;
          }
          repairing = false;
          const callId = `${taskId}/llm/${turn}`;
          const messages = windowMessages(conversation, config.memoryWindow);
          emit({ type: 'llm.request', callId, nodeId, provider, model, messages, tools: toolSpecs.map((t) => t.name) });
          const request: LlmRequest = {
            model,
            messages,
            tools: toolSpecs,
            temperature: config.temperature,
            responseFormat: json ? 'json' : 'text',
            ...(config.maxTokens ? { maxTokens: config.maxTokens } : {}),
            ...(config.outputSchema ? { outputSchema: config.outputSchema } : {}),
          };
          let deltas = 0;
          const onDelta = ({ text, attempt }: LlmDelta) => {
            // After a cancel or timeout the attempt is over: late text belongs to no one.
            if (signal.aborted) return;
            emit({ type: 'llm.delta', callId, nodeId, index: deltas++, text, ...(attempt > 1 ? { attempt } : {}) });
          };
          const options: LlmCallOptions = {
            signal,
            callId,
            http: context.http,
            clock: context.clock,
            stream: config.stream ?? true,
            onDelta,
            ...(context.credentials ? { credentials: context.credentials } : {}),
            ...(config.credential ? { credential: config.credential } : {}),
            ...(config.requestTimeoutMs ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
          };
          let result: LlmResult;
          try {
            result = await llm.complete(request, options);
          } catch (error) {
            if (signal.aborted) throw error;
            emit({ type: 'llm.response', callId, nodeId, provider, model, content: '', tokens: { input: 0, output: 0 }, error: toRunError(error) });
            throw error;
          }
          // A provider that ignores the signal may still answer after a timeout or cancel:
          // the attempt is over, so neither its answer nor its tools may take effect.
          signal.throwIfAborted();
          emit({
            type: 'llm.response',
            callId,
            nodeId,
            provider,
            model,
            content: result.content,
            ...(result.toolCalls.length > 0 ? { toolCalls: result.toolCalls } : {}),
            tokens: result.tokens,
            ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
            ...(result.finishReason !== undefined ? { finishReason: result.finishReason } : {}),
            ...(result.attempts !== undefined ? { attempts: result.attempts } : {}),
          });

          if (result.toolCalls.length > 0) {
            conversation.push({ role: 'assistant', content: result.content, toolCalls: result.toolCalls });
            const sites = result.toolCalls.map((_, i): ToolCallSite => ({ callId: `${taskId}/tool/${turn}.${i + 1}`, key: `tool/${turn}.${i + 1}` }));
            const outcomes = await Promise.all(result.toolCalls.map((call, i) => runTool(ready, call, sites[i]!, execution)));
            signal.throwIfAborted();
            result.toolCalls.forEach((call, i) => {
              const outcome = outcomes[i]!;
              emit({
                type: 'tool.call',
                callId: sites[i]!.callId,
                nodeId,
                tool: call.name,
                args: call.args,
                ...('error' in outcome ? { error: outcome.error } : { result: outcome.result }),
              });
              const content = 'error' in outcome ? `error: ${outcome.error.message}` : stringify(outcome.result);
              conversation.push({ role: 'tool', toolCallId: call.id, content });
            });
            continue;
          }

          if (!json) return { output: result.content };
          const checked = checkAnswer(result.content, outputSchema);
          if (checked.ok) return { output: checked.value };
          if (result.finishReason === 'length' || result.finishReason === 'max_tokens') {
            checked.errors.push(`the answer was cut off at the output token limit (finish reason "${result.finishReason}"): raise maxTokens`);
          }
          if (repairsLeft === 0) {
            const tries = repairAttempts === 0 ? '' : ` after ${repairAttempts} repair attempt${repairAttempts === 1 ? '' : 's'}`;
            throw new NodeError(`the model's answer ${checked.problem}${tries}:\n${checked.errors.map((e) => `- ${e}`).join('\n')}`, 'llm_invalid_output', true);
          }
          repairsLeft -= 1;
          repairing = true;
          conversation.push({ role: 'assistant', content: result.content });
          conversation.push({
            role: 'user',
            content: `Your answer ${checked.problem}:\n${checked.errors.map((e) => `- ${e}`).join('\n')}\nAnswer again with only the corrected JSON value.`,
          });
        }
      },
    };
  },
};

type Checked = { ok: true; value: unknown } | { ok: false; problem: string; errors: string[] };

/** Parses a JSON answer (a Markdown code fence around it is allowed) and checks it against the schema. */
function checkAnswer(content: string, schema: CompiledJsonSchema | undefined): Checked {
  const fenced = /^\s*```[A-Za-z]*\s*\n([\s\S]*?)\n?```\s*$/.exec(content);
  const text = fenced ? fenced[1]! : content;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    return { ok: false, problem: 'is not valid JSON', errors: [`${(error as Error).message} in: ${content.slice(0, 200)}`] };
  }
  const errors = schema ? schema.check(value) : [];
  return errors.length === 0 ? { ok: true, value } : { ok: false, problem: 'does not match the required JSON Schema', errors };
}

/**
 * What the model is sent: the system prompt and the task (the first user message) always,
 * then the last `window` messages of the conversation. A cut that would separate tool
 * results from the assistant message that called them moves earlier to keep them together.
 */
export function windowMessages(conversation: readonly ChatMessage[], window: number | undefined): ChatMessage[] {
  const firstUser = conversation.findIndex((m) => m.role === 'user');
  const head = conversation.slice(0, firstUser + 1);
  const rest = conversation.slice(firstUser + 1);
  if (window === undefined || rest.length <= window) return [...conversation];
  let start = rest.length - window;
  while (start > 0 && rest[start]!.role === 'tool') start -= 1;
  return [...head, ...rest.slice(start)];
}

/**
 * Prepares one tool at `path` (`config.tools[i]`): a skill with its params, or a sub-flow
 * compiled one nesting level below the agent (its problems reported under `flow`).
 */
function prepareTool(tool: AgentTool, env: PrepareEnv, path: (string | number)[]): PreparedTool | UndescribedMcpTool | undefined {
  const args = tool.parameters === undefined ? undefined : trySchema(tool.parameters, [...path, 'parameters'], env.issue);
  // Prepared even when `parameters` is invalid, so every problem of the tool is reported at once.
  const schemaFailed = tool.parameters !== undefined && !args;
  if (tool.mcp !== undefined) {
    if (schemaFailed) return undefined;
    if (!args) return { kind: 'mcp-undescribed', name: tool.name, ref: tool.mcp, ...(tool.description !== undefined ? { description: tool.description } : {}) };
    return {
      kind: 'mcp',
      ref: tool.mcp,
      args,
      spec: { name: tool.name, description: tool.description ?? `Tool "${tool.mcp.tool}" of the MCP server "${tool.mcp.server}".`, parameters: tool.parameters! },
    };
  }
  if (tool.flow !== undefined) {
    const compiled = env.compileChildFlow(tool.flow, [...path, 'flow']);
    if (!compiled || schemaFailed) return undefined;
    const parameters = tool.parameters ?? inputJsonSchema(compiled) ?? DEFAULT_TOOL_PARAMETERS;
    return {
      kind: 'flow',
      compiled,
      child: subflowTool(tool.name, compiled),
      args: args ?? compileJsonSchema(parameters),
      spec: { name: tool.name, description: tool.description ?? compiled.flow.description ?? `Runs the flow "${compiled.flow.name}".`, parameters },
    };
  }
  // The schema lets a tool through only with exactly one of `skill` and `flow`.
  const prepared = prepareSkill(tool.skill!, tool.params, env, path);
  if (!prepared || schemaFailed) return undefined;
  return {
    kind: 'skill',
    instance: prepared.instance,
    args: args ?? compileJsonSchema(DEFAULT_TOOL_PARAMETERS),
    spec: { name: tool.name, description: tool.description ?? prepared.skill.description, parameters: tool.parameters ?? DEFAULT_TOOL_PARAMETERS },
  };
}

const NO_RETRY: RetryPolicy = RetryPolicy.parse({});

/**
 * A sub-flow tool as a task the agent hands out: the sub-flow runs embedded in the agent's
 * execution, its nodes logged as `<call task id>/<node>`. Not retried: a failure goes back
 * to the model, which decides what to do next.
 */
function subflowTool(name: string, compiled: CompiledFlow): PreparedChild {
  const flowId = compiled.flow.id;
  return {
    id: name,
    node: { id: flowId, kind: 'subflow', config: { flow: compiled.flow } },
    policy: { retry: NO_RETRY, timeoutMs: undefined },
    prepared: {
      effect: 'io',
      inputMode: 'value',
      execute: async (execution) => {
        const result = await runEmbeddedFlow(compiled, execution, execution.input);
        if (result.status === 'succeeded') return { output: result.output ?? null };
        if (result.status === 'cancelled') throw execution.signal.reason ?? new NodeError(`sub-flow "${flowId}" was cancelled`, 'cancelled', false);
        const error = result.error!;
        throw new NodeError(`sub-flow "${flowId}" failed: ${error.message}`, error.code ?? 'subflow_failed', false);
      },
    },
  };
}

/**
 * Asks the MCP source for the pinned description of each MCP tool given without `parameters`
 * (logged as `mcp.tool`, so a replay shows the model the same tool), keeping the tools' order.
 */
async function describeMcpTools(tools: Map<string, PreparedTool | UndescribedMcpTool>, execution: NodeExecution): Promise<Map<string, PreparedTool>> {
  const entries = await Promise.all(
    [...tools.entries()].map(async ([name, tool]): Promise<[string, PreparedTool]> => {
      if (tool.kind !== 'mcp-undescribed') return [name, tool];
      const { server, tool: toolName } = tool.ref;
      const described = await describeMcpTool(execution, `${execution.taskId}/mcp-tool/${name}`, server, toolName);
      let args: CompiledJsonSchema;
      try {
        args = compileJsonSchema(described.inputSchema);
      } catch (error) {
        throw new NodeError(`the input schema of MCP tool "${server}/${toolName}" cannot be used: ${(error as Error).message}`, 'mcp_invalid_schema', false);
      }
      const description = tool.description ?? described.description ?? `Tool "${toolName}" of the MCP server "${server}".`;
      return [name, { kind: 'mcp', ref: tool.ref, args, spec: { name, description, parameters: described.inputSchema } }];
    }),
  );
  return new Map(entries);
}

async function runTool(tools: Map<string, PreparedTool>, call: LlmToolCall, site: ToolCallSite, execution: NodeExecution): Promise<{ result: unknown } | { error: RunError }> {
  const tool = tools.get(call.name);
  if (!tool) return { error: { message: `unknown tool "${call.name}" (tools: ${[...tools.keys()].join(', ') || 'none'})`, code: 'unknown_tool' } };
  let problems = tool.args.check(call.args);
  // A sub-flow also checks its run input against its input fields (types, required names).
  if (problems.length === 0 && tool.kind === 'flow') problems = checkRunInput(tool.compiled, call.args).map((issue) => issue.message);
  if (problems.length > 0) {
    return { error: { message: `invalid arguments for tool "${call.name}": ${problems.join('; ')}`, code: 'invalid_tool_args' } };
  }
  if (tool.kind === 'flow') {
    // A failed task is a result; the run's end (cancel, timeout) throws, ending the agent too.
    const outcome = await execution.tasks.run({ key: site.key, assignee: `tool:${call.name}`, child: tool.child, input: call.args });
    return outcome.ok ? { result: outcome.output } : { error: outcome.error };
  }
  if (tool.kind === 'mcp') {
    try {
      const answer = await callMcpTool(execution, site.callId, tool.ref.server, tool.ref.tool, call.args as Record<string, unknown>);
      if (answer.isError) return { error: { message: `MCP tool "${tool.ref.server}/${tool.ref.tool}" answered with an error: ${mcpResultText(answer).slice(0, 2_000)}`, code: 'mcp_tool_error' } };
      return { result: mcpResultValue(answer) };
    } catch (error) {
      if (execution.signal.aborted) throw error;
      return { error: toRunError(error) };
    }
  }
  try {
    return { result: await tool.instance.run(call.args, execution) };
  } catch (error) {
    if (execution.signal.aborted) throw error;
    return { error: toRunError(error) };
  }
}

function tryTemplate(text: string, path: (string | number)[], issue: (path: (string | number)[], message: string) => void): CompiledTemplate | undefined {
  try {
    return compileTemplate(text);
  } catch (error) {
    issue(path, (error as Error).message);
    return undefined;
  }
}

function trySchema(schema: Record<string, unknown>, path: (string | number)[], issue: (path: (string | number)[], message: string) => void): CompiledJsonSchema | undefined {
  try {
    return compileJsonSchema(schema);
  } catch (error) {
    issue(path, (error as Error).message);
    return undefined;
  }
}
