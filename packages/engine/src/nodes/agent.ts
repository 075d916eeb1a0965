import type { ChatMessage, RunError } from '@loom/shared';
import { NodeError, toRunError } from '../errors.js';
import { compileTemplate, stringify, type CompiledTemplate } from '../expressions/template.js';
import { compileJsonSchema, type CompiledJsonSchema } from '../llm/json-schema.js';
import type { LlmCallOptions, LlmDelta, LlmRequest, LlmResult, LlmToolCall, LlmToolSpec } from '../llm/provider.js';
import type { SkillInstance } from '../skills/skill.js';
import type { NodeExecution, NodeKindDefinition } from './node-kind.js';
import { prepareSkill } from './skill.js';

interface PreparedTool {
  spec: LlmToolSpec;
  instance: SkillInstance;
  args: CompiledJsonSchema | undefined;
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
    const tools = new Map<string, PreparedTool>();
    config.tools.forEach((tool, i) => {
      if (tools.has(tool.name)) env.issue(['config', 'tools', i, 'name'], `duplicate tool name "${tool.name}"`);
      const args = tool.parameters === undefined ? undefined : trySchema(tool.parameters, ['config', 'tools', i, 'parameters'], env.issue);
      const prepared = prepareSkill(tool.skill, tool.params, env, ['config', 'tools', i]);
      if (!prepared) return;
      tools.set(tool.name, {
        instance: prepared.instance,
        args: args ?? compileJsonSchema(DEFAULT_TOOL_PARAMETERS),
        spec: { name: tool.name, description: tool.description ?? prepared.skill.description, parameters: tool.parameters ?? DEFAULT_TOOL_PARAMETERS },
      });
    });
    const toolSpecs = [...tools.values()].map((t) => t.spec);
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
            const outcomes = await Promise.all(result.toolCalls.map((call) => runTool(tools, call, execution)));
            signal.throwIfAborted();
            result.toolCalls.forEach((call, i) => {
              const outcome = outcomes[i]!;
              emit({
                type: 'tool.call',
                callId: `${taskId}/tool/${turn}.${i + 1}`,
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

async function runTool(tools: Map<string, PreparedTool>, call: LlmToolCall, execution: NodeExecution): Promise<{ result: unknown } | { error: RunError }> {
  const tool = tools.get(call.name);
  if (!tool) return { error: { message: `unknown tool "${call.name}" (tools: ${[...tools.keys()].join(', ') || 'none'})`, code: 'unknown_tool' } };
  const problems = tool.args?.check(call.args) ?? [];
  if (problems.length > 0) {
    return { error: { message: `invalid arguments for tool "${call.name}": ${problems.join('; ')}`, code: 'invalid_tool_args' } };
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
