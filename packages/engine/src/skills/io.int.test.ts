import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CredentialSource, HttpClient } from '../context/context.js';
import { envCredentials, fetchHttpClient, systemClock } from '../context/defaults.js';
import { NodeError } from '../errors.js';
import { validateFlow } from '../graph/compile.js';
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
  // Reflect the request's headers, as debugging endpoints and careless error pages do.
  '/headers': (req, _body, res) => json(res, 200, req.headers),
  '/headers/401-json': (req, _body, res) => json(res, 401, { error: 'bad token', headers: req.headers }),
  // With "Bearer <secret>" the secret straddles the 300 characters an http_status error
  // quotes, while "Bearer [redacted:api.key]" fits in them.
  '/headers/401-text': (req, _body, res) => text(res, 401, 'x'.repeat(274) + String(req.headers.authorization)),
  '/headers/redirect': (req, _body, res) => {
    res.writeHead(302, { location: `/login?was=${encodeURIComponent(String(req.headers.authorization))}` });
    res.end();
  },
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

/** A distinctive secret, so its absence from a log means something. */
const SECRET = 'zq9X-secret-value-7781';

function credentialsOf(values: Record<string, string>): CredentialSource {
  return {
    get: async (name) => {
      const value = values[name];
      if (value === undefined) throw new Error(`no credential named "${name}"`);
      return value;
    },
  };
}

function runWithCredentials(doc: unknown, credentials: CredentialSource | undefined, http: HttpClient = fetchHttpClient) {
  return run(doc, { input: {}, clock: systemClock, context: { http, ...(credentials ? { credentials } : {}) } });
}

/** The whole event log as one string, as it would be stored or sent to a browser. */
function logText(events: unknown[]): string {
  return JSON.stringify(events);
}

describe('http.request with a credential', () => {
  const credentials = credentialsOf({ 'api.key': SECRET });

  it('sends the credential as "authorization: Bearer <value>" by default', async () => {
    const { result } = await runWithCredentials(httpFlow({ url: `${base}/users/1`, auth: { credential: 'api.key' } }), credentials);
    expect(result.status).toBe('succeeded');
    expect(seen[0]!.headers['authorization']).toBe(`Bearer ${SECRET}`);
  });

  it('uses a custom header and prefix', async () => {
    const { result } = await runWithCredentials(
      httpFlow({ url: `${base}/users/1`, headers: { 'X-Trace': 't1' }, auth: { credential: 'api.key', header: 'X-Api-Key', prefix: 'Key ' } }),
      credentials,
    );
    expect(result.status).toBe('succeeded');
    expect(seen[0]!.headers['x-api-key']).toBe(`Key ${SECRET}`);
    expect(seen[0]!.headers['x-trace']).toBe('t1');
    expect(seen[0]!.headers['authorization']).toBeUndefined();
  });

  it('accepts an empty prefix', async () => {
    await runWithCredentials(httpFlow({ url: `${base}/users/1`, auth: { credential: 'api.key', header: 'x-token', prefix: '' } }), credentials);
    expect(seen[0]!.headers['x-token']).toBe(SECRET);
  });

  it('fails a missing credential with credential_not_found, without retrying or calling the server', async () => {
    const { result, events } = await runWithCredentials(
      httpFlow({ url: `${base}/users/1`, auth: { credential: 'other.key' } }, { retry: { maxAttempts: 3, backoffMs: 1 } }),
      credentials,
    );
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'credential_not_found', retryable: false, nodeId: 'call' });
    expect(result.error!.message).toContain('"other.key"');
    expect(statusesOf(events, 'call')).toEqual(['running#1', 'failed#1']);
    expect(seen).toEqual([]);
  });

  it('fails with credential_unavailable when the run has no credential source', async () => {
    const { result, events } = await runWithCredentials(
      httpFlow({ url: `${base}/users/1`, auth: { credential: 'api.key' } }, { retry: { maxAttempts: 3, backoffMs: 1 } }),
      undefined,
    );
    expect(result.error).toMatchObject({ code: 'credential_unavailable', retryable: false });
    expect(result.error!.message).toContain(
      'credential "api.key" is not available: this run has no credential store (runs started from the CLI can set LOOM_CREDENTIAL_API_KEY)',
    );
    expect(statusesOf(events, 'call')).toEqual(['running#1', 'failed#1']);
    expect(seen).toEqual([]);
  });

  it('does not read the credential for a host outside allowHosts', async () => {
    const asked: string[] = [];
    const watching: CredentialSource = { get: async (name) => (asked.push(name), SECRET) };
    const port = (server.address() as AddressInfo).port;
    const { result } = await runWithCredentials(httpFlow({ url: `http://localhost:${port}/users/1`, auth: { credential: 'api.key' } }), watching);
    expect(result.error).toMatchObject({ code: 'host_not_allowed' });
    expect(asked).toEqual([]);
  });

  it('keeps the code of a NodeError the credential store raises, so a transient failure is retried', async () => {
    let calls = 0;
    const flaky: CredentialSource = {
      get: async () => {
        if (++calls === 1) throw new NodeError('credential store is busy', 'credential_store_busy', true);
        return SECRET;
      },
    };
    const { result, events } = await runWithCredentials(
      httpFlow({ url: `${base}/users/1`, auth: { credential: 'api.key' } }, { retry: { maxAttempts: 2, backoffMs: 1 } }),
      flaky,
    );
    expect(result.status).toBe('succeeded');
    expect(statusesOf(events, 'call')).toEqual(['running#1', 'failed#1', 'running#2', 'succeeded#2']);
  });

  it('refuses a credential value a header cannot carry, without quoting it', async () => {
    const { result, events } = await runWithCredentials(
      httpFlow({ url: `${base}/users/1`, auth: { credential: 'api.key' } }),
      credentialsOf({ 'api.key': `${SECRET}\r\nX-Injected: 1` }),
    );
    expect(result.error).toMatchObject({ code: 'credential_invalid', retryable: false });
    expect(logText(events)).not.toContain(SECRET);
    expect(seen).toEqual([]);
  });

  it('redacts the secret from a response that echoes the request headers', async () => {
    const { result, events } = await runWithCredentials(httpFlow({ url: `${base}/headers`, auth: { credential: 'api.key' } }), credentials);
    expect(result.status).toBe('succeeded');
    expect(seen[0]!.headers['authorization']).toBe(`Bearer ${SECRET}`);
    expect(result.output).toMatchObject({ status: 200, body: { authorization: 'Bearer [redacted:api.key]' } });
    const log = logText(events);
    expect(log).not.toContain(SECRET);
    expect(log).toContain('[redacted:api.key]');
  });

  it('redacts the secret from text responses returned as output', async () => {
    const { result, events } = await runWithCredentials(
      httpFlow({ url: `${base}/headers/401-text`, auth: { credential: 'api.key' }, responseType: 'text', failOnHttpError: false }),
      credentials,
    );
    expect(result.output).toMatchObject({ status: 401, body: 'x'.repeat(274) + 'Bearer [redacted:api.key]' });
    expect(logText(events)).not.toContain(SECRET);
  });

  it('redacts the secret from HTTP errors before quoting the body, leaving no part of it', async () => {
    const { result, events } = await runWithCredentials(httpFlow({ url: `${base}/headers/401-text`, auth: { credential: 'api.key' } }), credentials);
    expect(result.error).toMatchObject({ code: 'http_status', retryable: false });
    expect(result.error!.message).toContain('Bearer [redacted:api.key]');
    const log = logText(events);
    expect(log).not.toContain(SECRET.slice(0, 4));
    expect(log).toContain('[redacted:api.key]');
  });

  it('redacts a secret escaped inside a JSON error body', async () => {
    const tricky = 'ab"cd\\ef-9981';
    const { result, events } = await runWithCredentials(
      httpFlow({ url: `${base}/headers/401-json`, auth: { credential: 'api.key' } }),
      credentialsOf({ 'api.key': tricky }),
    );
    expect(seen[0]!.headers['authorization']).toBe(`Bearer ${tricky}`);
    expect(result.error).toMatchObject({ code: 'http_status' });
    const log = logText(events);
    expect(log).not.toContain(JSON.stringify(tricky).slice(1, -1));
    expect(log).not.toContain(JSON.stringify(JSON.stringify(tricky).slice(1, -1)).slice(1, -1));
    expect(log).toContain('[redacted:api.key]');
  });

  it('redacts a URL-encoded secret from a redirect location', async () => {
    const spaced = 'has space/and+plus-5512';
    const { result, events } = await runWithCredentials(
      httpFlow({ url: `${base}/headers/redirect`, responseType: 'text', auth: { credential: 'api.key', header: 'authorization', prefix: '' } }),
      credentialsOf({ 'api.key': spaced }),
    );
    expect(result.error).toMatchObject({ code: 'http_redirect' });
    expect(result.error!.message).toContain('/login?was=[redacted:api.key]');
    const log = logText(events);
    expect(log).not.toContain(encodeURIComponent(spaced));
    expect(log).not.toContain(spaced);
  });

  it('redacts the secret from errors the HTTP client throws, keeping their code', async () => {
    const quoting: HttpClient = async (_url, init) => {
      throw Object.assign(new Error(`connection refused while sending authorization: ${init.headers['authorization']}`), { code: 'econnrefused', retryable: false });
    };
    const { result, events } = await runWithCredentials(httpFlow({ url: `${base}/users/1`, auth: { credential: 'api.key' } }), credentials, quoting);
    expect(result.error).toMatchObject({ code: 'econnrefused', retryable: false });
    expect(result.error!.message).toContain('connection refused while sending authorization: Bearer [redacted:api.key]');
    expect(logText(events)).not.toContain(SECRET);
  });

  it('reads credentials from LOOM_CREDENTIAL_* variables with envCredentials', async () => {
    const { result } = await runWithCredentials(
      httpFlow({ url: `${base}/users/1`, auth: { credential: 'github-token' } }),
      envCredentials({ LOOM_CREDENTIAL_GITHUB_TOKEN: SECRET }),
    );
    expect(result.status).toBe('succeeded');
    expect(seen[0]!.headers['authorization']).toBe(`Bearer ${SECRET}`);
    const missing = await runWithCredentials(httpFlow({ url: `${base}/users/1`, auth: { credential: 'absent' } }), envCredentials({}));
    expect(missing.result.error).toMatchObject({ code: 'credential_not_found', retryable: false });
    expect(missing.result.error!.message).toContain('credential "absent" is not set (environment variable LOOM_CREDENTIAL_ABSENT)');
  });
});

describe('http.request auth parameters', () => {
  function issuesOf(params: Record<string, unknown>) {
    const result = validateFlow(httpFlow(params));
    return result.ok ? [] : result.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  }

  it('rejects a header set both in headers and by auth, naming auth.header', () => {
    expect(issuesOf({ url: 'http://127.0.0.1/x', headers: { Authorization: 'Basic abc' }, auth: { credential: 'api.key' } })).toEqual([
      { path: 'nodes.1.config.params.auth.header', message: 'header "Authorization" is set both in headers and by auth.header; remove one of them' },
    ]);
    expect(issuesOf({ url: 'http://127.0.0.1/x', headers: { 'x-api-key': 'k' }, auth: { credential: 'api.key', header: 'X-API-Key' } })).toHaveLength(1);
    expect(issuesOf({ url: 'http://127.0.0.1/x', headers: { 'x-other': 'k' }, auth: { credential: 'api.key', header: 'X-API-Key' } })).toEqual([]);
  });

  it('rejects bad credential names, header names, prefixes and unknown keys where they are', () => {
    const at = (auth: unknown) => [...new Set(issuesOf({ url: 'http://127.0.0.1/x', auth }).map((i) => i.path))];
    expect(at({ credential: '' })).toEqual(['nodes.1.config.params.auth.credential']);
    expect(at({ credential: '.hidden' })).toEqual(['nodes.1.config.params.auth.credential']);
    expect(at({ credential: 'has space' })).toEqual(['nodes.1.config.params.auth.credential']);
    expect(at({ credential: 'a'.repeat(129) })).toEqual(['nodes.1.config.params.auth.credential']);
    expect(at({ credential: 'a'.repeat(128) })).toEqual([]);
    expect(at({ credential: 'k', header: 'bad header:' })).toEqual(['nodes.1.config.params.auth.header']);
    expect(at({ credential: 'k', prefix: 'Bearer\r\nX: 1 ' })).toEqual(['nodes.1.config.params.auth.prefix']);
    expect(at({ credential: 'k', scheme: 'basic' })).toEqual(['nodes.1.config.params.auth']);
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
