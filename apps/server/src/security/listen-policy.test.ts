import { describe, expect, it } from 'vitest';
import { checkListenPolicy, isLoopbackHost } from './listen-policy.js';

const strongToken = 'a'.repeat(24);

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', '127.255.255.255', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST'])(
    'accepts %s',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each(['0.0.0.0', '::', '[::]', '', '192.168.1.10', '10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'fe80::1%eth0', 'example.com', 'localhost.example.com', 'my-laptop', '127.0.0.1.nip.io'])(
    'refuses %j',
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe('checkListenPolicy', () => {
  it('accepts loopback without a token', () => {
    expect(checkListenPolicy({ host: '127.0.0.1' })).toEqual({ ok: true, loopback: true });
    expect(checkListenPolicy({ host: '::1', adminToken: '' })).toEqual({ ok: true, loopback: true });
    expect(checkListenPolicy({ host: 'localhost', adminToken: undefined })).toEqual({ ok: true, loopback: true });
  });

  it('accepts loopback with a token', () => {
    expect(checkListenPolicy({ host: '127.0.0.1', adminToken: strongToken })).toEqual({ ok: true, loopback: true });
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', 'my-laptop.local', ''])('refuses %j without a token, naming HOST and LOOM_ADMIN_TOKEN', (host) => {
    const result = checkListenPolicy({ host });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain('HOST=127.0.0.1');
    expect(result.message).toContain('LOOM_ADMIN_TOKEN');
    expect(result.message).toContain('at least 24 characters');
    expect(result.message).toContain(host === '' ? 'all network interfaces' : host);
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', 'my-laptop.local'])('accepts %s with a token of 24 characters or more', (host) => {
    expect(checkListenPolicy({ host, adminToken: strongToken })).toEqual({ ok: true, loopback: false });
    expect(checkListenPolicy({ host, adminToken: `${'Ab0-._~+/'.repeat(4)}==` })).toEqual({ ok: true, loopback: false });
  });

  it('refuses a token shorter than 24 characters, wherever it listens', () => {
    for (const host of ['0.0.0.0', '127.0.0.1']) {
      const result = checkListenPolicy({ host, adminToken: 'a'.repeat(23) });
      expect(result).toEqual({ ok: false, message: expect.stringContaining('LOOM_ADMIN_TOKEN is too short (23 characters)') });
    }
  });

  it.each(['with spaces in the middle ok', 'semicolon;semicolon;semicolon', 'quote"quote"quote"quote"q', 'accentué-accentué-accentué', '=leading-equals-is-not-b64token'])(
    'refuses the token %j, which cannot be sent in a header or cookie',
    (adminToken) => {
      const result = checkListenPolicy({ host: '0.0.0.0', adminToken });
      expect(result).toEqual({ ok: false, message: expect.stringContaining('LOOM_ADMIN_TOKEN contains characters') });
      expect((result as { message: string }).message).not.toContain(adminToken);
    },
  );
});
