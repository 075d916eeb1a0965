import { afterEach, describe, expect, it } from 'vitest';
import { retryDelay } from '../scheduler/plan.js';
import { createOpenAiProvider, type OpenAiProviderConfig } from './openai.js';
import type { LlmCallOptions, LlmRequest } from './provider.js';
import { closeModelServers, json, oneCredential, openAiAnswer, openAiStream, providerHarness, recordingClock, sse, type Reply } from './test-servers.js';

const KEY = 'sk-test-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c';
const credentials = oneCredential('openai', KEY);

const request = (overrides: Partial<LlmRequest> = {}): LlmRequest => ({
  model: 'gpt-test',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello' },
  ],
  tools: [],
  temperature: 0.2,
  responseFormat: 'text',
  ...overrides,
});

afterEach(closeModelServers);

function setup(replies: Reply[], config: Omit<OpenAiProviderConfig, 'baseUrl'> = {}, options: Partial<LlmCallOptions> = {}) {
  return providerHarness(replies, (url) => createOpenAiProvider({ baseUrl: `${url}/v1`, credential: 'openai', retry: { maxAttempts: 3 }, ...config }), credentials, options);
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; retryable?: boolean };
  }
  throw new Error('expected the call to fail');
}

describe('OpenAI-compatible provider: answers', () => {
  it('sends the chat completions request with the key and reads text, usage, cost and finish reason', async () => {
    const { provider, call, server } = await setup([openAiAnswer('Hi there', { usage: [1_000, 500] })], { pricing: { 'gpt-test': { inputPerMTok: 2, outputPerMTok: 8 } } });
    const result = await provider.complete(request({ maxTokens: 50 }), call);
    expect(result).toEqual({ content: 'Hi there', toolCalls: [], tokens: { input: 1_000, output: 500 }, finishReason: 'stop', attempts: 1, costUsd: (1_000 * 2 + 500 * 8) / 1e6 });
    const sent = server.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(sent.body).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      temperature: 0.2,
      max_tokens: 50,
      stream: false,
    });
  });

  it('sends no key to a server configured without a credential (Ollama, llama.cpp)', async () => {
    const { provider, call, server } = await setup([openAiAnswer('local answer')], { credential: undefined, name: 'ollama' });
    const { credentials: _none, ...withoutStore } = call;
    await expect(provider.complete(request(), withoutStore)).resolves.toMatchObject({ content: 'local answer' });
    expect(server.requests[0]!.headers['authorization']).toBeUndefined();
  });

  it('streams text as coalesced deltas and keeps the usage of the final chunk', async () => {
    const pieces = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? 'x.' : 'ab'));
    const { provider, call, deltas, server } = await setup([openAiStream(pieces, { usage: [40, 100] })], {}, { stream: true });
    const result = await provider.complete(request(), call);
    expect(result.content).toBe(pieces.join(''));
    expect(result.tokens).toEqual({ input: 40, output: 100 });
    expect(result.finishReason).toBe('stop');
    // 200 characters in 2-character chunks: a delta per 64 characters, then the rest.
    expect(deltas.map((d) => d.text.length)).toEqual([64, 64, 64, 8]);
    expect(deltas.map((d) => d.text).join('')).toBe(result.content);
    expect(deltas.every((d) => d.attempt === 1)).toBe(true);
    expect(server.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(server.requests[0]!.headers['accept']).toBe('text/event-stream');
  });

  it('assembles streamed tool calls from their fragments, several in one turn', async () => {
    const toolCalls = [
      { id: 'call_a', name: 'lookup', args: { q: 'tides in Brest', limit: 3 } },
      { id: 'call_b', name: 'weather', args: { city: 'Brest' } },
    ];
    const { provider, call, server } = await setup([openAiStream(['Let me check.'], { toolCalls })], {}, { stream: true });
    const tools = [
      { name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
      { name: 'weather', description: 'Weather', parameters: { type: 'object' } },
    ];
    const result = await provider.complete(request({ tools }), call);
    expect(result.toolCalls).toEqual(toolCalls);
    expect(result.content).toBe('Let me check.');
    expect(result.finishReason).toBe('tool_calls');
    expect(server.requests[0]!.body.tools).toEqual(tools.map((t) => ({ type: 'function', function: t })));
  });

  it('sends earlier tool calls and results back in OpenAI\'s shape', async () => {
    const { provider, call, server } = await setup([openAiAnswer('done')]);
    await provider.complete(
      request({
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'lookup', args: { q: 'x' } }] },
          { role: 'tool', toolCallId: 'call_1', content: 'found' },
        ],
      }),
      call,
    );
    expect(server.requests[0]!.body.messages).toEqual([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'found' },
    ]);
  });

  it('asks for JSON: json_object for outputFormat json, json_schema for an output schema', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const { provider, call, server } = await setup([openAiAnswer('{"ok":true}'), openAiAnswer('{"ok":true}')]);
    await provider.complete(request({ responseFormat: 'json' }), call);
    await provider.complete(request({ responseFormat: 'json', outputSchema: schema }), call);
    expect(server.requests[0]!.body.response_format).toEqual({ type: 'json_object' });
    expect(server.requests[1]!.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema, strict: false } });
  });
});

describe('OpenAI-compatible provider: failures and retries', () => {
  it('waits as long as Retry-After says (seconds) on a 429, then succeeds', async () => {
    const { provider, call, clock, server } = await setup([json(429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '7' }), openAiAnswer('ok')]);
    const result = await provider.complete(request(), call);
    expect(result).toMatchObject({ content: 'ok', attempts: 2 });
    expect(clock.sleeps).toEqual([7_000]);
    expect(server.requests).toHaveLength(2);
  });

  it('reads Retry-After as an HTTP date on the run\'s clock, and retry-after-ms before it', async () => {
    const now = recordingClock().now();
    const date = new Date(now + 12_000).toUTCString();
    const { provider, call, clock } = await setup([
      json(429, { error: { message: 'slow down' } }, { 'retry-after': date }),
      json(503, { error: { message: 'busy' } }, { 'retry-after-ms': '250', 'retry-after': '30' }),
      openAiAnswer('ok'),
    ]);
    await expect(provider.complete(request(), call)).resolves.toMatchObject({ content: 'ok', attempts: 3 });
    expect(clock.sleeps).toEqual([12_000, 250]);
  });

  it('backs off with jitter derived from the call id after a 500, and says so when it gives up', async () => {
    const { provider, call, clock, server } = await setup([json(500, { error: { message: 'boom' } }), json(502, 'Bad gateway'), json(500, { error: { message: 'boom again' } })]);
    const error = await failure(provider.complete(request(), call));
    expect(error).toMatchObject({ code: 'llm_server_error', retryable: true });
    expect(error.message).toBe(`openai: server error from ${server.url}/v1/chat/completions (HTTP 500: boom again) (after 3 attempts)`);
    const policy = { backoffMs: 1_000, factor: 2, maxBackoffMs: 20_000, jitter: 0.5 };
    expect(clock.sleeps).toEqual([retryDelay(policy, 1, 'agent/1/llm/1#1'), retryDelay(policy, 2, 'agent/1/llm/1#2')]);
    expect(clock.sleeps[0]).toBeGreaterThan(500);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(1_000);
    expect(server.requests).toHaveLength(3);
  });

  it('recovers from a 500 on the next attempt', async () => {
    const { provider, call } = await setup([json(500, { error: { message: 'boom' } }), openAiAnswer('fine')]);
    await expect(provider.complete(request(), call)).resolves.toMatchObject({ content: 'fine', attempts: 2 });
  });

  it('does not wait longer than maxRetryAfterMs: it fails with the server\'s ask instead', async () => {
    const { provider, call, clock } = await setup([json(429, { error: { message: 'quota' } }, { 'retry-after': '3600' })]);
    const error = await failure(provider.complete(request(), call));
    expect(error.code).toBe('llm_rate_limited');
    expect(error.message).toContain('the server asked to retry after 3600 s, longer than the 60 s this provider waits');
    expect(clock.sleeps).toEqual([]);
  });

  it('names the refused credential and the server on a 401, without the key and without retrying', async () => {
    const { provider, call, server } = await setup([json(401, { error: { message: `Incorrect API key provided: ${KEY}.`, code: 'invalid_api_key' } })]);
    const error = await failure(provider.complete(request(), call));
    expect(error).toMatchObject({ code: 'llm_auth', retryable: false });
    expect(error.message).toBe(`openai: the API key in credential "openai" was refused by ${server.url}/v1/chat/completions (HTTP 401: Incorrect API key provided: [redacted:openai].)`);
    expect(server.requests).toHaveLength(1);
  });

  it('says the model is unknown on a 404, quoting the server', async () => {
    const { provider, call } = await setup([json(404, { error: { message: 'The model `gpt-nope` does not exist or you do not have access to it.', code: 'model_not_found' } })]);
    const error = await failure(provider.complete(request({ model: 'gpt-nope' }), call));
    expect(error).toMatchObject({ code: 'llm_unknown_model', retryable: false });
    expect(error.message).toContain('model "gpt-nope" is not available at');
    expect(error.message).toContain('does not exist');
  });

  it('suspects the base URL on a 404 that does not mention a model', async () => {
    const { provider, call } = await setup([json(404, 'Not Found')]);
    const error = await failure(provider.complete(request(), call));
    expect(error.code).toBe('llm_unknown_model');
    expect(error.message).toContain("check its base URL");
  });

  it('reports a missing credential by name, with the variable the CLI reads, before any request', async () => {
    const { provider, call, server } = await setup([openAiAnswer('never')]);
    const error = await failure(provider.complete(request(), { ...call, credential: 'team-openai' }));
    expect(error).toMatchObject({ code: 'credential_not_found', retryable: false });
    expect(error.message).toContain('credential "team-openai" is not set');
    const { credentials: _none, ...withoutStore } = call;
    const unavailable = await failure(provider.complete(request(), withoutStore));
    expect(unavailable.code).toBe('credential_unavailable');
    expect(unavailable.message).toContain('LOOM_CREDENTIAL_OPENAI');
    expect(server.requests).toHaveLength(0);
  });

  it('retries a connection that fails, then reports the server as unreachable', async () => {
    const { provider, call, clock, server } = await setup([]);
    await server.close();
    const error = await failure(provider.complete(request(), call));
    expect(error).toMatchObject({ code: 'llm_network', retryable: true });
    expect(error.message).toMatch(/^openai: could not reach http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: .* \(after 3 attempts\)$/);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('times out a stream that stalls, retrying it as llm_timeout', async () => {
    const stalled = openAiStream(['Hel', 'lo', ' there'], { stallAfter: 2 });
    const { provider, call, deltas, server } = await setup([stalled, stalled], { stallTimeoutMs: 150, retry: { maxAttempts: 2 } }, { stream: true });
    const started = performance.now();
    const error = await failure(provider.complete(request(), call));
    expect(error).toMatchObject({ code: 'llm_timeout', retryable: true });
    expect(error.message).toBe(`openai: the stream from ${server.url}/v1/chat/completions stalled (nothing for 150 ms) (after 2 attempts)`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    // The server saw each stalled request closed.
    await Promise.all([server.aborted(0), server.aborted(1)]);
    // What streamed before a stall is sent: each attempt's text is marked with its attempt.
    expect(deltas).toEqual([
      { text: 'Hel', attempt: 1 },
      { text: 'Hel', attempt: 2 },
    ]);
  });

  it('limits a whole request with requestTimeoutMs', async () => {
    const slow: Reply = (_request, res) => {
      setTimeout(() => res.writableEnded || res.destroyed || res.end(), 2_000);
    };
    const { provider, call } = await setup([slow], { retry: { maxAttempts: 1 } }, { requestTimeoutMs: 100 });
    const error = await failure(provider.complete(request(), call));
    expect(error).toMatchObject({ code: 'llm_timeout' });
    expect(error.message).toContain('no complete answer from');
    expect(error.message).toContain('within 100 ms');
  });

  it('closes the connection when the call is cancelled mid-stream', async () => {
    const controller = new AbortController();
    const chunks = Array.from({ length: 50 }, () => 'word '.repeat(20));
    const { provider, call, deltas, server } = await setup([openAiStream(chunks, { pauseMs: 20 })], {}, { stream: true, signal: controller.signal });
    const pending = provider.complete(request(), { ...call, onDelta: (delta) => (deltas.push(delta), deltas.length === 2 && controller.abort(new Error('cancelled by the test'))) });
    const error = await failure(pending);
    expect(error.message).toBe('cancelled by the test');
    await server.aborted(0);
    expect(deltas).toHaveLength(2);
  });

  it('treats an error event inside a 200 stream as a server error worth retrying', async () => {
    const broken = sse([{ data: { error: { message: 'upstream overloaded', type: 'server_error' } } }]);
    const { provider, call } = await setup([broken, openAiStream(['ok'])], {}, { stream: true });
    await expect(provider.complete(request(), call)).resolves.toMatchObject({ content: 'ok', attempts: 2 });
  });

  it('rejects a stream that ends without finishing, as a broken answer', async () => {
    const cut = sse([{ data: { choices: [{ index: 0, delta: { content: 'Hal' }, finish_reason: null }] } }]);
    const { provider, call } = await setup([cut], { retry: { maxAttempts: 1 } }, { stream: true });
    const error = await failure(provider.complete(request(), call));
    expect(error.code).toBe('llm_network');
    expect(error.message).toContain('the stream ended before the answer was complete');
  });
});
