// Credentials through the API of a real server: values go in, never come out (not in any
// response, event or socket message), and are not stored in plain text.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpClient, HttpRequestInit } from '@loom/engine';
import type { FlowInput } from '@loom/shared';
import {
  allEvents,
  apiError,
  createApiClient,
  EventCollector,
  joinRun,
  ManualClock,
  openSocket,
  startServer,
  waitForRunEnd,
  type ApiClient,
  type TestServer,
} from '../test-support.js';

const SECRET = 'sk-test-Zq7v0d5Hc1LwX9pN3fR8yT2u';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** An API client that keeps the text of every response. */
function recordingClient(server: TestServer): { api: ApiClient; responses: string[] } {
  const responses: string[] = [];
  return { api: createApiClient(server.url, { onResponse: (text) => responses.push(text) }), responses };
}

/** A flow calling an API with the credential `api-key` as a bearer token. */
const callsApi: FlowInput = {
  version: 1,
  id: 'calls-api',
  name: 'Calls an API',
  nodes: [
    { id: 'in', kind: 'input' },
    { id: 'call', kind: 'skill', config: { skill: 'http.request', params: { url: 'https://api.example.test/whoami', auth: { credential: 'api-key' } } } },
    { id: 'out', kind: 'output' },
  ],
  edges: [
    { from: 'in', to: 'call' },
    { from: 'call', to: 'out' },
  ],
  settings: { allowHosts: ['api.example.test'] },
};

describe('credentials', () => {
  it('sets, lists, replaces and deletes by name; values never appear in a response', async () => {
    const clock = new ManualClock();
    clock.time = Date.UTC(2026, 2, 1);
    t = await startServer({ clock });
    const { api, responses } = recordingClient(t);

    const created = await api.credentials.set.mutate({ name: 'api-key', value: SECRET });
    expect(created).toEqual({ name: 'api-key', createdAt: clock.time, updatedAt: clock.time });
    await api.credentials.set.mutate({ name: 'other.key_2', value: `${SECRET}-other` });
    expect(await api.credentials.list.query()).toEqual([
      { name: 'api-key', createdAt: clock.time, updatedAt: clock.time },
      { name: 'other.key_2', createdAt: clock.time, updatedAt: clock.time },
    ]);

    const later = clock.time + 60_000;
    clock.time = later;
    const replaced = await api.credentials.set.mutate({ name: 'api-key', value: `${SECRET}-rotated` });
    expect(replaced).toEqual({ name: 'api-key', createdAt: later - 60_000, updatedAt: later });
    // The engine sees the new value; nothing else does.
    expect(t.server.services.credentials.reveal('api-key')).toBe(`${SECRET}-rotated`);

    // Every other read of the API, too.
    await api.flows.create.mutate({ definition: callsApi });
    await api.flows.get.query({ id: 'calls-api' });
    await api.flows.list.query();
    await api.flows.validate.mutate({ definition: callsApi });
    const exported = await api.flows.export.query({ id: 'calls-api' });
    expect(exported.credentials).toEqual(['api-key']);
    expect((await api.flows.import.mutate({ text: exported.text })).missingCredentials).toEqual([]);
    await api.system.info.query();
    await api.templates.list.query();

    expect(await api.credentials.delete.mutate({ name: 'other.key_2' })).toEqual({ deleted: 'other.key_2' });
    expect((await api.credentials.list.query()).map((c) => c.name)).toEqual(['api-key']);
    expect((await apiError(api.credentials.delete.mutate({ name: 'other.key_2' }))).data?.code).toBe('NOT_FOUND');

    expect(responses.length).toBeGreaterThan(10);
    for (const text of responses) expect(text).not.toContain(SECRET);
  });

  it('refuses a malformed name or an empty value with BAD_REQUEST, storing nothing', async () => {
    t = await startServer();
    for (const name of ['', 'has space', '-leading-dash', 'semi;colon', 'x'.repeat(129)]) {
      const error = await apiError(t.api.credentials.set.mutate({ name, value: SECRET }));
      expect({ name, code: error.data?.code }).toEqual({ name, code: 'BAD_REQUEST' });
    }
    expect((await apiError(t.api.credentials.set.mutate({ name: 'ok-name', value: '' }))).data?.code).toBe('BAD_REQUEST');
    expect(await t.api.credentials.list.query()).toEqual([]);
  });

  it('stores the value sealed: neither the row nor the database files hold the plain text', async () => {
    t = await startServer();
    await t.api.credentials.set.mutate({ name: 'api-key', value: SECRET });
    const row = t.server.db.$client.prepare<[], { name: string; sealed: string }>('SELECT name, sealed FROM credentials').get()!;
    expect(row.name).toBe('api-key');
    expect(row.sealed).not.toContain(SECRET);
    expect(row.sealed).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(row.sealed).not.toContain(Buffer.from(SECRET).toString('hex'));
    // The database, its WAL and the key file, byte for byte.
    for (const file of readdirSync(t.dir)) {
      const bytes = readFileSync(join(t.dir, file));
      expect({ file, leaks: bytes.includes(Buffer.from(SECRET)) }).toEqual({ file, leaks: false });
    }
  });

  it('a run uses the credential, and neither its row, its events nor its socket stream hold the value', async () => {
    const requests: { url: string; init: HttpRequestInit }[] = [];
    // A fake API that echoes what it was sent, as some do: the engine must redact it.
    const http: HttpClient = async (url, init) => {
      requests.push({ url, init });
      const body = JSON.stringify({ you: init.headers['authorization'] });
      return { status: 200, headers: { 'content-type': 'application/json' }, text: async () => body };
    };
    t = await startServer({ http });
    const { api, responses } = recordingClient(t);
    await api.credentials.set.mutate({ name: 'api-key', value: SECRET });
    await api.flows.create.mutate({ definition: callsApi });
    const socket = await openSocket(t.url);
    const streamed: string[] = [];
    socket.onAny((_event: string, ...args: unknown[]) => streamed.push(JSON.stringify(args)));
    const collector = new EventCollector(socket);
    try {
      const run = await api.runs.start.mutate({ flowId: 'calls-api', input: {} });
      await joinRun(socket, run.id, 0);
      const ended = await waitForRunEnd(t.caller, run.id);
      expect(ended.status).toBe('succeeded');
      await collector.finished(run.id);
      expect(requests).toEqual([{ url: 'https://api.example.test/whoami', init: expect.objectContaining({ method: 'GET', headers: expect.objectContaining({ authorization: `Bearer ${SECRET}` }) }) }]);
      expect(ended.output).toMatchObject({ status: 200, body: { you: 'Bearer [redacted:api-key]' } });

      await api.runs.get.query({ runId: run.id });
      await api.runs.events.query({ runId: run.id });
      await api.runs.replay.query({ runId: run.id });
      await api.runs.list.query({});
      expect(JSON.stringify(await allEvents(t.caller, run.id))).not.toContain(SECRET);
      for (const text of [...responses, ...streamed]) expect(text).not.toContain(SECRET);
      expect(streamed.length).toBeGreaterThan(0);

      // Without the credential the run fails, saying which one is missing, not why in secret terms.
      await api.credentials.delete.mutate({ name: 'api-key' });
      const failed = await api.runs.start.mutate({ flowId: 'calls-api', input: {}, wait: true });
      expect(failed.status).toBe('failed');
      expect(failed.error?.message).toContain('"api-key"');
      expect(requests.length).toBe(1);
    } finally {
      socket.close();
    }
  });
});
