import type { ChatMessage } from '@loom/shared';
import { LlmError } from './http-retry.js';
import type { LlmCallOptions, LlmProvider, LlmRequest, LlmResult, LlmToolCall } from './provider.js';
import { checkBaseUrl, costOf, count, parseJson, parseToolArgs, postModel, readSse, transportSettings, type ModelPricing, type ResponseReader, type TransportConfig } from './transport.js';

export interface OpenAiProviderConfig extends TransportConfig {
  /** The `provider` of `provider/model` names; default `openai`. */
  name?: string;
  /**
   * Where `/chat/completions` lives: `https://api.openai.com/v1` (default), Ollama's
   * `http://localhost:11434/v1`, vLLM's or LM Studio's `http://host:port/v1`, llama.cpp's server...
   */
  baseUrl?: string;
  /** Credential holding the API key, sent as a bearer token. Absent: no key (a local server). */
  credential?: string;
  /** How the key is sent; default `authorization: Bearer <key>` (Azure: `{ header: 'api-key', prefix: '' }`). */
  auth?: { header?: string; prefix?: string };
  /** Sent with every request (e.g. `OpenAI-Organization`). */
  defaultHeaders?: Record<string, string>;
  /** Prices per model name, to record `costUsd`; models without one record no cost. */
  pricing?: Record<string, ModelPricing>;
  /** OpenAI's reasoning models take `max_completion_tokens`; most other servers only `max_tokens` (the default). */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Ask for token usage at the end of a stream (`stream_options.include_usage`); default true. */
  streamUsage?: boolean;
}

/**
 * A provider speaking OpenAI's chat completions API, which OpenAI, Ollama, vLLM, the
 * llama.cpp server and LM Studio all serve. Streams with server-sent events; tools are
 * `function` tools; `outputSchema` is sent as a `json_schema` response format.
 */
export function createOpenAiProvider(config: OpenAiProviderConfig = {}): LlmProvider {
  const name = config.name ?? 'openai';
  const baseUrl = checkBaseUrl(config.baseUrl ?? 'https://api.openai.com/v1', name);
  const settings = transportSettings(config);
  const maxTokensField = config.maxTokensField ?? 'max_tokens';
  const streamUsage = config.streamUsage ?? true;

  return {
    name,
    async complete(request: LlmRequest, options: LlmCallOptions): Promise<LlmResult> {
      const credential = options.credential ?? config.credential;
      const body = {
        model: request.model,
        messages: request.messages.map(toOpenAiMessage),
        temperature: request.temperature,
        ...(request.maxTokens !== undefined ? { [maxTokensField]: request.maxTokens } : {}),
        ...(request.tools.length > 0
          ? { tools: request.tools.map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } })) }
          : {}),
        ...responseFormat(request),
        stream: options.stream,
        ...(options.stream && streamUsage ? { stream_options: { include_usage: true } } : {}),
      };
      const result = await postModel(
        {
          provider: name,
          model: request.model,
          url: `${baseUrl}/chat/completions`,
          headers: { ...config.defaultHeaders },
          body,
          ...(credential ? { auth: { credential, header: (config.auth?.header ?? 'authorization').toLowerCase(), prefix: config.auth?.prefix ?? 'Bearer ' } } : {}),
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

function responseFormat(request: LlmRequest): Record<string, unknown> {
  if (request.outputSchema) return { response_format: { type: 'json_schema', json_schema: { name: 'output', schema: request.outputSchema, strict: false } } };
  if (request.responseFormat === 'json') return { response_format: { type: 'json_object' } };
  return {};
}

function toOpenAiMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case 'assistant':
      if (!message.toolCalls || message.toolCalls.length === 0) return { role: 'assistant', content: message.content };
      return {
        role: 'assistant',
        content: message.content === '' ? null : message.content,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: typeof call.args === 'string' ? call.args : JSON.stringify(call.args ?? {}) },
        })),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content };
    default:
      return { role: message.role, content: message.content };
  }
}

interface OpenAiToolCall {
  id?: string;
  index?: number;
  function?: { name?: string; arguments?: unknown };
}

interface OpenAiChoice {
  message?: { content?: unknown; tool_calls?: OpenAiToolCall[] };
  delta?: { content?: unknown; tool_calls?: OpenAiToolCall[] };
  finish_reason?: string | null;
}

interface OpenAiBody {
  choices?: OpenAiChoice[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: { message?: string; type?: string; code?: unknown } | string;
}

async function readJson(reader: ResponseReader, provider: string): Promise<LlmResult> {
  const json = parseJson(await reader.response.text(), provider, 'the answer') as OpenAiBody;
  if (json.error) throw streamError(json.error, provider);
  const choice = json.choices?.[0];
  if (!choice?.message) throw new LlmError(`${provider}: the answer has no choices[0].message`, 'llm_invalid_response', true);
  const toolCalls: LlmToolCall[] = (choice.message.tool_calls ?? []).map((call, i) => ({
    id: call.id || `call_${i + 1}`,
    name: call.function?.name ?? '',
    args: parseToolArgs(call.function?.arguments),
  }));
  return {
    content: textOf(choice.message.content),
    toolCalls,
    tokens: { input: count(json.usage?.prompt_tokens), output: count(json.usage?.completion_tokens) },
    ...(choice.finish_reason ? { finishReason: choice.finish_reason } : {}),
  };
}

/**
 * `data: {chunk}` events until `data: [DONE]`. Text arrives in `delta.content`; a tool
 * call arrives in pieces keyed by `index`: its id and name first, then its arguments as
 * JSON text in fragments. With `include_usage`, the last chunk has the usage and no choices.
 */
async function readStream(reader: ResponseReader, provider: string): Promise<LlmResult> {
  let content = '';
  const calls = new Map<number, { id: string; name: string; args: string }>();
  let finishReason: string | undefined;
  let usage: OpenAiBody['usage'];
  let done = false;
  await readSse(reader, (event) => {
    if (done) return;
    if (event.data.trim() === '[DONE]') {
      done = true;
      return;
    }
    const chunk = parseJson(event.data, provider, 'a streamed chunk') as OpenAiBody;
    if (chunk.error) throw streamError(chunk.error, provider);
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return;
    const text = textOf(choice.delta?.content);
    if (text !== '') {
      content += text;
      reader.deltas.push(text);
    }
    for (const part of choice.delta?.tool_calls ?? []) {
      const index = part.index ?? calls.size;
      const call = calls.get(index) ?? { id: '', name: '', args: '' };
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      const args = part.function?.arguments;
      if (typeof args === 'string') call.args += args;
      else if (args !== undefined && args !== null) call.args += JSON.stringify(args);
      calls.set(index, call);
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  });
  if (!done && finishReason === undefined) {
    throw new LlmError(`${provider}: the stream ended before the answer was complete (no finish_reason or [DONE])`, 'llm_network', true);
  }
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, call], i) => ({ id: call.id || `call_${i + 1}`, name: call.name, args: parseToolArgs(call.args) }));
  return {
    content,
    toolCalls,
    tokens: { input: count(usage?.prompt_tokens), output: count(usage?.completion_tokens) },
    ...(finishReason ? { finishReason } : {}),
  };
}

/** Content is a string, or (some servers) a list of `{ type: 'text', text }` parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('');
  return '';
}

/** An error the server reported inside a 200 answer or mid-stream; worth one more try. */
function streamError(error: NonNullable<OpenAiBody['error']>, provider: string): LlmError {
  const message = typeof error === 'string' ? error : (error.message ?? JSON.stringify(error));
  return new LlmError(`${provider}: the server reported an error: ${message.slice(0, 500)}`, 'llm_server_error', true);
}
