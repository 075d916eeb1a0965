import type { IncomingMessage } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { createAuth } from './auth.js';
import { socketAllowRequest, socketAuthMiddleware } from './middleware.js';
import { createOriginPolicy } from './origin.js';

const policy = createOriginPolicy({ allowedOrigins: ['http://localhost:5173'], loopbackOnly: true });
const request = (headers: Record<string, string>) => ({ headers }) as IncomingMessage;

function allow(headers: Record<string, string>, port: number | (() => number) = 3000) {
  const callback = vi.fn();
  socketAllowRequest({ policy, port })(request(headers), callback);
  expect(callback).toHaveBeenCalledOnce();
  return callback.mock.calls[0];
}

describe('socketAllowRequest', () => {
  it('accepts a loopback Host with its own or an allowed Origin, or none', () => {
    expect(allow({ host: 'localhost:3000' })).toEqual([null, true]);
    expect(allow({ host: 'localhost:3000', origin: 'http://localhost:3000' })).toEqual([null, true]);
    expect(allow({ host: '127.0.0.1:3000', origin: 'http://localhost:5173' })).toEqual([null, true]);
  });

  it('refuses another Host', () => {
    expect(allow({ host: 'evil.example:3000', origin: 'http://evil.example:3000' })).toEqual(['misdirected_request', false]);
    expect(allow({})).toEqual(['misdirected_request', false]);
  });

  it('refuses a foreign Origin', () => {
    expect(allow({ host: 'localhost:3000', origin: 'http://evil.example' })).toEqual(['forbidden_origin', false]);
    expect(allow({ host: 'localhost:3000', origin: 'null' })).toEqual(['forbidden_origin', false]);
  });

  it('reads the port when a request comes, when it is a function', () => {
    let port = 0;
    const getPort = () => port;
    expect(allow({ host: 'localhost:4000' }, getPort)).toEqual(['misdirected_request', false]);
    port = 4000;
    expect(allow({ host: 'localhost:4000' }, getPort)).toEqual([null, true]);
  });
});

describe('socketAuthMiddleware', () => {
  const middleware = socketAuthMiddleware(createAuth({ adminToken: 'tok-0123456789abcdefghij-XYZ' }));

  it('lets a socket with the token through', () => {
    const next = vi.fn();
    middleware({ handshake: { headers: {}, auth: { token: 'tok-0123456789abcdefghij-XYZ' } } as never }, next);
    expect(next).toHaveBeenCalledExactlyOnceWith();
  });

  it("refuses a socket without it with Error('unauthorized')", () => {
    const next = vi.fn();
    middleware({ handshake: { headers: {}, auth: {} } as never }, next);
    expect(next).toHaveBeenCalledOnce();
    const error = next.mock.calls[0]![0] as Error & { data?: { message: string } };
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('unauthorized');
    expect(error.data?.message).toContain('auth: { token: <LOOM_ADMIN_TOKEN> }');
  });
});
