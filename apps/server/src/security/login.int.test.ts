// The browser sign-in path of a server that requires its admin token.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from './auth.js';
import { loginRoutes } from './login.js';
import { securityMiddleware } from './middleware.js';
import { createOriginPolicy } from './origin.js';

const token = 'tok-0123456789abcdefghij-XYZ';
let server: Server;
let base: string;

beforeAll(async () => {
  const auth = createAuth({ adminToken: token });
  const app = express();
  app.use(securityMiddleware({ policy: createOriginPolicy({ allowedOrigins: [], loopbackOnly: true }), auth, port: () => (server.address() as AddressInfo).port }));
  app.use(loginRoutes(auth));
  app.get('/', (_req, res) => {
    res.type('html').send('<p>the app</p>');
  });
  app.get('/api', (_req, res) => {
    res.json({ ok: true });
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const form = (value: string) => ({ method: 'POST', redirect: 'manual' as const, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: value }).toString() });

describe('login', () => {
  it('sends a browser without the token to the login page, and an API client a 401', async () => {
    const page = await fetch(`${base}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    expect((await fetch(`${base}/api`, { headers: { accept: 'application/json' } })).status).toBe(401);
    const login = await fetch(`${base}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('LOOM_ADMIN_TOKEN');
  });

  it('refuses a wrong token and sets no cookie', async () => {
    const res = await fetch(`${base}/login`, form('not-the-token-but-long-enough'));
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('That token is not right.');
  });

  it('sets an HttpOnly SameSite=Strict cookie for the right token, which then opens the app', async () => {
    const res = await fetch(`${base}/login`, form(token));
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^loom_token=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const app = await fetch(`${base}/`, { headers: { accept: 'text/html', cookie: cookie.split(';')[0]! } });
    expect(app.status).toBe(200);
    expect(await app.text()).toContain('the app');
  });
});
