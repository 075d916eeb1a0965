import type { ChatMessage, RunEvent } from '@loom/shared';
import { describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH, validateFlow } from '../graph/compile.js';
import { createLocalProvider, LOCAL_PROVIDER_NOTICE } from '../llm/local.js';
import { noNetwork, systemClock } from '../context/defaults.js';
import type { LlmCallOptions, LlmDelta, LlmProvider, LlmRequest, LlmResult } from '../llm/provider.js';
import { createReplayProviders } from '../llm/replay.js';
import { eventsOf, flowDoc, run, statusesOf } from '../test-harness.js';
import { windowMessages } from './agent.js';

const tools = [
  { name: 'upper', skill: 'template', params: { template: '{{ $uppercase(text) }}' } },
  { name: 'count', description: 'Counts characters', skill: 'json.transform', params: { expression: '$length(text)' } },
  { name: 'parse', skill: 'json.parse', params: { field: 'text' } },
];

function agentFlow(config: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return flowDoc(
    [{ id: 'in', kind: 'input' }, { id: 'agent', kind: 'agent', config, ...extra }, { id: 'out', kind: 'output' }],
    [
      { from: 'in', to: 'agent' },
      { from: 'agent', to: 'out' },
    ],
  );
}

/** The agent's own events, as `type` or `type:tool`. */
function agentTimeline(events: readonly RunEvent[]): string[] {
  return events.flatMap((e) => {
    if (e.type === 'node.status') return e.nodeId === 'agent' ? [`status:${e.status}`] : [];
    if (e.type === 'tool.call') return [`tool.call:${e.tool}`];
    if (e.type === 'llm.request' || e.type === 'llm.response' || e.type === 'llm.delta') return [e.type];
    return [];
  });
}

describe('agent with the local provider', () => {
  it('calls a tool the prompt names, gives the model its result, and answers', async () => {
    const { result, events, state } = await run(agentFlow({ model: 'local/echo', prompt: 'Please upper this: {{ topic }}', tools }), { input: { topic: 'tides' } });
    expect(result.status).toBe('succeeded');
    expect(agentTimeline(events)).toEqual(['status:running', 'llm.request', 'llm.response', 'tool.call:upper', 'llm.request', 'llm.response', 'status:succeeded']);

    const [first, second] = eventsOf(events, 'llm.request');
    expect(first).toMatchObject({ provider: 'local', model: 'echo', tools: ['upper', 'count', 'parse'], messages: [{ role: 'user', content: 'Please upper this: tides' }] });
    const [asked, answered] = eventsOf(events, 'llm.response');
    expect(asked!.toolCalls).toEqual([{ id: 'call_1', name: 'upper', args: { text: 'Please upper this: tides' } }]);
    expect(eventsOf(events, 'tool.call')[0]).toMatchObject({ tool: 'upper', args: { text: 'Please upper this: tides' }, result: 'PLEASE UPPER THIS: TIDES' });
    expect(second!.messages.at(-1)).toEqual({ role: 'tool', toolCallId: 'call_1', content: 'PLEASE UPPER THIS: TIDES' });
    expect(answered!.toolCalls).toBeUndefined();

    expect(result.output).toContain(LOCAL_PROVIDER_NOTICE);
    expect(result.output).toContain('upper: PLEASE UPPER THIS: TIDES');
    expect(state.llm.calls).toBe(2);
    expect(state.toolCalls).toBe(1);
    expect(state.llm.tokens.input).toBeGreaterThan(0);
  });

  it('answers without tools when the prompt names none', async () => {
    const { result, events } = await run(agentFlow({ prompt: 'just talk', tools }));
    expect(agentTimeline(events)).toEqual(['status:running', 'llm.request', 'llm.response', 'status:succeeded']);
    expect(result.output).toBe(`[${LOCAL_PROVIDER_NOTICE}] You said: just talk`);
  });

  it('calls several named tools in one turn, before asking the model again', async () => {
    const { result, events } = await run(agentFlow({ prompt: 'upper and count "{{ word }}"', tools }), { input: { word: 'abc' } });
    expect(agentTimeline(events)).toEqual([
      'status:running',
      'llm.request',
      'llm.response',
      'tool.call:upper',
      'tool.call:count',
      'llm.request',
      'llm.response',
      'status:succeeded',
    ]);
    const calls = eventsOf(events, 'tool.call');
    expect(calls.map((c) => c.result)).toEqual(['UPPER AND COUNT "ABC"', 'upper and count "abc"'.length]);
    expect(eventsOf(events, 'llm.request')[1]!.messages.filter((m) => m.role === 'tool').map((m) => m.toolCallId)).toEqual(['call_1', 'call_2']);
  });

  it('hands a failing tool\'s error to the model instead of failing the node', async () => {
    const { result, events } = await run(agentFlow({ prompt: 'parse this', tools }));
    expect(result.status).toBe('succeeded');
    const call = eventsOf(events, 'tool.call')[0]!;
    expect(call.error).toMatchObject({ code: 'invalid_input' });
    expect(call.error!.message).toContain('not valid JSON');
    expect(eventsOf(events, 'llm.request')[1]!.messages.at(-1)!.content).toMatch(/^error: not valid JSON/);
  });

  it('parses the final answer when outputFormat is json', async () => {
    const { result } = await run(agentFlow({ prompt: 'hello {{ name }}', outputFormat: 'json' }), { input: { name: 'Ada' } });
    expect(result.output).toEqual({ provider: LOCAL_PROVIDER_NOTICE, echo: 'hello Ada', toolResults: [] });
  });
});

describe('agent limits and errors', () => {
  /** A model that never stops asking for a tool. */
  const insistent: LlmProvider = {
    name: 'insistent',
    complete: async (request: LlmRequest) => ({
      content: 'one more',
      toolCalls: [{ id: `call_${request.messages.length}`, name: 'upper', args: { text: 'again' } }],
      tokens: { input: 1, output: 1 },
    }),
  };

  it('stops after maxIterations model turns with a clear error', async () => {
    const { result, events } = await run(agentFlow({ model: 'insistent/loop', prompt: 'go', tools, maxIterations: 3 }), {
      context: { llm: new Map([['insistent', insistent]]) },
    });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'max_iterations', nodeId: 'agent', retryable: false });
    expect(result.error!.message).toContain('no final answer after maxIterations 3 model turns');
    expect(eventsOf(events, 'llm.request')).toHaveLength(3);
    expect(eventsOf(events, 'tool.call')).toHaveLength(3);
  });

  it('names the available providers when the model\'s provider is unknown, and does not retry', async () => {
    const { result, events } = await run(agentFlow({ model: 'openai/gpt-4o' }, { retry: { maxAttempts: 3, backoffMs: 10 } }), {
      context: { llm: new Map([['local', createLocalProvider()], ['insistent', insistent]]) },
    });
    expect(result.error).toMatchObject({ code: 'unknown_provider' });
    expect(result.error!.message).toContain('no LLM provider "openai" is configured (available: local, insistent)');
    expect(statusesOf(events, 'agent')).toEqual(['running#1', 'failed#1']);
    expect(eventsOf(events, 'llm.request')).toHaveLength(0);
  });

  it('rejects a model name without "provider/" at config.model', () => {
    const result = validateFlow(agentFlow({ model: 'gpt-4o' }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      { path: ['nodes', 1, 'config', 'model'], nodeId: 'agent', message: 'model must be "provider/model" (e.g. "local/echo"), got "gpt-4o"' },
    ]);
  });

  it('reports a tool with an unknown skill at its place in config.tools', () => {
    const result = validateFlow(agentFlow({ tools: [...tools, { name: 'fly', skill: 'wings' }] }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]!.path).toEqual(['nodes', 1, 'config', 'tools', 3, 'skill']);
    expect(result.issues[0]!.message).toContain('unknown skill "wings"');
  });
});

/** A provider that gives the scripted answers in order and keeps what it was asked. */
function scripted(answers: (Partial<LlmResult> & { deltas?: LlmDelta[] })[]) {
  const requests: LlmRequest[] = [];
  const calls: LlmCallOptions[] = [];
  const provider: LlmProvider = {
    name: 'scripted',
    complete: async (request, options) => {
      requests.push(structuredClone(request));
      calls.push(options);
      const answer = answers[requests.length - 1];
      if (!answer) throw new Error(`no scripted answer for call ${requests.length}`);
      for (const delta of answer.deltas ?? []) options.onDelta?.(delta);
      const { deltas: _deltas, ...result } = answer;
      return { content: '', toolCalls: [], tokens: { input: 1, output: 1 }, ...result };
    },
  };
  return { provider, requests, calls, context: { llm: new Map([['scripted', provider]]) } };
}

describe('agent structured output', () => {
  const outputSchema = {
    type: 'object',
    properties: { name: { type: 'string' }, tags: { type: 'array', items: { enum: ['a', 'b'] } } },
    required: ['name', 'tags'],
    additionalProperties: false,
  };

  it('sends an answer that does not match outputSchema back with the errors, and takes the corrected one', async () => {
    const model = scripted([{ content: '{"name": 3, "tags": ["c"]}' }, { content: '```json\n{"name": "Ada", "tags": ["a"]}\n```' }]);
    const { result, events } = await run(agentFlow({ model: 'scripted/m', prompt: 'describe', outputSchema }), { context: model.context });
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual({ name: 'Ada', tags: ['a'] });
    expect(model.requests[0]).toMatchObject({ responseFormat: 'json', outputSchema });
    const repair = model.requests[1]!.messages.slice(-2);
    expect(repair[0]).toEqual({ role: 'assistant', content: '{"name": 3, "tags": ["c"]}' });
    expect(repair[1]!.role).toBe('user');
    expect(repair[1]!.content).toContain('Your answer does not match the required JSON Schema:');
    expect(repair[1]!.content).toContain('- $.name: Invalid input: expected string, received number');
    expect(repair[1]!.content).toContain('- $.tags[0]: Invalid option');
    expect(eventsOf(events, 'llm.request').map((e) => e.callId)).toEqual(['agent/1/llm/1', 'agent/1/llm/2']);
  });

  it('fails with llm_invalid_output listing the errors once repairAttempts are used up', async () => {
    const model = scripted([{ content: '{"name": 3}' }, { content: 'not json at all' }, { content: '{"tags": []}' }]);
    const { result, events } = await run(agentFlow({ model: 'scripted/m', prompt: 'describe', outputSchema, repairAttempts: 2 }), { context: model.context });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'llm_invalid_output', nodeId: 'agent' });
    expect(result.error!.message).toBe("node \"agent\" failed: the model's answer does not match the required JSON Schema after 2 repair attempts:\n- $.name: Invalid input: expected string, received undefined");
    expect(model.requests[2]!.messages.at(-1)!.content).toMatch(/^Your answer is not valid JSON:\n- .* in: not json at all/);
    expect(eventsOf(events, 'llm.request')).toHaveLength(3);
  });

  it('asks for no repair with repairAttempts 0, and repair turns do not count against maxIterations', async () => {
    const none = scripted([{ content: 'oops' }]);
    const failed = await run(agentFlow({ model: 'scripted/m', outputFormat: 'json', repairAttempts: 0 }), { context: none.context });
    expect(failed.result.error!.message).toMatch(/^node "agent" failed: the model's answer is not valid JSON:\n- /);
    const once = scripted([{ content: 'oops' }, { content: '[1, 2]' }]);
    const repaired = await run(agentFlow({ model: 'scripted/m', outputFormat: 'json', maxIterations: 1 }), { context: once.context });
    expect(repaired.result.output).toEqual([1, 2]);
  });

  it('says when a broken JSON answer was cut off by the token limit', async () => {
    const model = scripted([{ content: '{"name": "Ad', finishReason: 'length' }]);
    const { result } = await run(agentFlow({ model: 'scripted/m', outputSchema, repairAttempts: 0 }), { context: model.context });
    expect(result.error!.message).toContain('- the answer was cut off at the output token limit (finish reason "length"): raise maxTokens');
  });

  it('reports an outputSchema it cannot check at config.outputSchema', () => {
    const result = validateFlow(agentFlow({ outputSchema: { not: { type: 'string' } } }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]!.path).toEqual(['nodes', 1, 'config', 'outputSchema']);
    expect(result.issues[0]!.message).toMatch(/^not a JSON Schema this engine can check: /);
  });
});

describe('agent tools with JSON Schema arguments', () => {
  const lookup = { name: 'lookup', skill: 'template', params: { template: '{{ city }} in {{ days }} days' }, parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } }, required: ['city', 'days'] } };

  it('offers the schema to the model and checks the arguments before the tool runs', async () => {
    const model = scripted([
      { toolCalls: [{ id: 't1', name: 'lookup', args: { city: 'Brest', days: 0 } }, { id: 't2', name: 'lookup', args: { city: 'Brest', days: 2 } }] },
      { content: 'done' },
    ]);
    const { result, events } = await run(agentFlow({ model: 'scripted/m', tools: [lookup] }), { context: model.context });
    expect(result.output).toBe('done');
    expect(model.requests[0]!.tools).toEqual([{ name: 'lookup', description: expect.any(String), parameters: lookup.parameters }]);
    const [bad, good] = eventsOf(events, 'tool.call');
    expect(bad).toMatchObject({ callId: 'agent/1/tool/1.1', error: { code: 'invalid_tool_args', message: 'invalid arguments for tool "lookup": $.days: Too small: expected number to be >=1' } });
    expect(good).toMatchObject({ callId: 'agent/1/tool/1.2', result: 'Brest in 2 days' });
  });

  it('tells the model when its arguments are not a JSON object', async () => {
    const model = scripted([{ toolCalls: [{ id: 't1', name: 'upper', args: '{"text": broken' }] }, { content: 'ok' }]);
    const { events } = await run(agentFlow({ model: 'scripted/m', tools }), { context: model.context });
    expect(eventsOf(events, 'tool.call')[0]!.error).toMatchObject({ code: 'invalid_tool_args', message: expect.stringContaining('expected object') });
  });

  it('reports a tool schema it cannot check at its place', () => {
    const result = validateFlow(agentFlow({ tools: [{ ...lookup, parameters: { $ref: 'https://example.com/s.json' } }] }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]!.path).toEqual(['nodes', 1, 'config', 'tools', 0, 'parameters']);
  });
});

describe('agent streaming and call options', () => {
  it('logs streamed text as llm.delta events between the request and the response', async () => {
    const model = scripted([{ content: 'Hello world', deltas: [{ text: 'Hello', attempt: 1 }, { text: 'Hel', attempt: 2 }, { text: 'lo world', attempt: 2 }] }]);
    const { events, state } = await run(agentFlow({ model: 'scripted/m' }), { context: model.context });
    expect(agentTimeline(events)).toEqual(['status:running', 'llm.request', 'llm.delta', 'llm.delta', 'llm.delta', 'llm.response', 'status:succeeded']);
    expect(eventsOf(events, 'llm.delta').map(({ callId, index, text, attempt }) => ({ callId, index, text, attempt }))).toEqual([
      { callId: 'agent/1/llm/1', index: 0, text: 'Hello', attempt: undefined },
      { callId: 'agent/1/llm/1', index: 1, text: 'Hel', attempt: 2 },
      { callId: 'agent/1/llm/1', index: 2, text: 'lo world', attempt: 2 },
    ]);
    expect(state.streams).toEqual({});
  });

  it('passes the call id, stream, credential, timeout and the run\'s I/O to the provider', async () => {
    const model = scripted([{ content: 'ok' }]);
    const credentials = { get: async () => 'secret' };
    await run(agentFlow({ model: 'scripted/m', stream: false, credential: 'team-key', requestTimeoutMs: 5_000 }), { context: { ...model.context, credentials } });
    const options = model.calls[0]!;
    expect(options).toMatchObject({ callId: 'agent/1/llm/1', stream: false, credential: 'team-key', requestTimeoutMs: 5_000, credentials });
    expect(options.http).toBe(noNetwork);
    const streamed = scripted([{ content: 'ok' }]);
    await run(agentFlow({ model: 'scripted/m' }), { context: streamed.context });
    expect(streamed.calls[0]!.stream).toBe(true);
    expect(streamed.calls[0]!.credential).toBeUndefined();
  });

  it('records finish reason, HTTP attempts and cost on llm.response', async () => {
    const model = scripted([{ content: 'ok', finishReason: 'stop', attempts: 2, costUsd: 0.5 }]);
    const { events, state } = await run(agentFlow({ model: 'scripted/m' }), { context: model.context });
    expect(eventsOf(events, 'llm.response')[0]).toMatchObject({ finishReason: 'stop', attempts: 2, costUsd: 0.5 });
    expect(state.llm.costUsd).toBe(0.5);
  });
});

describe('agent memory window', () => {
  const m = (role: ChatMessage['role'], content: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({ role, content, ...extra });
  const call = (id: string) => ({ id, name: 'upper', args: { text: id } });
  const conversation: ChatMessage[] = [
    m('system', 'sys'),
    m('user', 'task'),
    m('assistant', '', { toolCalls: [call('a')] }),
    m('tool', 'A', { toolCallId: 'a' }),
    m('assistant', '', { toolCalls: [call('b'), call('c')] }),
    m('tool', 'B', { toolCallId: 'b' }),
    m('tool', 'C', { toolCallId: 'c' }),
  ];

  it('keeps the system prompt, the task and the last messages, never a tool result without its call', () => {
    expect(windowMessages(conversation, undefined)).toEqual(conversation);
    expect(windowMessages(conversation, 10)).toEqual(conversation);
    expect(windowMessages(conversation, 3).map((x) => x.content || x.role)).toEqual(['sys', 'task', 'assistant', 'B', 'C']);
    // The cut would fall on tool result C: it moves back to the call that C answers.
    expect(windowMessages(conversation, 1).map((x) => x.content || x.role)).toEqual(['sys', 'task', 'assistant', 'B', 'C']);
    expect(windowMessages(conversation, 4).map((x) => x.content || x.role)).toEqual(['sys', 'task', 'assistant', 'A', 'assistant', 'B', 'C']);
  });

  it('sends each request only the window of the conversation', async () => {
    const model = scripted([
      { toolCalls: [call('a')] },
      { toolCalls: [call('b')] },
      { toolCalls: [call('c')] },
      { content: 'done' },
    ]);
    const { events } = await run(agentFlow({ model: 'scripted/m', tools, systemPrompt: 'sys', prompt: 'task', memoryWindow: 2 }), { context: model.context });
    const sent = eventsOf(events, 'llm.request').map((e) => e.messages.map((x) => x.content || `call ${x.toolCalls![0]!.id}`));
    expect(sent).toEqual([
      ['sys', 'task'],
      ['sys', 'task', 'call a', 'A'],
      ['sys', 'task', 'call b', 'B'],
      ['sys', 'task', 'call c', 'C'],
    ]);
    expect(model.requests.map((r) => r.messages.length)).toEqual([2, 4, 4, 4]);
  });
});

describe('agent replay from the log', () => {
  const flow = agentFlow({ prompt: 'upper and count "{{ word }}"', tools });

  it('answers every model call from the recorded responses and reproduces the log', async () => {
    const live = await run(flow, { input: { word: 'abc' } });
    const replay = await run(flow, { input: { word: 'abc' }, context: { llm: createReplayProviders(live.events) } });
    expect(replay.events).toEqual(live.events);
  });

  it('refuses a call whose request differs from the recorded one', async () => {
    const live = await run(flow, { input: { word: 'abc' } });
    const replay = await run(flow, { input: { word: 'xyz' }, context: { llm: createReplayProviders(live.events) } });
    expect(replay.result.error).toMatchObject({ code: 'replay_diverged', retryable: false });
    expect(replay.result.error!.message).toBe('node "agent" failed: replay: model call "agent/1/llm/1" differs from the recorded one: messages[0] (user) is not the recorded message');
  });

  it('refuses a call the log does not hold, never asking a model', async () => {
    const live = await run(agentFlow({ prompt: 'just talk' }));
    const cut = live.events.filter((e) => e.type !== 'llm.response');
    const replay = await run(agentFlow({ prompt: 'just talk' }), { context: { llm: createReplayProviders(cut) } });
    expect(replay.result.error).toMatchObject({ code: 'replay_missing' });
    expect(replay.result.error!.message).toContain('model call "agent/1/llm/1" (local/echo) has no recorded response in the log; a replay never calls a provider');
  });

  it('replays a recorded failure as the same failure', async () => {
    const failing: LlmProvider = {
      name: 'flaky',
      complete: async () => {
        throw Object.assign(new Error('flaky: rate limited'), { code: 'llm_rate_limited', retryable: true });
      },
    };
    const doc = agentFlow({ model: 'flaky/m' }, { retry: { maxAttempts: 2, backoffMs: 10 } });
    const live = await run(doc, { context: { llm: new Map([['flaky', failing]]) } });
    expect(statusesOf(live.events, 'agent')).toEqual(['running#1', 'failed#1', 'running#2', 'failed#2']);
    const replay = await run(doc, { context: { llm: createReplayProviders(live.events) } });
    expect(replay.events).toEqual(live.events);
  });
});

describe('agent tools that are sub-flows', () => {
  const subflow = (id: string, nodes: unknown[], edges: unknown[], extra: Record<string, unknown> = {}) => ({ version: 1, id, name: `Flow ${id}`, nodes, edges, ...extra });
  const line = (...ids: string[]) => ids.slice(1).map((to, i) => ({ from: ids[i]!, to }));
  const greet = subflow(
    'greet',
    [
      { id: 'in', kind: 'input', config: { fields: { name: { type: 'string', required: true, description: 'Who to greet' }, times: { type: 'integer', default: 1 } } } },
      { id: 'say', kind: 'skill', config: { skill: 'template', params: { template: 'Hello {{ name }} x{{ times }}' } } },
      { id: 'out', kind: 'output' },
    ],
    line('in', 'say', 'out'),
  );
  /** A sub-flow that waits `ms` (virtual time), then answers with its input's `port`. */
  const slow = (id: string, ms: number) =>
    subflow(
      id,
      [
        { id: 'in', kind: 'input' },
        { id: 'wait', kind: 'skill', config: { skill: 'delay', params: { ms } } },
        { id: 'say', kind: 'skill', config: { skill: 'template', params: { template: `${id}: {{ port }}` } } },
        { id: 'out', kind: 'output' },
      ],
      line('in', 'wait', 'say', 'out'),
    );
  const failing = subflow(
    'boom',
    [{ id: 'in', kind: 'input' }, { id: 'fail', kind: 'skill', config: { skill: 'error.throw', params: { message: 'inner broke', code: 'inner_code' } } }, { id: 'out', kind: 'output' }],
    line('in', 'fail', 'out'),
  );

  it("runs the sub-flow on the call's arguments and gives its output to the model, its nodes logged under the call's task id", async () => {
    const model = scripted([{ toolCalls: [{ id: 't1', name: 'greet', args: { name: 'Ada' } }] }, { content: 'done' }]);
    const { result, events, state } = await run(agentFlow({ model: 'scripted/m', tools: [{ name: 'greet', flow: greet }] }), { context: model.context });
    expect(result).toMatchObject({ status: 'succeeded', output: 'done' });
    // The model is shown the sub-flow's input fields as JSON Schema.
    expect(model.requests[0]!.tools).toEqual([
      {
        name: 'greet',
        description: 'Runs the flow "Flow greet".',
        parameters: { type: 'object', properties: { name: { type: 'string', description: 'Who to greet' }, times: { type: 'integer', default: 1 } }, required: ['name'] },
      },
    ]);
    expect(model.requests[1]!.messages.at(-1)).toEqual({ role: 'tool', toolCallId: 't1', content: 'Hello Ada x1' });
    expect(eventsOf(events, 'tool.call')).toEqual([expect.objectContaining({ callId: 'agent/1/tool/1.1', tool: 'greet', args: { name: 'Ada' }, result: 'Hello Ada x1' })]);

    const taskId = 'agent/1/tool/1.1';
    expect(eventsOf(events, 'task.assigned')).toEqual([expect.objectContaining({ taskId, nodeId: 'agent', parentTaskId: 'agent/1', assignee: 'tool:greet', input: { name: 'Ada' } })]);
    expect(state.tasks[taskId]).toMatchObject({ status: 'succeeded', output: 'Hello Ada x1' });
    for (const inner of ['in', 'say', 'out']) expect(statusesOf(events, `${taskId}/${inner}`)).toEqual(['running#1', 'succeeded#1']);
    expect(state.nodes[`${taskId}/say`]).toMatchObject({ status: 'succeeded', output: 'Hello Ada x1' });
    // The sub-flow's events sit between the task's assignment and the tool call's record.
    const order = events.map((e) => (e.type === 'node.status' ? `${e.nodeId}:${e.status}` : e.type));
    expect(order.indexOf('task.assigned')).toBeLessThan(order.indexOf(`${taskId}/in:running`));
    expect(order.indexOf(`${taskId}/out:succeeded`)).toBeLessThan(order.indexOf('task.succeeded'));
    expect(order.indexOf('task.succeeded')).toBeLessThan(order.indexOf('tool.call'));
    expect(eventsOf(events, 'run.started')).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it('offers `parameters` instead of the input fields when given, and checks the arguments against both', async () => {
    const parameters = { type: 'object', properties: { name: { type: 'string', minLength: 2 } } };
    const model = scripted([
      {
        toolCalls: [
          { id: 't1', name: 'greet', args: { name: 'A' } },
          { id: 't2', name: 'greet', args: {} },
          { id: 't3', name: 'greet', args: { name: 'Bo', times: 2 } },
        ],
      },
      { content: 'done' },
    ]);
    const { events } = await run(agentFlow({ model: 'scripted/m', tools: [{ name: 'greet', description: 'Greets', flow: greet, parameters }] }), { context: model.context });
    expect(model.requests[0]!.tools).toEqual([{ name: 'greet', description: 'Greets', parameters }]);
    const [short, missing, good] = eventsOf(events, 'tool.call');
    expect(short!.error).toEqual({ code: 'invalid_tool_args', message: 'invalid arguments for tool "greet": $.name: Too small: expected string to have >=2 characters' });
    // `parameters` lets {} through; the sub-flow's own input field still requires a name.
    expect(missing!.error).toEqual({ code: 'invalid_tool_args', message: 'invalid arguments for tool "greet": missing required input "name"' });
    expect(good!.result).toBe('Hello Bo x2');
    // Refused arguments never start the sub-flow.
    expect(eventsOf(events, 'task.assigned').map((e) => e.taskId)).toEqual(['agent/1/tool/1.3']);
    expect(model.requests[1]!.messages.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual([
      'error: invalid arguments for tool "greet": $.name: Too small: expected string to have >=2 characters',
      'error: invalid arguments for tool "greet": missing required input "name"',
      'Hello Bo x2',
    ]);
  });

  it('refuses arguments that do not match the input fields, telling the model why', async () => {
    const model = scripted([{ toolCalls: [{ id: 't1', name: 'greet', args: { name: 7 } }, { id: 't2', name: 'greet', args: 'Ada' }] }, { content: 'ok' }]);
    const { result, events } = await run(agentFlow({ model: 'scripted/m', tools: [{ name: 'greet', flow: greet }] }), { context: model.context });
    expect(result.status).toBe('succeeded');
    const [wrongType, notObject] = eventsOf(events, 'tool.call');
    expect(wrongType!.error).toEqual({ code: 'invalid_tool_args', message: 'invalid arguments for tool "greet": $.name: Invalid input: expected string, received number' });
    expect(notObject!.error).toMatchObject({ code: 'invalid_tool_args', message: expect.stringContaining('expected object') });
    expect(eventsOf(events, 'task.assigned')).toEqual([]);
  });

  it('runs the sub-flows of one turn in parallel', async () => {
    const model = scripted([
      { toolCalls: [{ id: 't1', name: 'tides', args: { port: 'Brest' } }, { id: 't2', name: 'weather', args: { port: 'Brest' } }] },
      { content: 'done' },
    ]);
    const tools = [
      { name: 'tides', flow: slow('tides', 100) },
      { name: 'weather', flow: slow('weather', 100) },
    ];
    const { events } = await run(agentFlow({ model: 'scripted/m', tools }), { context: model.context });
    const [asked] = eventsOf(events, 'llm.response');
    const [, again] = eventsOf(events, 'llm.request');
    // One after the other they would take 200 ms of virtual time; together, 100.
    expect(again!.ts - asked!.ts).toBe(100);
    const waits = events.filter((e) => e.type === 'node.status' && e.nodeId.endsWith('/wait')).map((e) => `${(e as { nodeId: string }).nodeId}:${(e as { status: string }).status}`);
    expect(waits).toEqual(['agent/1/tool/1.1/wait:running', 'agent/1/tool/1.2/wait:running', 'agent/1/tool/1.1/wait:succeeded', 'agent/1/tool/1.2/wait:succeeded']);
    expect(model.requests[1]!.messages.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual(['tides: Brest', 'weather: Brest']);
  });

  it("gives a failing sub-flow's error to the model as the tool result, and the agent goes on", async () => {
    const model = scripted([{ toolCalls: [{ id: 't1', name: 'boom', args: {} }] }, { content: 'recovered' }]);
    const { result, events, state } = await run(agentFlow({ model: 'scripted/m', tools: [{ name: 'boom', flow: failing }] }), { context: model.context });
    expect(result).toMatchObject({ status: 'succeeded', output: 'recovered' });
    const message = 'sub-flow "boom" failed: node "fail" failed: inner broke';
    expect(eventsOf(events, 'tool.call')[0]!.error).toMatchObject({ code: 'inner_code', message });
    expect(model.requests[1]!.messages.at(-1)).toEqual({ role: 'tool', toolCallId: 't1', content: `error: ${message}` });
    expect(state.tasks['agent/1/tool/1.1']).toMatchObject({ status: 'failed', error: { message } });
    expect(statusesOf(events, 'agent/1/tool/1.1/fail')).toEqual(['running#1', 'failed#1']);
    expect(statusesOf(events, 'agent')).toEqual(['running#1', 'succeeded#1']);
  });

  it('cancels a running sub-flow tool with the run', async () => {
    const model = scripted([{ toolCalls: [{ id: 't1', name: 'tides', args: { port: 'Brest' } }] }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    const { result, state } = await run(agentFlow({ model: 'scripted/m', tools: [{ name: 'tides', flow: slow('tides', 5_000) }] }), {
      clock: systemClock,
      signal: controller.signal,
      context: model.context,
    });
    expect(result.status).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(state.nodes['agent/1/tool/1.1/wait']!.status).toBe('cancelled');
    expect(model.requests).toHaveLength(1);
  });

  it('runs an agent inside a sub-flow tool, and a replay reproduces the whole log', async () => {
    const inner = subflow(
      'helper',
      [
        { id: 'in', kind: 'input', config: { fields: { text: { type: 'string', required: true } } } },
        { id: 'bot', kind: 'agent', config: { prompt: 'shout {{ text }}', tools: [{ name: 'shout', skill: 'template', params: { template: '{{ $uppercase(text) }}' } }] } },
        { id: 'out', kind: 'output' },
      ],
      line('in', 'bot', 'out'),
    );
    const flow = agentFlow({ prompt: 'ask the helper about {{ topic }}', tools: [{ name: 'helper', flow: inner }] });
    const live = await run(flow, { input: { topic: 'tides' } });
    expect(live.result.status).toBe('succeeded');
    const innerCalls = eventsOf(live.events, 'tool.call').map((e) => [e.callId, e.tool]);
    expect(innerCalls).toEqual([
      ['agent/1/tool/1.1/bot/1/tool/1.1', 'shout'],
      ['agent/1/tool/1.1', 'helper'],
    ]);
    expect(eventsOf(live.events, 'llm.request').map((e) => e.callId)).toEqual(['agent/1/llm/1', 'agent/1/tool/1.1/bot/1/llm/1', 'agent/1/tool/1.1/bot/1/llm/2', 'agent/1/llm/2']);
    expect(live.result.output).toContain('SHOUT ASK THE HELPER ABOUT TIDES');
    const replay = await run(flow, { input: { topic: 'tides' }, context: { llm: createReplayProviders(live.events) } });
    expect(replay.events).toEqual(live.events);
  });

  describe('checks', () => {
    const issuesOf = (doc: unknown) => {
      const result = validateFlow(doc);
      return result.ok ? [] : result.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    };

    it('refuses a tool with both skill and flow, or neither, at the tool', () => {
      expect(issuesOf(agentFlow({ tools: [{ name: 'both', skill: 'template', flow: greet }] }))).toEqual([
        { path: 'nodes.1.config.tools.0', message: 'a tool needs one of skill (a built-in skill), flow (a sub-flow) or mcp (an MCP server\'s tool), not several' },
      ]);
      expect(issuesOf(agentFlow({ tools: [tools[0], { name: 'neither' }] }))).toEqual([{ path: 'nodes.1.config.tools.1', message: 'a tool needs one of skill (a built-in skill), flow (a sub-flow) or mcp (an MCP server\'s tool)' }]);
      expect(issuesOf(agentFlow({ tools: [{ name: 'greet', flow: greet, params: { template: 'x' } }] }))).toEqual([
        { path: 'nodes.1.config.tools.0.params', message: 'params belong to skill tools; the nodes of a sub-flow tool carry their own params' },
      ]);
    });

    it("reports problems inside a tool's sub-flow at their path", () => {
      const broken = subflow('broken', [{ id: 'in', kind: 'input' }, { id: 'x', kind: 'skill', config: { skill: 'nope' } }], [{ from: 'in', to: 'x' }, { from: 'in', to: 'ghost' }]);
      expect(issuesOf(agentFlow({ tools: [{ name: 'broken', flow: broken }] }))).toEqual([{ path: 'nodes.1.config.tools.0.flow.edges.1.to', message: 'edge in -> ghost: no node "ghost"' }]);
      const unknownSkill = subflow('bad', [{ id: 'in', kind: 'input' }, { id: 'x', kind: 'skill', config: { skill: 'nope' } }], [{ from: 'in', to: 'x' }]);
      const [issue] = issuesOf(agentFlow({ tools: [{ name: 'bad', flow: unknownSkill }] }));
      expect(issue).toMatchObject({ path: 'nodes.1.config.tools.0.flow.nodes.1.config.skill', message: expect.stringMatching(/^node "x": unknown skill "nope"/) });
      const schemaError = issuesOf(agentFlow({ tools: [{ name: 'greet', flow: { ...greet, nodes: [{ id: 'in', kind: 'inptu' }] } }] }));
      expect(schemaError[0]!.path).toBe('nodes.1.config.tools.0.flow.nodes.0.kind');
    });

    it(`refuses sub-flow tools nested deeper than ${MAX_NESTING_DEPTH} levels`, () => {
      /** An agent whose tool is a flow whose agent's tool is a flow ... `levels` flows deep, greet innermost. */
      const nested = (levels: number) => {
        let flow: unknown = greet;
        for (let level = levels - 1; level >= 1; level--) {
          flow = subflow(`level${level}`, [{ id: 'in', kind: 'input' }, { id: 'bot', kind: 'agent', config: { tools: [{ name: 'deeper', flow }] } }, { id: 'out', kind: 'output' }], line('in', 'bot', 'out'));
        }
        return agentFlow({ tools: [{ name: 'deeper', flow }] });
      };
      expect(issuesOf(nested(MAX_NESTING_DEPTH))).toEqual([]);
      const issues = issuesOf(nested(MAX_NESTING_DEPTH + 1));
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe(['nodes.1', ...Array.from({ length: MAX_NESTING_DEPTH }, () => 'config.tools.0.flow.nodes.1'), 'config.tools.0.flow'].join('.'));
      expect(issues[0]!.message).toMatch(/^(node "bot": ){8}patterns are nested more than 8 levels deep here; flatten the flow or use fewer levels$/);
    });
  });
});
