import { describe, expect, it } from 'vitest';
import { createOriginPolicy, normaliseOrigin } from './origin.js';

describe('normaliseOrigin', () => {
  it.each([
    ['http://localhost:3000', 'http://localhost:3000'],
    ['HTTP://LocalHost:3000', 'http://localhost:3000'],
    ['http://example.com:80', 'http://example.com'],
    ['https://example.com:443', 'https://example.com'],
    ['https://example.com:80', 'https://example.com:80'],
    ['http://[::1]:3000', 'http://[::1]:3000'],
    ['https://example.com/', 'https://example.com'],
  ])('%s → %s', (value, expected) => expect(normaliseOrigin(value)).toBe(expected));

  it.each(['null', '', 'example.com', 'ftp://example.com', 'file:///etc', 'http://user:pw@example.com', 'http://example.com/path', 'http://example.com?x', 'http://example.com#x', 'chrome-extension://abc'])(
    'refuses %j',
    (value) => expect(normaliseOrigin(value)).toBeNull(),
  );
});

describe('checkHost', () => {
  const loopback = createOriginPolicy({ allowedOrigins: [], loopbackOnly: true });

  it.each(['localhost', 'localhost:3000', 'LOCALHOST:3000', '127.0.0.1', '127.0.0.1:3000', '[::1]', '[::1]:3000'])(
    'accepts %s on a loopback-only server on port 3000',
    (host) => expect(loopback.checkHost(host, 3000)).toBe(true),
  );

  it.each([undefined, '', 'evil.example', 'evil.example:3000', 'localhost:3001', '127.0.0.2:3000', '[::2]:3000', '0.0.0.0:3000', 'localhost.:3000', 'localhost.evil.example', 'user@localhost:3000', 'localhost:3000/x', 'localhost:'])(
    'refuses %j on a loopback-only server on port 3000',
    (host) => expect(loopback.checkHost(host, 3000)).toBe(false),
  );

  it('accepts any Host when the server is not loopback-only', () => {
    const open = createOriginPolicy({ allowedOrigins: [], loopbackOnly: false });
    for (const host of [undefined, 'loom.example.com', '192.168.1.10:3000', 'localhost:9']) {
      expect(open.checkHost(host, 3000)).toBe(true);
    }
  });
});

describe('checkOrigin', () => {
  const policy = createOriginPolicy({
    allowedOrigins: ['http://localhost:5173', 'HTTPS://Loom.Example.com:443/'],
    loopbackOnly: true,
  });

  it('accepts a request without Origin', () => {
    expect(policy.checkOrigin(undefined, 'localhost:3000')).toBe(true);
    expect(policy.checkOrigin(undefined, undefined)).toBe(true);
  });

  it("accepts the request's own origin, over http or https", () => {
    expect(policy.checkOrigin('http://localhost:3000', 'localhost:3000')).toBe(true);
    expect(policy.checkOrigin('http://LOCALHOST:3000', 'localhost:3000')).toBe(true);
    expect(policy.checkOrigin('https://127.0.0.1:3000', '127.0.0.1:3000')).toBe(true);
    expect(policy.checkOrigin('http://[::1]:3000', '[::1]:3000')).toBe(true);
    expect(policy.checkOrigin('http://localhost', 'localhost:80')).toBe(true);
  });

  it('accepts the allowed origins after normalising', () => {
    expect(policy.checkOrigin('http://localhost:5173', 'localhost:3000')).toBe(true);
    expect(policy.checkOrigin('https://loom.example.com', 'localhost:3000')).toBe(true);
    expect(policy.checkOrigin('https://LOOM.example.com:443', undefined)).toBe(true);
  });

  it('refuses other origins', () => {
    expect(policy.checkOrigin('http://evil.example', 'localhost:3000')).toBe(false);
    expect(policy.checkOrigin('http://localhost:3001', 'localhost:3000')).toBe(false);
    expect(policy.checkOrigin('http://127.0.0.1:3000', 'localhost:3000')).toBe(false);
    expect(policy.checkOrigin('https://localhost:5173', 'localhost:3000')).toBe(false);
    expect(policy.checkOrigin('http://loom.example.com', 'localhost:3000')).toBe(false);
    expect(policy.checkOrigin('http://localhost:3000', undefined)).toBe(false);
  });

  it('refuses the null origin and malformed ones', () => {
    expect(policy.checkOrigin('null', 'localhost:3000')).toBe(false);
    expect(policy.checkOrigin('', 'localhost:3000')).toBe(false);
    expect(policy.checkOrigin('http://localhost:3000/path', 'localhost:3000')).toBe(false);
    // A Host header that is not a plain host[:port] gives no "own origin" to match.
    expect(policy.checkOrigin('http://localhost:3000', 'evil.example@localhost:3000')).toBe(false);
    expect(policy.checkOrigin('http://localhost', 'localhost/x')).toBe(false);
  });

  it('names an allowed origin that is not one', () => {
    expect(() => createOriginPolicy({ allowedOrigins: ['http://ok.example', 'ok.example'], loopbackOnly: true })).toThrow(
      'allowedOrigins[1] ("ok.example") is not an origin',
    );
    expect(() => createOriginPolicy({ allowedOrigins: ['https://ok.example/app'], loopbackOnly: false })).toThrow(
      'allowedOrigins[0] ("https://ok.example/app") is not an origin',
    );
  });
});
