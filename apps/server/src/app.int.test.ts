// The HTTP surface of a real server: health, metrics, Origin/Host/token checks for the API
// and sockets, start-up refusals, 404 and 413 answers, and the page at `/`.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from './app.js';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from './router.js';
import { apiError, createApiClient, joinRun, openSocket, startServer, tempDir, type ApiError, type TestServer } from './test-support.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const TOKEN = 'tok_0123456789abcdefghijKLMNOP';
const EVIL = 'http://evil.example';

/** A raw request, for headers fetch will not set (Host) and bodies it would buffer twice. */
function raw(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer }): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {}, setHost: !options.headers?.['host'] }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    // The server may answer (413) and close before the whole body is sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    req.end(options.body);
  });
}

describe('health and metrics', () => {
  it('answers /healthz with JSON', async () => {
    t = await startServer();
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ ok: true, activeRuns: 0, queueDepth: 0 });
  });

  it('exposes run, event and node metrics after a run', async () => {
    t = await startServer();
    await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Ada' }, wait: true });
    await t.api.runs.start.mutate({ flowId: 'hello', input: { name: 'Bob' }, wait: true });
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('loom_runs{status="succeeded"}')).toBe(2);
    expect(value('loom_runs{status="failed"}')).toBe(0);
    expect(value('loom_run_queue_depth')).toBe(0);
    expect(value('loom_event_append_seconds_count')).toBeGreaterThan(0);
    expect(value('loom_node_duration_seconds_count{status="succeeded"}')).toBe(6);
    expect(value('loom_runs_finished_total{status="succeeded"}')).toBe(2);
    expect(value('loom_events_total{type="run.finished"}')).toBe(2);
  });
});

describe('Origin and Host checks (loopback, no token)', () => {
  it('refuses a foreign Origin on /trpc with 403, creating nothing; accepts its own origin', async () => {
    t = await startServer();
    const before = await t.api.flows.list.query();
    const list = await fetch(`${t.url}/trpc/flows.list`, { headers: { origin: EVIL } });
    expect(list.status).toBe(403);
    expect(await list.json()).toMatchObject({ error: 'forbidden_origin' });
    const create = await fetch(`${t.url}/trpc/templates.use`, { method: 'POST', headers: { origin: EVIL, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'hello' }) });
    expect(create.status).toBe(403);
    expect(await t.api.flows.list.query()).toEqual(before);

    const own = await fetch(`${t.url}/trpc/flows.list`, { headers: { origin: t.url } });
    expect(own.status).toBe(200);
    await expect(createApiClient(t.url, { headers: { origin: t.url } }).flows.list.query()).resolves.toEqual(before);
  });

  it('refuses a socket from a foreign Origin', async () => {
    t = await startServer();
    await expect(openSocket(t.url, { origin: EVIL })).rejects.toThrow();
    const own = await openSocket(t.url, { origin: t.url });
    expect(own.connected).toBe(true);
    own.close();
  });

  it('lets the configured extra origins in, with CORS answers for them only', async () => {
    const dev = 'http://localhost:5173';
    t = await startServer({ env: { LOOM_ALLOWED_ORIGINS: ` ${dev} ,https://ui.example.test` } });
    const preflight = await fetch(`${t.url}/trpc/templates.use`, { method: 'OPTIONS', headers: { origin: dev, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(dev);
    const list = await fetch(`${t.url}/trpc/flows.list`, { headers: { origin: dev } });
    expect(list.status).toBe(200);
    expect(list.headers.get('access-control-allow-origin')).toBe(dev);
    expect((await fetch(`${t.url}/trpc/flows.list`, { headers: { origin: 'https://ui.example.test' } })).status).toBe(200);
    const evil = await fetch(`${t.url}/trpc/flows.list`, { headers: { origin: EVIL } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const socket = await openSocket(t.url, { origin: dev });
    socket.close();
  });

  it('answers 421 to a Host that is not a loopback name (DNS rebinding)', async () => {
    t = await startServer();
    const port = new URL(t.url).port;
    const res = await raw(t.url, { path: '/trpc/flows.list', headers: { host: `evil.example:${port}` } });
    expect(res.status).toBe(421);
    expect((await raw(t.url, { path: '/trpc/flows.list', headers: { host: `localhost:${port}` } })).status).toBe(200);
  });
});

describe('start-up policy and the admin token', () => {
  it('refuses to start on 0.0.0.0 without LOOM_ADMIN_TOKEN', async () => {
    const dir = await tempDir();
    try {
      const error = await startServer({ dir, env: { HOST: '0.0.0.0' } }).then(
        (server) => {
          void server.close();
          throw new Error('the server started');
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StartupError);
      expect((error as Error).message).toContain('LOOM_ADMIN_TOKEN');
      expect((error as Error).message).toContain('0.0.0.0');
      // A short token is refused too.
      await expect(startServer({ dir, env: { HOST: '127.0.0.1', LOOM_ADMIN_TOKEN: 'short' } })).rejects.toThrow(/LOOM_ADMIN_TOKEN is too short/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with a token, the API needs Authorization: Bearer (401 without) and sockets need auth.token', async () => {
    t = await startServer({ env: { LOOM_ADMIN_TOKEN: TOKEN } });
    const without = await fetch(`${t.url}/trpc/flows.list`);
    expect(without.status).toBe(401);
    expect(await without.json()).toMatchObject({ error: 'unauthorized' });
    expect((await fetch(`${t.url}/trpc/flows.list`, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong' } })).status).toBe(401);
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
    const noToken = await apiError(createApiClient(t.url).flows.list.query());
    expect((noToken.meta?.['response'] as Response | undefined)?.status).toBe(401);

    const withToken = await fetch(`${t.url}/trpc/flows.list`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(withToken.status).toBe(200);
    expect((await t.api.flows.list.query()).length).toBeGreaterThan(0); // t.api sends the token
    // Health probes need no token.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);

    await expect(openSocket(t.url)).rejects.toThrow('unauthorized');
    await expect(openSocket(t.url, { token: 'wrong-token-wrong-token-wrong' })).rejects.toThrow('unauthorized');
    const socket = await openSocket(t.url, { token: TOKEN });
    try {
      expect(await joinRun(socket, 'missing', 0)).toEqual({ ok: false, error: 'not_found' });
    } finally {
      socket.close();
    }
  });
});

describe('share links on a server with a token', () => {
  it('open without the token, and open nothing else', async () => {
    t = await startServer({ env: { LOOM_ADMIN_TOKEN: TOKEN } });
    const link = await t.api.flows.share.mutate({ id: 'hello', version: null });
    const input = encodeURIComponent(JSON.stringify({ token: link.token }));
    const shared = await fetch(`${t.url}/trpc/flows.shared?input=${input}`);
    expect(shared.status).toBe(200);
    expect(await shared.json()).toMatchObject({ result: { data: { id: 'hello', definition: { id: 'hello' } } } });
    // Riding another procedure on the share's batch does not get past the token.
    const batch = await fetch(`${t.url}/trpc/flows.shared,flows.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { token: link.token } }))}`);
    expect(batch.status).toBe(401);
    expect((await fetch(`${t.url}/trpc/flows.shared?input=${input}`, { method: 'POST' })).status).toBe(401);
    // The share page (the app's HTML, or the fallback's 404) is not behind the token either.
    expect((await fetch(`${t.url}/share/${link.token}`)).status).not.toBe(401);
  });
});

describe('HTTP answers', () => {
  it('answers an unknown path with 404 JSON', async () => {
    t = await startServer();
    const res = await fetch(`${t.url}/no/such/page`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ error: 'not_found', path: '/no/such/page' });
    const procedure = await fetch(`${t.url}/trpc/flows.nope`);
    expect(procedure.status).toBe(404);
  });

  it('answers 413 to a body over the limit', async () => {
    t = await startServer();
    const before = (await t.api.flows.list.query()).length;
    const body = Buffer.alloc(21 * 1024 * 1024 + 100, 'a');
    body.write('{"text":"', 0);
    body.write('"}', body.length - 2);
    const res = await raw(t.url, { method: 'POST', path: '/trpc/flows.import', headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body });
    expect(res.status).toBe(413);
    expect((await t.api.flows.list.query()).length).toBe(before);
  });

  it('serves a page listing the templates at / when the web app is not built', async () => {
    t = await startServer();
    const res = await fetch(`${t.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    for (const template of await t.api.templates.list.query()) expect(html).toContain(`<code>${template.name}</code>`);
    expect(html).toContain('pnpm flow run examples/hello.json --input &#39;{&#34;name&#34;:&#34;Ada&#34;}&#39;');
  });

  it('serves the built web app at / and on client routes, and still the API', async () => {
    const web = await tempDir();
    try {
      await mkdir(join(web, 'assets'));
      await writeFile(join(web, 'index.html'), '<!doctype html><title>Loom web</title><div id="root"></div>');
      await writeFile(join(web, 'assets', 'app.js'), 'console.log("app")');
      t = await startServer({ env: { LOOM_WEB_DIST: web } });
      const root = await fetch(`${t.url}/`);
      expect(await root.text()).toContain('Loom web');
      expect(await (await fetch(`${t.url}/runs/some-run`)).text()).toContain('Loom web');
      expect(await (await fetch(`${t.url}/assets/app.js`)).text()).toBe('console.log("app")');
      expect((await fetch(`${t.url}/trpc/flows.list`)).status).toBe(200);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await rm(web, { recursive: true, force: true });
    }
  });

  it('answers batched calls (httpBatchLink, as the web app sends them) one by one', async () => {
    t = await startServer();
    const batch = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${t.url}/trpc` })] });
    const [flows, missing, info] = await Promise.allSettled([batch.flows.list.query(), batch.flows.get.query({ id: 'nope' }), batch.system.info.query()]);
    expect(flows.status === 'fulfilled' && flows.value.length).toBeGreaterThan(0);
    expect(missing.status === 'rejected' && (missing.reason as ApiError).data?.code).toBe('NOT_FOUND');
    expect(info.status === 'fulfilled' && info.value.version).toBeTruthy();
  });

  it('answers system.info', async () => {
    t = await startServer({ env: { LOOM_MAX_CONCURRENT_RUNS: '7' } });
    const info = await t.api.system.info.query();
    expect(info.maxConcurrentRuns).toBe(7);
    // The offline stand-in says what it is; the real providers are offered too.
    expect(info.providers).toEqual([
      { name: 'local', notice: expect.stringContaining('not a language model') },
      { name: 'openai' },
      { name: 'anthropic' },
      { name: 'ollama' },
    ]);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
