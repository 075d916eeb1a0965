import type { ChatMessage } from '@loom/shared';
import { LlmError } from './http-retry.js';
import type { LlmCallOptions, LlmProvider, LlmRequest, LlmResult, LlmToolCall } from './provider.js';
import { checkBaseUrl, costOf, count, parseJson, parseToolArgs, postModel, readSse, transportSettings, type ModelPricing, type ResponseReader, type TransportConfig } from './transport.js';

export interface AnthropicProviderConfig extends TransportConfig {
  /** The `provider` of `provider/model` names; default `anthropic`. */
  name?: string;
  /** Default `https://api.anthropic.com`; requests go to `<baseUrl>/v1/messages`. */
  baseUrl?: string;
  /** Credential holding the API key (sent as `x-api-key`); default `anthropic`. */
  credential?: string;
  /** The `anthropic-version` header; default `2023-06-01`. */
  version?: string;
  defaultHeaders?: Record<string, string>;
  /** The API requires a limit on output tokens: this one applies when the agent sets no `maxTokens`. Default 4096. */
  defaultMaxTokens?: number;
  pricing?: Record<string, ModelPricing>;
}

/**
 * A provider speaking Anthropic's Messages API. The system prompt is a field of its own;
 * tool results travel as `tool_result` blocks of a user turn; streams are server-sent
 * events (`message_start`, `content_block_*`, `message_delta`, `message_stop`).
 */
export function createAnthropicProvider(config: AnthropicProviderConfig = {}): LlmProvider {
  const name = config.name ?? 'anthropic';
  const baseUrl = checkBaseUrl(config.baseUrl ?? 'https://api.anthropic.com', name);
  const settings = transportSettings(config);

  return {
    name,
    async complete(request: LlmRequest, options: LlmCallOptions): Promise<LlmResult> {
      const credential = options.credential ?? config.credential ?? 'anthropic';
      const system = systemPrompt(request);
      const body = {
        model: request.model,
        max_tokens: request.maxTokens ?? config.defaultMaxTokens ?? 4096,
        ...(system ? { system } : {}),
        messages: toAnthropicMessages(request.messages),
        temperature: request.temperature,
        ...(request.tools.length > 0 ? { tools: request.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.parameters })) } : {}),
        stream: options.stream,
      };
      const result = await postModel(
        {
          provider: name,
          model: request.model,
          url: `${baseUrl}/v1/messages`,
          headers: { 'anthropic-version': config.version ?? '2023-06-01', ...config.defaultHeaders },
          body,
          auth: { credential, header: 'x-api-key', prefix: '' },
          stream: options.stream,
        },
        options,
        settings,
        (reader) => (options.stream ? readStream(reader, name) : readJson(reader, name)),
      );
      const costUsd = costOf(config.pricing, request.model, result.tokens);
      return costUsd === undefined ? result : { ...result, costUsd };
    },
  };
}

/**
 * The system messages, plus, when the answer must be JSON, how: the Messages API has no
 * JSON mode, so the schema is asked for in words (and the agent checks the answer).
 */
function systemPrompt(request: LlmRequest): string {
  const parts = request.messages.filter((m) => m.role === 'system').map((m) => m.content);
  if (request.outputSchema) parts.push(`Answer with a single JSON value and nothing else, matching this JSON Schema:\n${JSON.stringify(request.outputSchema)}`);
  else if (request.responseFormat === 'json') parts.push('Answer with a single JSON value and nothing else.');
  return parts.join('\n\n');
}

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string };

/**
 * Turns alternate between `user` and `assistant`: tool results are user turns, and
 * consecutive turns of one role are merged into one.
 */
function toAnthropicMessages(messages: readonly ChatMessage[]): { role: 'user' | 'assistant'; content: Block[] }[] {
  const turns: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks: Block[] = [];
    if (message.role === 'tool') blocks.push({ type: 'tool_result', tool_use_id: message.toolCallId ?? '', content: message.content });
    // The API refuses empty text blocks.
    else if (message.content !== '') blocks.push({ type: 'text', text: message.content });
    for (const call of message.toolCalls ?? []) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: isObject(call.args) ? call.args : {} });
    if (blocks.length === 0) blocks.push({ type: 'text', text: '(empty)' });
    const last = turns.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  }
  return turns;
}

interface AnthropicBlock {
  type?: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

interface AnthropicUsage {
  input_tokens?: unknown;
  output_tokens?: unknown;
  cache_creation_input_tokens?: unknown;
  cache_read_input_tokens?: unknown;
}

async function readJson(reader: ResponseReader, provider: string): Promise<LlmResult> {
  const json = parseJson(await reader.response.text(), provider, 'the answer') as {
    type?: string;
    content?: AnthropicBlock[];
    stop_reason?: string | null;
    usage?: AnthropicUsage;
    error?: { type?: string; message?: string };
  };
  if (json.type === 'error' || json.error) throw streamError(json.error, provider);
  if (!Array.isArray(json.content)) throw new LlmError(`${provider}: the answer has no content blocks`, 'llm_invalid_response', true);
  const content = json.content.filter((b) => b.type === 'text').map((b) => b.text ?? '').join('');
  const toolCalls: LlmToolCall[] = json.content.filter((b) => b.type === 'tool_use').map((b, i) => ({ id: b.id || `toolu_${i + 1}`, name: b.name ?? '', args: b.input ?? {} }));
  return { content, toolCalls, tokens: tokensOf(json.usage, json.usage), ...(json.stop_reason ? { finishReason: json.stop_reason } : {}) };
}

async function readStream(reader: ResponseReader, provider: string): Promise<LlmResult> {
  const blocks = new Map<number, { type: string; text: string; id: string; name: string; json: string; input: unknown }>();
  let start: AnthropicUsage | undefined;
  let end: AnthropicUsage | undefined;
  let finishReason: string | undefined;
  let stopped = false;
  await readSse(reader, (event) => {
    const data = parseJson(event.data, provider, `a streamed ${event.event ?? 'event'}`) as {
      type?: string;
      index?: number;
      message?: { usage?: AnthropicUsage };
      content_block?: AnthropicBlock;
      delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string | null };
      usage?: AnthropicUsage;
      error?: { type?: string; message?: string };
    };
    switch (data.type ?? event.event) {
      case 'message_start':
        start = data.message?.usage;
        break;
      case 'content_block_start': {
        const block = data.content_block ?? {};
        blocks.set(data.index ?? blocks.size, { type: block.type ?? 'text', text: block.text ?? '', id: block.id ?? '', name: block.name ?? '', json: '', input: block.input });
        if (block.type === 'text' && block.text) reader.deltas.push(block.text);
        break;
      }
      case 'content_block_delta': {
        const block = blocks.get(data.index ?? -1);
        if (!block) throw new LlmError(`${provider}: a streamed delta for content block ${data.index} that never started`, 'llm_invalid_response', true);
        if (data.delta?.type === 'text_delta' && data.delta.text) {
          block.text += data.delta.text;
          reader.deltas.push(data.delta.text);
        } else if (data.delta?.type === 'input_json_delta' && data.delta.partial_json) {
          block.json += data.delta.partial_json;
        }
        // Thinking and signature deltas are the model's scratchpad, not its answer.
        break;
      }
      case 'message_delta':
        if (data.delta?.stop_reason) finishReason = data.delta.stop_reason;
        if (data.usage) end = data.usage;
        break;
      case 'message_stop':
        stopped = true;
        break;
      case 'error':
        throw streamError(data.error, provider);
      default:
        // `ping`, `content_block_stop`, and event types added later.
        break;
    }
  });
  if (!stopped) throw new LlmError(`${provider}: the stream ended before message_stop`, 'llm_network', true);
  const ordered = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, block]) => block);
  const content = ordered.filter((b) => b.type === 'text').map((b) => b.text).join('');
  const toolCalls: LlmToolCall[] = ordered
    .filter((b) => b.type === 'tool_use')
    .map((b, i) => ({ id: b.id || `toolu_${i + 1}`, name: b.name, args: b.json === '' ? (b.input ?? {}) : parseToolArgs(b.json) }));
  return { content, toolCalls, tokens: tokensOf(start, end), ...(finishReason ? { finishReason } : {}) };
}

/** Input counts cached prompt tokens too; output is the final (cumulative) count. */
function tokensOf(start: AnthropicUsage | undefined, end: AnthropicUsage | undefined): { input: number; output: number } {
  const input = count(start?.input_tokens) + count(start?.cache_creation_input_tokens) + count(start?.cache_read_input_tokens);
  return { input: Math.max(input, count(end?.input_tokens)), output: Math.max(count(end?.output_tokens), count(start?.output_tokens)) };
}

/** `overloaded_error` and `api_error` mid-stream are worth another try; anything else is not. */
function streamError(error: { type?: string; message?: string } | undefined, provider: string): LlmError {
  const type = error?.type ?? 'error';
  const message = `${provider}: the server reported ${type}: ${(error?.message ?? '').slice(0, 500)}`;
  if (type === 'overloaded_error' || type === 'api_error') return new LlmError(message, 'llm_server_error', true);
  if (type === 'rate_limit_error') return new LlmError(message, 'llm_rate_limited', true);
  return new LlmError(message, 'llm_bad_request', false);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
