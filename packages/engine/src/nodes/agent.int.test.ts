import { encodeEventsNdjson } from '@loom/shared';
import { afterEach, describe, expect, it } from 'vitest';
import type { CredentialSource, HttpClient } from '../context/context.js';
import { fetchHttpClient } from '../context/defaults.js';
import { createAnthropicProvider } from '../llm/anthropic.js';
import { createOpenAiProvider } from '../llm/openai.js';
import { createReplayProviders } from '../llm/replay.js';
import { anthropicAnswer, anthropicStream, json, openAiAnswer, openAiStream, startModelServer, type ModelServer } from '../llm/test-servers.js';
import { findDivergence } from '../replay/divergence.js';
import { eventsOf, flowDoc, run } from '../test-harness.js';

const OPENAI_KEY = 'sk-live-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const ANTHROPIC_KEY = 'sk-ant-live-test-00112233445566778899aabbccddeeff';
const credentials: CredentialSource = {
  get: async (name) => {
    if (name === 'openai') return OPENAI_KEY;
    if (name === 'anthropic') return ANTHROPIC_KEY;
    throw new Error(`credential "${name}" is not set`);
  },
};

/** Two slow tools: run one after the other they would take 200 ms of (virtual) time, in parallel 100. */
const tools = [
  { name: 'tides', description: 'Tide times for a port', skill: 'delay', params: { ms: 100 }, parameters: { type: 'object', properties: { port: { type: 'string' } }, required: ['port'] } },
  { name: 'weather', description: 'Weather for a city', skill: 'delay', params: { ms: 100 }, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
];

function agentFlow(config: Record<string, unknown>) {
  return flowDoc(
    [{ id: 'in', kind: 'input' }, { id: 'agent', kind: 'agent', config: { tools, ...config } }, { id: 'out', kind: 'output' }],
    [
      { from: 'in', to: 'agent' },
      { from: 'agent', to: 'out' },
    ],
  );
}

const finalText = 'High tide in Brest is at 06:12 and the weather is fair, so it is a good morning for a walk along the harbour.';

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('an agent on an OpenAI-compatible server', () => {
  it('streams, runs two tool calls of one turn in parallel, and a replay gives the same run with no HTTP request', async () => {
    server = await startModelServer([
      openAiStream(['Let me look ', 'that up.'], {
        toolCalls: [
          { id: 'call_t', name: 'tides', args: { port: 'Brest' } },
          { id: 'call_w', name: 'weather', args: { city: 'Brest' } },
        ],
        usage: [50, 20],
      }),
      openAiStream(finalText.match(/.{1,7}/g)!, { usage: [90, 30] }),
    ]);
    const openai = createOpenAiProvider({ baseUrl: `${server.url}/v1`, credential: 'openai', pricing: { 'gpt-test': { inputPerMTok: 1, outputPerMTok: 4 } } });
    const flow = agentFlow({ model: 'openai/gpt-test', systemPrompt: 'You plan walks.', prompt: 'Is {{ day }} good for a walk in Brest?' });
    const input = { day: 'Tuesday' };

    const live = await run(flow, { input, context: { llm: new Map([['openai', openai]]), http: fetchHttpClient, credentials } });
    expect(live.result.status).toBe('succeeded');
    expect(live.result.output).toBe(finalText);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.body.messages.slice(-3)).toEqual([
      {
        role: 'assistant',
        content: 'Let me look that up.',
        tool_calls: [
          { id: 'call_t', type: 'function', function: { name: 'tides', arguments: '{"port":"Brest"}' } },
          { id: 'call_w', type: 'function', function: { name: 'weather', arguments: '{"city":"Brest"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_t', content: '{"port":"Brest"}' },
      { role: 'tool', tool_call_id: 'call_w', content: '{"city":"Brest"}' },
    ]);

    // Both tools started together: both finished 100 ms after the first answer, not 100 and 200.
    const [firstResponse] = eventsOf(live.events, 'llm.response');
    expect(eventsOf(live.events, 'tool.call').map((e) => e.ts - firstResponse!.ts)).toEqual([100, 100]);
    // The answer streamed: deltas of the second call add up to its text.
    const deltas = eventsOf(live.events, 'llm.delta').filter((e) => e.callId === 'agent/1/llm/2');
    expect(deltas.map((e) => e.index)).toEqual([0, 1]);
    expect(deltas.map((e) => e.text).join('')).toBe(finalText);
    expect(eventsOf(live.events, 'llm.response').map((e) => [e.tokens, e.costUsd, e.finishReason, e.attempts])).toEqual([
      [{ input: 50, output: 20 }, (50 + 20 * 4) / 1e6, 'tool_calls', 1],
      [{ input: 90, output: 30 }, (90 + 30 * 4) / 1e6, 'stop', 1],
    ]);
    expect(encodeEventsNdjson(live.events)).not.toContain(OPENAI_KEY);

    let httpCalls = 0;
    const refuse: HttpClient = async (url) => {
      httpCalls += 1;
      throw new Error(`a replay made an HTTP request to ${url}`);
    };
    const replay = await run(flow, { input, context: { llm: createReplayProviders(live.events), http: refuse } });
    expect(httpCalls).toBe(0);
    expect(server.requests).toHaveLength(2);
    expect(replay.result.output).toBe(live.result.output);
    expect(findDivergence(live.events, replay.events)).toBeUndefined();
    expect(replay.events.map(({ ts: _ts, ...event }) => event)).toEqual(live.events.map(({ ts: _ts, ...event }) => event));
  });

  it('repairs a structured answer the server got wrong, with the validation errors', async () => {
    server = await startModelServer([openAiAnswer('{"walk": "yes"}'), openAiAnswer('{"walk": true, "reason": "fair weather"}')]);
    const openai = createOpenAiProvider({ baseUrl: `${server.url}/v1`, credential: 'openai' });
    const outputSchema = { type: 'object', properties: { walk: { type: 'boolean' }, reason: { type: 'string' } }, required: ['walk', 'reason'] };
    const { result } = await run(agentFlow({ model: 'openai/gpt-test', prompt: 'Walk?', outputSchema, tools: [], stream: false }), {
      context: { llm: new Map([['openai', openai]]), http: fetchHttpClient, credentials },
    });
    expect(result.output).toEqual({ walk: true, reason: 'fair weather' });
    expect(server.requests[0]!.body.response_format).toMatchObject({ type: 'json_schema' });
    const repair = server.requests[1]!.body.messages.at(-1);
    expect(repair.role).toBe('user');
    expect(repair.content).toContain('- $.walk: Invalid input: expected boolean, received string');
    expect(repair.content).toContain('- $.reason: Invalid input: expected string, received undefined');
  });

  it('fails the node with llm_auth on a refused key, logging the error but never the key', async () => {
    server = await startModelServer([json(401, { error: { message: `Incorrect API key provided: ${OPENAI_KEY}` } })]);
    const openai = createOpenAiProvider({ baseUrl: `${server.url}/v1`, credential: 'openai' });
    const { result, events } = await run(agentFlow({ model: 'openai/gpt-test', prompt: 'hi' }), {
      context: { llm: new Map([['openai', openai]]), http: fetchHttpClient, credentials },
    });
    expect(result.error).toMatchObject({ code: 'llm_auth', retryable: false, nodeId: 'agent' });
    expect(eventsOf(events, 'llm.response')[0]!.error).toMatchObject({ code: 'llm_auth', message: expect.stringContaining('[redacted:openai]') });
    expect(encodeEventsNdjson(events)).not.toContain(OPENAI_KEY);
  });

  it('ends a cancelled run mid-stream: the server sees the connection closed', async () => {
    server = await startModelServer([openAiStream(Array.from({ length: 200 }, () => 'more words '.repeat(7)), { pauseMs: 10 })]);
    const openai = createOpenAiProvider({ baseUrl: `${server.url}/v1`, credential: 'openai' });
    const controller = new AbortController();
    const sink: { deltas: number } = { deltas: 0 };
    const logged: string[] = [];
    const pending = run(agentFlow({ model: 'openai/gpt-test', prompt: 'talk' }), {
      signal: controller.signal,
      context: {
        llm: new Map([['openai', openai]]),
        http: fetchHttpClient,
        credentials,
        log: {
          append: (event) => {
            logged.push(event.type);
            if (event.type === 'llm.delta' && ++sink.deltas === 3) controller.abort();
          },
        },
      },
    });
    await server.aborted(0);
    const { result } = await pending;
    expect(result.status).toBe('cancelled');
    expect(logged.at(-1)).toBe('run.finished');
    expect(logged.filter((t) => t === 'llm.delta')).toHaveLength(3);
    expect(logged).not.toContain('llm.response');
  });
});

describe('an agent on the Anthropic Messages API', () => {
  it('calls tools through tool_use blocks and answers, streamed', async () => {
    server = await startModelServer([
      anthropicStream(['Checking.'], {
        toolUses: [
          { id: 'toolu_t', name: 'tides', input: { port: 'Brest' } },
          { id: 'toolu_w', name: 'weather', input: { city: 'Brest' } },
        ],
      }),
      anthropicStream([finalText]),
    ]);
    const anthropic = createAnthropicProvider({ baseUrl: server.url });
    const { result, events } = await run(agentFlow({ model: 'anthropic/claude-test', prompt: 'Walk in Brest?' }), {
      context: { llm: new Map([['anthropic', anthropic]]), http: fetchHttpClient, credentials },
    });
    expect(result.output).toBe(finalText);
    expect(eventsOf(events, 'tool.call').map((e) => [e.tool, e.result])).toEqual([
      ['tides', { port: 'Brest' }],
      ['weather', { city: 'Brest' }],
    ]);
    expect(server.requests[1]!.body.messages.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_t', content: '{"port":"Brest"}' },
        { type: 'tool_result', tool_use_id: 'toolu_w', content: '{"city":"Brest"}' },
      ],
    });
    expect(encodeEventsNdjson(events)).not.toContain(ANTHROPIC_KEY);
  });

  it('works without streaming too', async () => {
    server = await startModelServer([anthropicAnswer('Plain answer.')]);
    const anthropic = createAnthropicProvider({ baseUrl: server.url });
    const { result, events } = await run(agentFlow({ model: 'anthropic/claude-test', prompt: 'hi', stream: false }), {
      context: { llm: new Map([['anthropic', anthropic]]), http: fetchHttpClient, credentials },
    });
    expect(result.output).toBe('Plain answer.');
    expect(eventsOf(events, 'llm.delta')).toHaveLength(0);
  });
});
