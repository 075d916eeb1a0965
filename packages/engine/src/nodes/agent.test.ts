import type { RunEvent } from '@loom/shared';
import { describe, expect, it } from 'vitest';
import { validateFlow } from '../graph/compile.js';
import { createLocalProvider, LOCAL_PROVIDER_NOTICE } from '../llm/local.js';
import type { LlmProvider, LlmRequest } from '../llm/provider.js';
import { eventsOf, flowDoc, run, statusesOf } from '../test-harness.js';

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
    if (e.type === 'llm.request' || e.type === 'llm.response') return [e.type];
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
