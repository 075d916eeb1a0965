import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchHttpClient, systemClock } from '../context/defaults.js';
import { flowDoc, run, statusesOf } from '../test-harness.js';
import { hostAllowed } from './io.js';

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const seen: SeenRequest[] = [];
let server: Server;
let base: string;

const routes: Record<string, (req: IncomingMessage, body: string, res: ServerResponse) => void> = {
  '/echo': (req, body, res) => json(res, 200, { method: req.method, contentType: req.headers['content-type'], received: JSON.parse(body) }),
  '/fail/500': (_req, _body, res) => text(res, 500, 'database down'),
  '/fail/404': (_req, _body, res) => json(res, 404, { error: 'no such thing' }),
  '/text': (_req, _body, res) => text(res, 200, 'just words'),
  '/redirect': (_req, _body, res) => {
    res.writeHead(302, { location: '/target' });
    res.end();
  },
  '/target': (_req, _body, res) => json(res, 200, { reached: true }),
  '/big': (_req, _body, res) => text(res, 200, 'x'.repeat(2_000)),
  // 600 characters, 1,800 bytes in UTF-8.
  '/big-multibyte': (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('€'.repeat(600));
  },
  '/big-streamed': (_req, _body, res) => {
    // No content-length: the limit must hold for what is actually read.
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 0; i < 20; i++) res.write('y'.repeat(100));
    res.end();
  },
};

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function text(res: ServerResponse, status: number, value: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(value);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      seen.push({ method: req.method ?? '', url, headers: req.headers, body });
      const user = /^\/users\/(\w+)$/.exec(url);
      if (user) return json(res, 200, { id: user[1], name: `User ${user[1]}` });
      const route = routes[url];
      if (route) return route(req, body, res);
      text(res, 404, 'no route');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

beforeEach(() => {
  seen.length = 0;
});

function httpFlow(params: Record<string, unknown>, node: Record<string, unknown> = {}, allowHosts: string[] = ['127.0.0.1']) {
  return flowDoc(
    [{ id: 'in', kind: 'input' }, { id: 'call', kind: 'skill', config: { skill: 'http.request', params }, ...node }, { id: 'out', kind: 'output' }],
    [
      { from: 'in', to: 'call' },
      { from: 'call', to: 'out' },
    ],
    { allowHosts },
  );
}

function runHttp(doc: unknown, input: unknown = {}) {
  return run(doc, { input, clock: systemClock, context: { http: fetchHttpClient } });
}

describe('http.request against a local server', () => {
  it('GETs JSON from a templated URL', async () => {
    const { result } = await runHttp(httpFlow({ url: `${base}/users/{{ id }}` }), { id: 'ada' });
    expect(result.status).toBe('succeeded');
    expect(result.output).toMatchObject({ status: 200, body: { id: 'ada', name: 'User ada' }, headers: { 'content-type': 'application/json' } });
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /users/ada']);
  });

  it('POSTs its input as JSON when no body template is given', async () => {
    const { result } = await runHttp(httpFlow({ method: 'POST', url: `${base}/echo` }), { order: 7, items: ['a'] });
    expect(result.output).toMatchObject({ status: 200, body: { method: 'POST', contentType: 'application/json', received: { order: 7, items: ['a'] } } });
  });

  it('sends templated headers and body', async () => {
    const { result } = await runHttp(
      httpFlow({ method: 'POST', url: `${base}/echo`, headers: { 'Content-Type': 'application/json', 'X-Request': 'order-{{ id }}' }, body: '{"wrapped": {{ id }}}' }),
      { id: 3 },
    );
    expect(result.output).toMatchObject({ body: { received: { wrapped: 3 } } });
    expect(seen[0]!.headers['x-request']).toBe('order-3');
  });

  it('refuses a host outside settings.allowHosts before making any request', async () => {
    const port = (server.address() as AddressInfo).port;
    const { result, events } = await runHttp(httpFlow({ url: `http://localhost:${port}/users/1` }, { retry: { maxAttempts: 3, backoffMs: 1 } }));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'host_not_allowed', retryable: false });
    expect(result.error!.message).toContain('host "localhost" is not in the flow\'s settings.allowHosts (127.0.0.1)');
    expect(statusesOf(events, 'call')).toEqual(['running#1', 'failed#1']);
    expect(seen).toEqual([]);
  });

  it('refuses every host when allowHosts is empty', async () => {
    const { result } = await runHttp(httpFlow({ url: `${base}/users/1` }, {}, []));
    expect(result.error!.message).toContain('settings.allowHosts (empty)');
    expect(seen).toEqual([]);
  });

  it('treats a 500 as retryable and retries it', async () => {
    const { result, events } = await runHttp(httpFlow({ url: `${base}/fail/500` }, { retry: { maxAttempts: 2, backoffMs: 1 } }));
    expect(statusesOf(events, 'call')).toEqual(['running#1', 'failed#1', 'running#2', 'failed#2']);
    expect(result.error).toMatchObject({ code: 'http_status', retryable: true });
    expect(result.error!.message).toContain('HTTP 500 from 127.0.0.1');
    expect(result.error!.message).toContain('database down');
    expect(seen).toHaveLength(2);
  });

  it('does not retry a 404', async () => {
    const { result, events } = await runHttp(httpFlow({ url: `${base}/fail/404` }, { retry: { maxAttempts: 3, backoffMs: 1 } }));
    expect(statusesOf(events, 'call')).toEqual(['running#1', 'failed#1']);
    expect(result.error).toMatchObject({ code: 'http_status', retryable: false });
    expect(seen).toHaveLength(1);
  });

  it('returns the status instead of failing when failOnHttpError is false', async () => {
    const { result } = await runHttp(httpFlow({ url: `${base}/fail/404`, failOnHttpError: false }));
    expect(result.status).toBe('succeeded');
    expect(result.output).toMatchObject({ status: 404, body: { error: 'no such thing' } });
  });

  it('returns a non-JSON error page as text when failOnHttpError is false', async () => {
    const { result } = await runHttp(httpFlow({ url: `${base}/no/such/route`, failOnHttpError: false }));
    expect(result.status).toBe('succeeded');
    expect(result.output).toMatchObject({ status: 404, body: 'no route' });
  });

  it('fails clearly when a JSON response is not JSON, and accepts it as text when asked', async () => {
    const { result } = await runHttp(httpFlow({ url: `${base}/text` }));
    expect(result.error).toMatchObject({ code: 'invalid_response', retryable: false });
    expect(result.error!.message).toContain('is not JSON (set responseType: "text" to accept text)');
    const asText = await runHttp(httpFlow({ url: `${base}/text`, responseType: 'text' }));
    expect(asText.result.output).toMatchObject({ status: 200, body: 'just words' });
  });

  it('does not follow redirects', async () => {
    const { result } = await runHttp(httpFlow({ url: `${base}/redirect`, responseType: 'text' }));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'http_redirect', message: expect.stringContaining('to /target was not followed') });
    expect(seen.map((r) => r.url)).toEqual(['/redirect']);
    seen.length = 0;
    const { result: returned } = await runHttp(httpFlow({ url: `${base}/redirect`, responseType: 'text', failOnHttpError: false }));
    expect(returned.output).toMatchObject({ status: 302, headers: { location: '/target' } });
    expect(seen.map((r) => r.url)).toEqual(['/redirect']);
  });

  it('enforces maxResponseBytes with and without a content-length', async () => {
    for (const path of ['/big', '/big-streamed', '/big-multibyte']) {
      const { result } = await runHttp(httpFlow({ url: `${base}${path}`, responseType: 'text', maxResponseBytes: 1_000 }));
      expect(result.error, path).toMatchObject({ code: 'response_too_large', retryable: false });
      expect(result.error!.message).toContain('exceeds maxResponseBytes 1000');
    }
    const { result } = await runHttp(httpFlow({ url: `${base}/big`, responseType: 'text', maxResponseBytes: 2_000 }));
    expect(result.status).toBe('succeeded');
  });

  it('is cancelled with its run', async () => {
    const controller = new AbortController();
    controller.abort();
    const { result } = await run(httpFlow({ url: `${base}/users/1` }), { clock: systemClock, signal: controller.signal, context: { http: fetchHttpClient } });
    expect(result.status).toBe('cancelled');
    expect(seen).toEqual([]);
  });
});

describe('hostAllowed', () => {
  it('matches exact names, case-insensitively', () => {
    expect(hostAllowed('api.example.com', ['api.example.com'])).toBe(true);
    expect(hostAllowed('API.Example.com', ['api.example.COM'])).toBe(true);
    expect(hostAllowed('other.example.com', ['api.example.com'])).toBe(false);
    expect(hostAllowed('anything', [])).toBe(false);
  });

  it('lets *.example.com match subdomains only', () => {
    const allow = ['*.example.com'];
    expect(hostAllowed('api.example.com', allow)).toBe(true);
    expect(hostAllowed('a.b.example.com', allow)).toBe(true);
    expect(hostAllowed('example.com', allow)).toBe(false);
    expect(hostAllowed('badexample.com', allow)).toBe(false);
    expect(hostAllowed('example.com.evil.net', allow)).toBe(false);
    expect(hostAllowed('.example.com', allow)).toBe(false);
  });

  it('matches IPv6 hosts written with brackets in URLs', () => {
    expect(hostAllowed(new URL('http://[::1]:8080/').hostname, ['::1'])).toBe(true);
  });
});
