import type { ChatMessage, RunError } from '@loom/shared';
import { NodeError, toRunError } from '../errors.js';
import { compileTemplate, stringify, type CompiledTemplate } from '../expressions/template.js';
import type { LlmToolCall, LlmToolSpec } from '../llm/provider.js';
import type { SkillInstance } from '../skills/skill.js';
import type { NodeExecution, NodeKindDefinition } from './node-kind.js';
import { prepareSkill } from './skill.js';

interface PreparedTool {
  spec: LlmToolSpec;
  instance: SkillInstance;
}

/**
 * An LLM with tools. The loop: ask the model; if it asks for tools, run them all in
 * parallel, give it the results, and ask again, until it answers or `maxIterations`
 * turns are used. Every request, response and tool call is an event, so a replay can
 * answer the model from the log.
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
    const tools = new Map<string, PreparedTool>();
    config.tools.forEach((tool, i) => {
      if (tools.has(tool.name)) env.issue(['config', 'tools', i, 'name'], `duplicate tool name "${tool.name}"`);
      const prepared = prepareSkill(tool.skill, tool.params, env, ['config', 'tools', i]);
      if (!prepared) return;
      tools.set(tool.name, {
        instance: prepared.instance,
        spec: {
          name: tool.name,
          description: tool.description ?? prepared.skill.description,
          parameters: { type: 'object', properties: { text: { type: 'string' } }, additionalProperties: true },
        },
      });
    });
    const toolSpecs = [...tools.values()].map((t) => t.spec);

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
        const messages: ChatMessage[] = [];
        if (system) messages.push({ role: 'system', content: await system!.render(execution.input, scope) });
        messages.push({ role: 'user', content: await prompt!.render(execution.input, scope) });

        for (let iteration = 1; iteration <= config.maxIterations; iteration++) {
          const callId = `${taskId}/llm/${iteration}`;
          emit({ type: 'llm.request', callId, nodeId, provider, model, messages: [...messages], tools: toolSpecs.map((t) => t.name) });
          let result;
          try {
            result = await llm.complete(
              { model, messages, tools: toolSpecs, temperature: config.temperature, responseFormat: config.outputFormat, ...(config.maxTokens ? { maxTokens: config.maxTokens } : {}) },
              signal,
            );
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
          });
          if (result.toolCalls.length === 0) return { output: finalOutput(result.content, config.outputFormat) };

          messages.push({ role: 'assistant', content: result.content, toolCalls: result.toolCalls });
          const outcomes = await Promise.all(result.toolCalls.map((call) => runTool(tools, call, execution)));
          signal.throwIfAborted();
          result.toolCalls.forEach((call, i) => {
            const outcome = outcomes[i]!;
            emit({
              type: 'tool.call',
              callId: `${taskId}/tool/${iteration}.${i + 1}`,
              nodeId,
              tool: call.name,
              args: call.args,
              ...('error' in outcome ? { error: outcome.error } : { result: outcome.result }),
            });
            const content = 'error' in outcome ? `error: ${outcome.error.message}` : stringify(outcome.result);
            messages.push({ role: 'tool', toolCallId: call.id, content });
          });
        }
        throw new NodeError(`no final answer after maxIterations ${config.maxIterations} model turns`, 'max_iterations', false);
      },
    };
  },
};

async function runTool(tools: Map<string, PreparedTool>, call: LlmToolCall, execution: NodeExecution): Promise<{ result: unknown } | { error: RunError }> {
  const tool = tools.get(call.name);
  if (!tool) return { error: { message: `unknown tool "${call.name}" (tools: ${[...tools.keys()].join(', ') || 'none'})`, code: 'unknown_tool' } };
  try {
    return { result: await tool.instance.run(call.args, execution) };
  } catch (error) {
    if (execution.signal.aborted) throw error;
    return { error: toRunError(error) };
  }
}

function finalOutput(content: string, format: 'text' | 'json'): unknown {
  if (format === 'text') return content;
  try {
    return JSON.parse(content) as unknown;
  } catch {
    throw new NodeError(`the model's answer is not JSON (outputFormat is "json"): ${content.slice(0, 200)}`, 'invalid_model_output', true);
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
