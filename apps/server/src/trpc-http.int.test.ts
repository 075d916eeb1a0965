// The tRPC endpoint (`trpc-http.ts`) as clients see it: single and batched calls, GET and POST,
// one-piece JSON answers with their length, tRPC's error shapes and status codes.
import { afterEach, describe, expect, it } from 'vitest';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from './router.js';
import { startServer, twoStepFlow, type TestServer } from './test-support.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('the tRPC endpoint', () => {
  it('answers a query in one piece, with content-length and no chunked encoding', async () => {
    t = await startServer();
    const res = await fetch(`${t.url}/trpc/system.info`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('transfer-encoding')).toBeNull();
    const text = await res.text();
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(JSON.parse(text)).toMatchObject({ result: { data: { version: expect.any(String) } } });
  });

  it('runs a mutation from a POST body and returns the finished run', async () => {
    t = await startServer();
    await t.caller.flows.create({ definition: twoStepFlow('greet') });
    const res = await fetch(`${t.url}/trpc/runs.start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flowId: 'greet', input: { name: 'Ada' }, wait: true }) });
    expect(res.status).toBe(200);
    const { result } = (await res.json()) as { result: { data: { id: string; status: string; lastSeq: number } } };
    expect(result.data.status).toBe('succeeded');
    // What the API answered is what the database holds.
    expect(await t.caller.runs.get({ runId: result.data.id })).toEqual(result.data);
  });

  it('answers batches (as the web app sends them) with one result per call', async () => {
    t = await startServer();
    const api = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${t.url}/trpc` })] });
    const [info, flows, templates] = await Promise.all([api.system.info.query(), api.flows.list.query(), api.templates.list.query()]);
    expect(info.version).toEqual(expect.any(String));
    expect(flows.length).toBe(templates.length);
  });

  it("keeps tRPC's errors: unknown procedure 404, bad JSON 400, invalid input 400 with the issue, wrong method 405", async () => {
    t = await startServer();
    const missing = await fetch(`${t.url}/trpc/flows.nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { data: { code: string } } }).error.data.code).toBe('NOT_FOUND');

    const badJson = await fetch(`${t.url}/trpc/runs.start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"flowId":' });
    expect(badJson.status).toBe(400);

    const invalid = await fetch(`${t.url}/trpc/runs.start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flowId: 42 }) });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain('flowId');

    const wrongMethod = await fetch(`${t.url}/trpc/runs.start`);
    expect(wrongMethod.status).toBe(405);
  });

  it('still applies the Origin check before the API', async () => {
    t = await startServer();
    const res = await fetch(`${t.url}/trpc/system.info`, { headers: { origin: 'http://evil.example' } });
    expect(res.status).toBe(403);
  });
});
