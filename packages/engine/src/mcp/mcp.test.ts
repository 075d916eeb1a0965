import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RunEvent } from '@loom/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventsOf, flowDoc, run } from '../test-harness.js';
import { createReplayMcp } from './replay.js';
import type { McpToolSource } from './source.js';

// A real MCP server (the SDK's) and a real client, joined in memory; the source below is the
// thinnest adapter from the engine's interface to the SDK client.
let client: Client;
const calls: unknown[] = [];

beforeAll(async () => {
  const server = new McpServer({ name: 'weather', version: '1.0.0' });
  server.registerTool('forecast', { description: 'Forecast for a city', inputSchema: { city: z.string() } }, async ({ city }) => {
    calls.push(city);
    return { content: [{ type: 'text', text: `sunny in ${city}` }], structuredContent: { city, sky: 'sunny' } };
  });
  server.registerTool('echo', { description: 'Echoes text', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }));
  server.registerTool('refuse', { description: 'Always fails', inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'no such city' }], isError: true }));
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  client = new Client({ name: 'loom-test', version: '1.0.0' });
  await client.connect(clientTransport);
});

afterAll(() => client.close());

function source(): McpToolSource {
  return {
    async describeTool(server, tool) {
      const { tools } = await client.listTools();
      const found = tools.find((t) => t.name === tool);
      if (server !== 'weather' || !found) throw new Error(`no tool ${server}/${tool}`);
      return { ...(found.description ? { description: found.description } : {}), inputSchema: found.inputSchema as Record<string, unknown> };
    },
    async callTool(server, tool, args, { signal }) {
      if (server !== 'weather') throw new Error(`no server ${server}`);
      return (await client.callTool({ name: tool, arguments: args }, undefined, { signal })) as { content: unknown[] };
    },
  };
}

const mcpFlow = (config: Record<string, unknown>) =>
  flowDoc(
    [{ id: 'in', kind: 'input' }, { id: 'call', kind: 'mcp', config: { server: 'weather', ...config } }, { id: 'out', kind: 'output' }],
    [
      { from: 'in', to: 'call' },
      { from: 'call', to: 'out' },
    ],
  );

const withoutTs = (events: readonly RunEvent[]) => events.map(({ ts: _ts, ...rest }) => rest);

describe('mcp node', () => {
  it('calls the tool with its input, outputs the structured result, and logs the call', async () => {
    const { result, events, state } = await run(mcpFlow({ tool: 'forecast' }), { input: { city: 'Brest' }, context: { mcp: source() } });
    expect(result).toMatchObject({ status: 'succeeded', output: { city: 'Brest', sky: 'sunny' } });
    expect(eventsOf(events, 'mcp.call')).toEqual([
      expect.objectContaining({ callId: 'call/1/mcp', nodeId: 'call', server: 'weather', tool: 'forecast', args: { city: 'Brest' }, result: { content: [{ type: 'text', text: 'sunny in Brest' }], structuredContent: { city: 'Brest', sky: 'sunny' } } }),
    ]);
    expect(state.mcpCalls).toBe(1);
  });

  it('replays from the log without the server, giving the same log', async () => {
    const first = await run(mcpFlow({ tool: 'forecast' }), { input: { city: 'Paris' }, context: { mcp: source() } });
    const before = calls.length;
    const replay = await run(mcpFlow({ tool: 'forecast' }), { input: { city: 'Paris' }, context: { mcp: createReplayMcp(first.events) } });
    expect(calls.length).toBe(before);
    expect(withoutTs(replay.events)).toEqual(withoutTs(first.events));
    const diverged = await run(mcpFlow({ tool: 'forecast' }), { input: { city: 'Lyon' }, context: { mcp: createReplayMcp(first.events) } });
    expect(diverged.result.error).toMatchObject({ code: 'replay_diverged' });
  });

  it('builds the arguments with a JSONata expression and outputs text when the result is text', async () => {
    const { result } = await run(mcpFlow({ tool: 'echo', arguments: '{ "text": $uppercase(word) }' }), { input: { word: 'hi' }, context: { mcp: source() } });
    expect(result).toMatchObject({ status: 'succeeded', output: 'echo: HI' });
  });

  it('fails on an error answer, on an input that is not an object, and without MCP connections', async () => {
    const refused = await run(mcpFlow({ tool: 'refuse' }), { context: { mcp: source() } });
    expect(refused.result.error).toMatchObject({ code: 'mcp_tool_error', message: 'node "call" failed: MCP tool "weather/refuse" answered with an error: no such city' });
    const notObject = await run(mcpFlow({ tool: 'echo', arguments: '"text"' }), { context: { mcp: source() } });
    expect(notObject.result.error).toMatchObject({ code: 'invalid_tool_args', message: expect.stringContaining('takes an object of arguments, but config.arguments gave a string') });
    const unavailable = await run(mcpFlow({ tool: 'echo' }), { input: { text: 'x' } });
    expect(unavailable.result.error).toMatchObject({ code: 'mcp_unavailable' });
    expect(eventsOf(unavailable.events, 'mcp.call')[0]).toMatchObject({ error: { code: 'mcp_unavailable' } });
  });

  it('reports an argument expression that does not compile at its path', async () => {
    await expect(run(mcpFlow({ tool: 'echo', arguments: '{ "text": ' }))).rejects.toThrow(/nodes\.1\.config\.arguments/);
  });
});

describe('agent with an MCP tool', () => {
  // The local model calls the tools its prompt names, with `{ text: <prompt> }`.
  const agentFlow = (tool: Record<string, unknown>, prompt = 'please echo {{ word }}') =>
    flowDoc(
      [{ id: 'in', kind: 'input' }, { id: 'agent', kind: 'agent', config: { model: 'local/echo', prompt, tools: [tool] } }, { id: 'out', kind: 'output' }],
      [
        { from: 'in', to: 'agent' },
        { from: 'agent', to: 'out' },
      ],
    );

  it('shows the model the pinned schema, calls the tool, and replays without the server', async () => {
    const flow = agentFlow({ name: 'echo', mcp: { server: 'weather', tool: 'echo' } });
    const first = await run(flow, { input: { word: 'tide' }, context: { mcp: source() } });
    expect(first.result.status).toBe('succeeded');
    expect(first.result.output).toContain('echo: echo: please echo tide');
    expect(eventsOf(first.events, 'mcp.tool')[0]).toMatchObject({ server: 'weather', tool: 'echo', description: 'Echoes text', inputSchema: expect.objectContaining({ type: 'object' }) });
    expect(eventsOf(first.events, 'mcp.call')[0]).toMatchObject({ callId: 'agent/1/tool/1.1', args: { text: 'please echo tide' } });
    expect(eventsOf(first.events, 'tool.call')[0]).toMatchObject({ callId: 'agent/1/tool/1.1', tool: 'echo', result: 'echo: please echo tide' });
    const replay = await run(flow, { input: { word: 'tide' }, context: { mcp: createReplayMcp(first.events) } });
    expect(withoutTs(replay.events)).toEqual(withoutTs(first.events));
  });

  it('gives the model the error of a call the tool refused, and a check failure for bad arguments', async () => {
    const refused = await run(agentFlow({ name: 'refuse', mcp: { server: 'weather', tool: 'refuse' }, parameters: { type: 'object' } }, 'refuse this'), { context: { mcp: source() } });
    expect(eventsOf(refused.events, 'tool.call')[0]).toMatchObject({ error: { code: 'mcp_tool_error' } });
    const badArgs = await run(agentFlow({ name: 'forecast', mcp: { server: 'weather', tool: 'forecast' } }, 'forecast please'), { context: { mcp: source() } });
    // The local model sends { text }, the forecast schema requires city: refused before any call.
    expect(eventsOf(badArgs.events, 'tool.call')[0]).toMatchObject({ error: { code: 'invalid_tool_args' } });
    expect(eventsOf(badArgs.events, 'mcp.call')).toEqual([]);
  });

  it('rejects params on an MCP tool', async () => {
    await expect(run(agentFlow({ name: 'echo', mcp: { server: 'weather', tool: 'echo' }, params: { a: 1 } }))).rejects.toThrow(/params belong to skill tools/);
  });
});
