/**
 * Test-only: HTTP servers on 127.0.0.1 that speak the model APIs (OpenAI chat completions,
 * Anthropic Messages), answering each request with the next scripted reply. Not part of
 * the engine's public door.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, CredentialSource } from '../context/context.js';
import { createVirtualClock, fetchHttpClient } from '../context/defaults.js';
import type { LlmCallOptions, LlmDelta } from './provider.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

/** Answers one request. */
export type Reply = (request: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface ModelServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: RecordedRequest[];
  /** Resolves when the client has closed the connection of request `n` (0-based) before its answer ended. */
  aborted(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Serves `replies` in order; a request beyond them gets a 500 naming the test's mistake. */
export async function startModelServer(replies: Reply[]): Promise<ModelServer> {
  const requests: RecordedRequest[] = [];
  const abortWaiters = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  const waiter = (n: number) => {
    let entry = abortWaiters.get(n);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      entry = { promise, resolve };
      abortWaiters.set(n, entry);
    }
    return entry;
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text === '' ? undefined : JSON.parse(text) };
    const n = requests.push(recorded) - 1;
    res.on('close', () => {
      if (!res.writableEnded) waiter(n).resolve();
    });
    const reply = replies[n];
    if (!reply) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `test server: no reply scripted for request ${n + 1}` } }));
      return;
    }
    await reply(recorded, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    aborted: (n) => waiter(n).promise,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return (_request, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
}

/**
 * A server-sent event stream of `events` (each `{ event?, data }`, data as text or JSON).
 * `pauseMs` waits between events; `stallAfter` stops writing after that many events and
 * keeps the connection open, as a server that hangs mid-answer.
 */
export function sse(events: { event?: string; data: unknown }[], options: { pauseMs?: number; stallAfter?: number; headers?: Record<string, string> } = {}): Reply {
  return async (_request, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...options.headers });
    res.flushHeaders();
    for (const [i, event] of events.entries()) {
      if (options.stallAfter !== undefined && i >= options.stallAfter) return;
      if (res.destroyed) return;
      const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
      res.write(`${event.event ? `event: ${event.event}\n` : ''}data: ${data}\n\n`);
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
    res.end();
  };
}

// ---- OpenAI chat completions --------------------------------------------------------

export function openAiAnswer(content: string | null, options: { toolCalls?: { id: string; name: string; args: unknown }[]; usage?: [number, number]; finish?: string } = {}): Reply {
  const [prompt, completion] = options.usage ?? [10, 5];
  return json(200, {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          ...(options.toolCalls ? { tool_calls: options.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } })) } : {}),
        },
        finish_reason: options.finish ?? (options.toolCalls ? 'tool_calls' : 'stop'),
      },
    ],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  });
}

/** Text in `chunks`; tool calls split into an opening chunk and argument fragments of 5 characters. */
export function openAiStream(
  chunks: string[],
  options: { toolCalls?: { id: string; name: string; args: unknown }[]; usage?: [number, number]; pauseMs?: number; stallAfter?: number } = {},
): Reply {
  const [prompt, completion] = options.usage ?? [10, 5];
  const chunk = (delta: unknown, finish: string | null = null) => ({ id: 'chatcmpl-test', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });
  const events: { data: unknown }[] = [{ data: chunk({ role: 'assistant', content: '' }) }];
  for (const text of chunks) events.push({ data: chunk({ content: text }) });
  (options.toolCalls ?? []).forEach((call, index) => {
    events.push({ data: chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }) });
    const args = JSON.stringify(call.args);
    for (let i = 0; i < args.length; i += 5) events.push({ data: chunk({ tool_calls: [{ index, function: { arguments: args.slice(i, i + 5) } }] }) });
  });
  events.push({ data: chunk({}, options.toolCalls ? 'tool_calls' : 'stop') });
  events.push({ data: { id: 'chatcmpl-test', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } } });
  events.push({ data: '[DONE]' });
  return sse(events, { ...(options.pauseMs ? { pauseMs: options.pauseMs } : {}), ...(options.stallAfter !== undefined ? { stallAfter: options.stallAfter } : {}) });
}

// ---- Anthropic Messages -------------------------------------------------------------

export function anthropicAnswer(text: string, options: { toolUses?: { id: string; name: string; input: unknown }[]; usage?: [number, number] } = {}): Reply {
  const [input, output] = options.usage ?? [12, 6];
  return json(200, {
    id: 'msg_test',
    type: 'message',
    role: 'assistant',
    content: [...(text ? [{ type: 'text', text }] : []), ...(options.toolUses ?? []).map((t) => ({ type: 'tool_use', ...t }))],
    stop_reason: options.toolUses ? 'tool_use' : 'end_turn',
    usage: { input_tokens: input, output_tokens: output },
  });
}

export function anthropicStream(
  chunks: string[],
  options: { toolUses?: { id: string; name: string; input: unknown }[]; usage?: [number, number]; errorAfter?: { type: string; message: string } } = {},
): Reply {
  const [input, output] = options.usage ?? [12, 6];
  const events: { event: string; data: unknown }[] = [
    { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_test', type: 'message', role: 'assistant', content: [], usage: { input_tokens: input, output_tokens: 1 } } } },
    { event: 'ping', data: { type: 'ping' } },
  ];
  let index = 0;
  if (chunks.length > 0) {
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
    for (const text of chunks) events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text } } });
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
    index++;
  }
  if (options.errorAfter) {
    events.push({ event: 'error', data: { type: 'error', error: options.errorAfter } });
    return sse(events);
  }
  for (const tool of options.toolUses ?? []) {
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: tool.id, name: tool.name, input: {} } } });
    const args = JSON.stringify(tool.input);
    for (let i = 0; i < args.length; i += 7) events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args.slice(i, i + 7) } } });
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
    index++;
  }
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: options.toolUses ? 'tool_use' : 'end_turn' }, usage: { output_tokens: output } } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return sse(events);
}

/** A virtual clock that also lists the waits it was asked for. */
export function recordingClock(): Clock & { sleeps: number[] } {
  const clock = createVirtualClock();
  const sleeps: number[] = [];
  return { now: clock.now, sleeps, sleep: (ms, cancel) => (sleeps.push(ms), clock.sleep(ms, cancel)) };
}

/** Knows one credential; any other name is "not set", as a real store would say. */
export function oneCredential(name: string, key: string): CredentialSource {
  return {
    get: async (asked) => {
      if (asked === name) return key;
      throw new Error(`credential "${asked}" is not set`);
    },
  };
}

const openServers = new Set<ModelServer>();

/** Closes the servers `providerHarness` started: a test file's `afterEach`. */
export async function closeModelServers(): Promise<void> {
  const servers = [...openServers];
  openServers.clear();
  await Promise.all(servers.map((server) => server.close()));
}

/**
 * A provider under test against a scripted server: the server, the provider made for its
 * URL, call options with a recording virtual clock, and the deltas the provider streamed.
 */
export async function providerHarness<P>(replies: Reply[], makeProvider: (serverUrl: string) => P, credentials: CredentialSource, options: Partial<LlmCallOptions> = {}) {
  const server = await startModelServer(replies);
  openServers.add(server);
  const clock = recordingClock();
  const deltas: LlmDelta[] = [];
  const call: LlmCallOptions = {
    signal: new AbortController().signal,
    callId: 'agent/1/llm/1',
    http: fetchHttpClient,
    clock,
    credentials,
    stream: false,
    onDelta: (delta) => deltas.push(delta),
    ...options,
  };
  return { provider: makeProvider(server.url), clock, sleeps: clock.sleeps, deltas, call, server };
}
