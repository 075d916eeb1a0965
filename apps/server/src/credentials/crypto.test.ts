import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CredentialDecryptError, decryptSecret, encryptSecret, loadSecretKey, SecretKeyError } from './crypto.js';

const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
// The key file must never be touched when the key comes from the environment.
const keyFile = '/nonexistent/loom-test/secret.key';

/** Flips one bit of part `index` (1 iv, 2 tag, 3 ciphertext) and re-encodes it canonically. */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0]! ^= 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('encryptSecret / decryptSecret', () => {
  it('round-trips, including empty and non-ASCII text', () => {
    for (const plaintext of ['sk-test-123', '', 'clé ✓ 🔑', 'x'.repeat(10_000)]) {
      expect(decryptSecret(key, 'openai', encryptSecret(key, 'openai', plaintext))).toBe(plaintext);
    }
  });

  it('produces v1.<iv>.<tag>.<ciphertext> with a fresh 12-byte iv and a 16-byte tag', () => {
    const a = encryptSecret(key, 'openai', 'secret');
    const b = encryptSecret(key, 'openai', 'secret');
    expect(a).not.toBe(b);
    const [version, iv, tag, ciphertext] = a.split('.');
    expect(version).toBe('v1');
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength('secret'.length);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(a).not.toContain('secret');
  });

  it.each([
    ['iv', 1],
    ['tag', 2],
    ['ciphertext', 3],
  ])('refuses a tampered %s', (_, index) => {
    const sealed = tamper(encryptSecret(key, 'openai', 'sk-test-123'), index);
    expect(() => decryptSecret(key, 'openai', sealed)).toThrow(
      new CredentialDecryptError('openai'),
    );
  });

  it('refuses a changed character even where base64url has unused bits', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sealed = encryptSecret(key, 'openai', 'sk-test-123');
    const parts = sealed.split('.');
    // A 16-byte tag is 22 characters; the last one's 4 low bits are unused, so flipping its
    // lowest bit leaves the decoded tag unchanged. It must still be refused.
    const tag = parts[2]!;
    parts[2] = tag.slice(0, -1) + alphabet[alphabet.indexOf(tag.at(-1)!) ^ 1];
    expect(Buffer.from(parts[2], 'base64url')).toEqual(Buffer.from(tag, 'base64url'));
    expect(() => decryptSecret(key, 'openai', parts.join('.'))).toThrow(new CredentialDecryptError('openai'));
  });

  it('refuses a value sealed for another credential name', () => {
    const sealed = encryptSecret(key, 'openai', 'sk-test-123');
    expect(() => decryptSecret(key, 'anthropic', sealed)).toThrow(
      'credential "anthropic" cannot be decrypted: wrong key or tampered value',
    );
  });

  it('refuses another key without revealing anything', () => {
    const sealed = encryptSecret(key, 'openai', 'sk-test-123');
    let error: unknown;
    try {
      decryptSecret(randomBytes(32), 'openai', sealed);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CredentialDecryptError);
    expect((error as Error).message).toBe('credential "openai" cannot be decrypted: wrong key or tampered value');
    expect((error as Error).message).not.toContain('sk-test');
  });

  it.each(['', 'v1', 'v2.a.b.c', 'v1.a.b', 'v1.a.b.c.d', 'not base64 at all'])('refuses the malformed value %j', (sealed) => {
    expect(() => decryptSecret(key, 'openai', sealed)).toThrow(/credential "openai" cannot be decrypted/);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => encryptSecret(randomBytes(16), 'openai', 'x')).toThrow('secret key must be 32 bytes, got 16');
    expect(() => decryptSecret(randomBytes(31), 'openai', 'v1.a.b.c')).toThrow('secret key must be 32 bytes, got 31');
  });
});

describe('loadSecretKey from LOOM_SECRET_KEY', () => {
  it('accepts 64 hex characters', async () => {
    expect(await loadSecretKey({ envKey: key.toString('hex'), keyFile })).toEqual({ key, source: 'env' });
    expect(await loadSecretKey({ envKey: key.toString('hex').toUpperCase(), keyFile })).toEqual({ key, source: 'env' });
  });

  it('accepts base64 and base64url, padded or not, with surrounding whitespace', async () => {
    const base64 = key.toString('base64');
    for (const envKey of [base64, base64.replace(/=$/, ''), key.toString('base64url'), ` ${base64}\n`]) {
      expect(await loadSecretKey({ envKey, keyFile })).toEqual({ key, source: 'env' });
    }
  });

  it.each([
    ['too short hex', 'abcd', /LOOM_SECRET_KEY is invalid: it has 4 hex characters/],
    ['62 hex characters', key.toString('hex').slice(2), /it has 62 hex characters/],
    ['16 bytes of base64', randomBytes(16).toString('base64'), /neither 64 hex characters nor 32 bytes of base64/],
    ['48 bytes of base64', randomBytes(48).toString('base64'), /neither 64 hex characters nor 32 bytes of base64/],
    ['a passphrase', 'correct horse battery staple', /neither 64 hex characters nor 32 bytes of base64/],
    // Same length as a valid key, but its last character sets bits base64 leaves unused.
    ['non-canonical base64', key.toString('base64').replace(/.=$/, 'B='), /LOOM_SECRET_KEY is not valid base64/],
  ])('refuses %s, saying the expected format without echoing the value', async (_, envKey, message) => {
    const error = await loadSecretKey({ envKey, keyFile }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretKeyError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/64 hex characters or as base64/);
    expect((error as Error).message).not.toContain(envKey);
  });
});
