// The security middleware in a real Express app and socket.io server on 127.0.0.1.
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Server as SocketServer } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from './auth.js';
import { securityMiddleware, socketAllowRequest, socketAuthMiddleware } from './middleware.js';
import { createOriginPolicy } from './origin.js';

const token = 'tok-0123456789abcdefghij-XYZ';
let server: Server;
let sockets: SocketServer;
let port: number;
let base: string;

beforeAll(async () => {
  const policy = createOriginPolicy({ allowedOrigins: ['http://localhost:5173'], loopbackOnly: true });
  const auth = createAuth({ adminToken: token });
  const getPort = () => (server.address() as AddressInfo).port;
  const app = express();
  app.use(securityMiddleware({ policy, auth, port: getPort }));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/api/thing', (_req, res) => {
    res.json({ thing: 1 });
  });
  app.post('/api/thing', (_req, res) => {
    res.status(201).json({ created: true });
  });
  app.options('/api/thing', (_req, res) => {
    res.status(204).end();
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  sockets = new SocketServer(server, { allowRequest: socketAllowRequest({ policy, port: getPort }) });
  sockets.use(socketAuthMiddleware(auth));
  sockets.on('connection', (socket) => {
    socket.emit('hello', 'world');
  });
  port = getPort();
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await sockets.close(); // closes the HTTP server too
});

/** A GET with an explicit Host header, which fetch does not allow setting. */
function get(path: string, headers: Record<string, string>): Promise<{ status: number; body: { error?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error?: string } }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('securityMiddleware over HTTP', () => {
  const bearer = { authorization: `Bearer ${token}` };

  it('answers 421 for a Host other than a loopback name on this port, /healthz included', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `localhost:${port + 1}`]) {
      for (const path of ['/api/thing', '/healthz']) {
        const { status, body } = await get(path, { ...bearer, host });
        expect({ host, path, status }).toEqual({ host, path, status: 421 });
        expect(body.error).toBe('misdirected_request');
        expect(body.message).toContain(`http://localhost:${port}/`);
      }
    }
  });

  it('accepts the loopback names as Host', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      expect((await get('/api/thing', { ...bearer, host })).status).toBe(200);
    }
  });

  it('answers GET /healthz without a token or with a foreign Origin', async () => {
    const res = await fetch(`${base}/healthz`, { headers: { origin: 'http://evil.example' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('answers 403 for a foreign or null Origin, even with the token', async () => {
    for (const origin of ['http://evil.example', 'null', `http://localhost:${port}`]) {
      // The last is only foreign because the request is addressed to 127.0.0.1.
      const res = await fetch(`${base}/api/thing`, { headers: { ...bearer, origin } });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'forbidden_origin' });
    }
  });

  it('answers 401 without the token, saying how to send it', async () => {
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { cookie: 'loom_token=wrong' }];
    for (const headers of refused) {
      const res = await fetch(`${base}/api/thing`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="loom"');
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('unauthorized');
      expect(body.message).toContain('Authorization: Bearer <LOOM_ADMIN_TOKEN>');
    }
    expect((await fetch(`${base}/api/thing`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base}/nowhere`)).status).toBe(401);
  });

  it('answers with the token, from the own or an allowed Origin, or none', async () => {
    const ok: Record<string, string>[] = [
      { ...bearer },
      { cookie: `loom_token=${token}` },
      { ...bearer, origin: base },
      { ...bearer, origin: 'http://localhost:5173' },
    ];
    for (const headers of ok) {
      const res = await fetch(`${base}/api/thing`, { headers });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ thing: 1 });
    }
    const post = await fetch(`${base}/api/thing`, { method: 'POST', headers: { ...bearer, origin: base } });
    expect(post.status).toBe(201);
  });

  it('lets a CORS preflight from an allowed origin through without the token, but not a foreign one', async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/api/thing`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    expect((await preflight('http://localhost:5173')).status).toBe(204);
    expect((await preflight('http://evil.example')).status).toBe(403);
    // A plain OPTIONS request is not a preflight and needs the token.
    expect((await fetch(`${base}/api/thing`, { method: 'OPTIONS' })).status).toBe(401);
  });
});

describe('socket.io', () => {
  function open(options: { auth?: Record<string, string>; extraHeaders?: Record<string, string>; transports: ('polling' | 'websocket')[] }) {
    const client: ClientSocket = connect(base, { ...options, reconnection: false, timeout: 5_000, forceNew: true });
    return new Promise<{ hello?: string; error?: Error & { data?: unknown; description?: unknown } }>((resolve) => {
      client.on('hello', (hello: string) => {
        client.close();
        resolve({ hello });
      });
      client.on('connect_error', (error) => {
        client.close();
        resolve({ error });
      });
    });
  }

  for (const transport of ['polling', 'websocket'] as const) {
    it(`connects with auth.token over ${transport}`, async () => {
      expect(await open({ auth: { token }, transports: [transport] })).toEqual({ hello: 'world' });
    });

    it(`refuses a socket without the token over ${transport}`, async () => {
      const { error } = await open({ auth: { token: 'wrong' }, transports: [transport] });
      expect(error?.message).toBe('unauthorized');
    });

    it(`refuses a foreign Origin before the handshake over ${transport}`, async () => {
      const { hello, error } = await open({
        auth: { token },
        extraHeaders: { origin: 'http://evil.example' },
        transports: [transport],
      });
      expect(hello).toBeUndefined();
      expect(error).toBeDefined();
      expect(error?.message).not.toBe('unauthorized');
    });
  }
});
