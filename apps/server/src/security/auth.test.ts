import { describe, expect, it } from 'vitest';
import { createAuth } from './auth.js';

const token = 'tok-0123456789abcdefghij-XYZ';

describe('createAuth', () => {
  it('lets everything through when no token is configured', () => {
    for (const adminToken of [undefined, '']) {
      const auth = createAuth({ adminToken });
      expect(auth.enabled).toBe(false);
      expect(auth.check({ headers: {} })).toBe(true);
      expect(auth.socketCheck({ headers: {}, auth: {} })).toBe(true);
    }
  });

  const auth = createAuth({ adminToken: token });

  it('is enabled with a token', () => expect(auth.enabled).toBe(true));

  it('accepts Authorization: Bearer <token>, the scheme in any case', () => {
    expect(auth.check({ headers: { authorization: `Bearer ${token}` } })).toBe(true);
    expect(auth.check({ headers: { authorization: `bearer  ${token} ` } })).toBe(true);
  });

  it('accepts the loom_token cookie among others, quoted or not', () => {
    expect(auth.check({ headers: { cookie: `loom_token=${token}` } })).toBe(true);
    expect(auth.check({ headers: { cookie: `a=1; loom_token=${token}; b=2` } })).toBe(true);
    expect(auth.check({ headers: { cookie: `loom_token="${token}"` } })).toBe(true);
    expect(auth.check({ headers: { cookie: `loom_token=wrong; loom_token=${token}` } })).toBe(true);
  });

  it.each([
    ['no credentials', {}],
    ['a wrong bearer token', { authorization: 'Bearer wrong-token' }],
    ['a prefix of the token', { authorization: `Bearer ${token.slice(0, -1)}` }],
    ['the token plus a character', { authorization: `Bearer ${token}x` }],
    ['another scheme', { authorization: `Basic ${token}` }],
    ['the bare token', { authorization: token }],
    ['Bearer without a token', { authorization: 'Bearer ' }],
    ['a wrong cookie', { cookie: 'loom_token=wrong' }],
    ['the token in another cookie', { cookie: `other_token=${token}` }],
    ['a cookie whose name only ends in loom_token', { cookie: `xloom_token=${token}` }],
  ])('refuses %s', (_, headers) => {
    expect(auth.check({ headers })).toBe(false);
  });

  it('accepts the socket.io auth.token, or the handshake headers', () => {
    expect(auth.socketCheck({ headers: {}, auth: { token } })).toBe(true);
    expect(auth.socketCheck({ headers: { authorization: `Bearer ${token}` }, auth: {} })).toBe(true);
    expect(auth.socketCheck({ headers: { cookie: `loom_token=${token}` } })).toBe(true);
    expect(auth.socketCheck({ headers: { cookie: `loom_token=${token}` }, auth: { token: 'wrong' } })).toBe(true);
  });

  it('refuses a socket without the token', () => {
    expect(auth.socketCheck({ headers: {} })).toBe(false);
    expect(auth.socketCheck({ headers: {}, auth: { token: 'wrong' } })).toBe(false);
    expect(auth.socketCheck({ headers: {}, auth: { token: [token] } })).toBe(false);
    expect(auth.socketCheck({ headers: { authorization: 'Bearer wrong' }, auth: { token: 42 } })).toBe(false);
  });
});
