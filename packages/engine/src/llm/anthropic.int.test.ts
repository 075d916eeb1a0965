import { afterEach, describe, expect, it } from 'vitest';
import { createAnthropicProvider, type AnthropicProviderConfig } from './anthropic.js';
import type { LlmCallOptions, LlmRequest } from './provider.js';
import { anthropicAnswer, anthropicStream, closeModelServers, json, oneCredential, providerHarness, type Reply } from './test-servers.js';

const KEY = 'sk-ant-test-0123456789abcdef0123456789abcdef';
const credentials = oneCredential('anthropic', KEY);

const tools = [{ name: 'lookup', description: 'Looks things up', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }];

const request = (overrides: Partial<LlmRequest> = {}): LlmRequest => ({
  model: 'claude-test',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello' },
  ],
  tools: [],
  temperature: 0,
  responseFormat: 'text',
  ...overrides,
});

afterEach(closeModelServers);

function setup(replies: Reply[], config: Omit<AnthropicProviderConfig, 'baseUrl'> = {}, options: Partial<LlmCallOptions> = {}) {
  return providerHarness(replies, (url) => createAnthropicProvider({ baseUrl: url, ...config }), credentials, options);
}

describe('Anthropic Messages provider', () => {
  it('sends the system prompt as its own field, the key as x-api-key, and a default max_tokens', async () => {
    const { provider, call, server } = await setup([anthropicAnswer('Hi!', { usage: [20, 3] })], { pricing: { 'claude-test': { inputPerMTok: 3, outputPerMTok: 15 } } });
    const result = await provider.complete(request(), call);
    expect(result).toEqual({ content: 'Hi!', toolCalls: [], tokens: { input: 20, output: 3 }, finishReason: 'end_turn', attempts: 1, costUsd: (20 * 3 + 3 * 15) / 1e6 });
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(KEY);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers['authorization']).toBeUndefined();
    expect(sent.body).toEqual({
      model: 'claude-test',
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
      temperature: 0,
      stream: false,
    });
  });

  it('sends tool calls as tool_use blocks and their results as one user turn of tool_result blocks', async () => {
    const { provider, call, server } = await setup([anthropicAnswer('done')]);
    await provider.complete(
      request({
        tools,
        messages: [
          { role: 'user', content: 'find two things' },
          { role: 'assistant', content: 'Looking.', toolCalls: [{ id: 'toolu_1', name: 'lookup', args: { q: 'a' } }, { id: 'toolu_2', name: 'lookup', args: { q: 'b' } }] },
          { role: 'tool', toolCallId: 'toolu_1', content: 'A' },
          { role: 'tool', toolCallId: 'toolu_2', content: 'B' },
        ],
      }),
      call,
    );
    const body = server.requests[0]!.body;
    expect(body.tools).toEqual([{ name: 'lookup', description: 'Looks things up', input_schema: tools[0]!.parameters }]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'find two things' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'a' } },
          { type: 'tool_use', id: 'toolu_2', name: 'lookup', input: { q: 'b' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'A' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'B' },
        ],
      },
    ]);
  });

  it('reads tool_use blocks of a plain answer', async () => {
    const { provider, call } = await setup([anthropicAnswer('', { toolUses: [{ id: 'toolu_9', name: 'lookup', input: { q: 'tides' } }] })]);
    const result = await provider.complete(request({ tools }), call);
    expect(result.toolCalls).toEqual([{ id: 'toolu_9', name: 'lookup', args: { q: 'tides' } }]);
    expect(result.finishReason).toBe('tool_use');
  });

  it('streams text deltas and assembles tool input from input_json_delta fragments', async () => {
    const chunks = ['Checking ', 'the ', 'tide tables ', 'for you.'];
    const toolUses = [
      { id: 'toolu_a', name: 'lookup', input: { q: 'Brest', days: [1, 2] } },
      { id: 'toolu_b', name: 'lookup', input: { q: 'Cherbourg' } },
    ];
    const { provider, call, deltas, server } = await setup([anthropicStream(chunks, { toolUses, usage: [30, 44] })], {}, { stream: true });
    const result = await provider.complete(request({ tools }), call);
    expect(result.content).toBe(chunks.join(''));
    expect(result.toolCalls).toEqual(toolUses.map((t) => ({ id: t.id, name: t.name, args: t.input })));
    expect(result.tokens).toEqual({ input: 30, output: 44 });
    expect(result.finishReason).toBe('tool_use');
    expect(deltas.map((d) => d.text).join('')).toBe(chunks.join(''));
    expect(server.requests[0]!.body.stream).toBe(true);
  });

  it('retries an overloaded_error event mid-stream', async () => {
    const { provider, call, deltas, sleeps } = await setup([anthropicStream(['Part'], { errorAfter: { type: 'overloaded_error', message: 'Overloaded' } }), anthropicStream(['Whole answer'])], {}, { stream: true });
    const result = await provider.complete(request(), call);
    expect(result).toMatchObject({ content: 'Whole answer', attempts: 2 });
    expect(sleeps).toHaveLength(1);
    expect(deltas).toEqual([
      { text: 'Part', attempt: 1 },
      { text: 'Whole answer', attempt: 2 },
    ]);
  });

  it('honours Retry-After on a 529 overloaded answer', async () => {
    const { provider, call, sleeps } = await setup([json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, { 'retry-after': '3' }), anthropicAnswer('ok')]);
    await expect(provider.complete(request(), call)).resolves.toMatchObject({ content: 'ok' });
    expect(sleeps).toEqual([3_000]);
  });

  it('names the credential on a 401 and never shows the key', async () => {
    const { provider, call, server } = await setup([json(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } })]);
    const error = (await provider.complete(request(), call).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('llm_auth');
    expect(error.message).toBe(`anthropic: the API key in credential "anthropic" was refused by ${server.url}/v1/messages (HTTP 401: invalid x-api-key)`);
    expect(error.message).not.toContain(KEY);
  });

  it('reports an unknown model from its not_found_error', async () => {
    const { provider, call } = await setup([json(404, { type: 'error', error: { type: 'not_found_error', message: 'model: claude-nope' } })]);
    const error = (await provider.complete(request({ model: 'claude-nope' }), call).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('llm_unknown_model');
    expect(error.message).toContain('model "claude-nope" is not available');
  });

  it('asks for JSON in the system prompt, since the API has no JSON mode', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
    const { provider, call, server } = await setup([anthropicAnswer('{"ok":true}')]);
    await provider.complete(request({ responseFormat: 'json', outputSchema: schema }), call);
    expect(server.requests[0]!.body.system).toBe(`Be brief.\n\nAnswer with a single JSON value and nothing else, matching this JSON Schema:\n${JSON.stringify(schema)}`);
  });
});
