// Encryption of stored credentials (API keys for LLM providers and the like) with one server-wide
// secret key: AES-256-GCM, the credential's name bound in as additional authenticated data.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { link, mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export const SECRET_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_VERSION = 'v1';
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
// 32 bytes are 43 base64 characters plus one '=' of padding; both alphabets are accepted.
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/** The bytes of an unpadded base64url string, or null unless it is exactly what an encoder would produce. */
function fromCanonicalBase64url(text: string): Buffer | null {
  // Unused trailing bits must be zero too, so that every changed character is a changed value.
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/** The secret key could not be loaded or created; the message says what to fix. */
export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

/** A sealed credential could not be opened. The message names the credential, never its value. */
export class CredentialDecryptError extends Error {
  override name = 'CredentialDecryptError';
  constructor(
    readonly credentialName: string,
    reason = 'wrong key or tampered value',
  ) {
    super(`credential "${credentialName}" cannot be decrypted: ${reason}`);
  }
}

export interface LoadSecretKeyOptions {
  /** The value of LOOM_SECRET_KEY; unset or empty means "use the key file". */
  envKey?: string;
  /** Where the key lives (raw 32 bytes); created with mode 0600 when missing. */
  keyFile: string;
}

export interface LoadedSecretKey {
  key: Buffer;
  source: 'env' | 'file' | 'generated';
}

/**
 * The server's secret key: from LOOM_SECRET_KEY when set, else from the key file, else a new
 * random key written to the key file. Errors never contain the key material.
 */
export async function loadSecretKey(options: LoadSecretKeyOptions): Promise<LoadedSecretKey> {
  const envKey = options.envKey?.trim();
  if (envKey) return { key: parseEnvKey(envKey), source: 'env' };
  const existing = await readKeyFile(options.keyFile);
  if (existing) return { key: existing, source: 'file' };
  return generateKeyFile(options.keyFile);
}

function parseEnvKey(value: string): Buffer {
  const expected =
    `LOOM_SECRET_KEY must be ${SECRET_KEY_BYTES} bytes written as 64 hex characters or as base64 ` +
    `(44 characters with '=' padding), e.g. the output of \`openssl rand -base64 32\``;
  if (HEX_KEY.test(value)) return Buffer.from(value, 'hex');
  if (BASE64_KEY.test(value)) {
    const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    // The last character carries 2 unused bits; a value that does not re-encode to itself was
    // not produced by a base64 encoder (most likely a typo), so it is refused rather than guessed at.
    const canonical = key.toString('base64').replace(/=+$/, '');
    const given = value.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    if (key.length === SECRET_KEY_BYTES && canonical === given) return key;
    throw new SecretKeyError(`LOOM_SECRET_KEY is not valid base64. ${expected}.`);
  }
  const looksHex = /^[0-9a-fA-F]+$/.test(value);
  const what = looksHex
    ? `it has ${value.length} hex characters`
    : `it has ${value.length} characters and is neither 64 hex characters nor ${SECRET_KEY_BYTES} bytes of base64`;
  throw new SecretKeyError(`LOOM_SECRET_KEY is invalid: ${what}. ${expected}.`);
}

/** The key in `path`, or null when the file does not exist. */
async function readKeyFile(path: string): Promise<Buffer | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SecretKeyError(`Cannot open the secret key file ${path}: ${(error as Error).message}`);
  }
  try {
    // fstat on the open handle, so the mode checked is that of the file actually read.
    const stats = await handle.stat();
    if (!stats.isFile()) throw new SecretKeyError(`The secret key file ${path} is not a regular file.`);
    // Windows has no POSIX permission bits; there the mode says nothing about who can read it.
    if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
      const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
      throw new SecretKeyError(
        `The secret key file ${path} is readable by other users (mode ${mode}). ` +
          `Run \`chmod 600 ${path}\` and start again.`,
      );
    }
    const key = await handle.readFile();
    if (key.length !== SECRET_KEY_BYTES) {
      throw new SecretKeyError(
        `The secret key file ${path} holds ${key.length} bytes; it must hold exactly ${SECRET_KEY_BYTES} raw bytes. ` +
          `Restore the original file (credentials encrypted with it cannot be read without it), ` +
          `or delete it to have a new key generated.`,
      );
    }
    return key;
  } finally {
    await handle.close();
  }
}

async function generateKeyFile(path: string): Promise<LoadedSecretKey> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new SecretKeyError(`Cannot create the folder for the secret key file ${path}: ${(error as Error).message}`);
  }
  const key = randomBytes(SECRET_KEY_BYTES);
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(key);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // link() publishes the complete file under its final name and, unlike rename(), fails with
    // EEXIST instead of replacing a key another process published in the meantime.
    try {
      await link(temp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const winner = await readKeyFile(path);
      if (!winner) throw new SecretKeyError(`The secret key file ${path} disappeared while it was being created.`);
      return { key: winner, source: 'file' };
    }
    return { key, source: 'generated' };
  } catch (error) {
    if (error instanceof SecretKeyError) throw error;
    throw new SecretKeyError(`Cannot write the secret key file ${path}: ${(error as Error).message}`);
  } finally {
    await unlink(temp).catch(() => {});
  }
}

function assertKey(key: Buffer): void {
  if (key.length !== SECRET_KEY_BYTES) {
    throw new TypeError(`secret key must be ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
  }
}

// Binding the name means a sealed value copied onto another credential does not decrypt.
const aad = (name: string) => Buffer.from(`loom-credential:${SEALED_VERSION}:${name}`, 'utf8');

/** Seals `plaintext` as `v1.<iv>.<tag>.<ciphertext>` (base64url parts). */
export function encryptSecret(key: Buffer, name: string, plaintext: string): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(name));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [SEALED_VERSION, iv, tag, ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** Opens a value sealed by encryptSecret under the same key and name; throws CredentialDecryptError otherwise. */
export function decryptSecret(key: Buffer, name: string, sealed: string): string {
  assertKey(key);
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== SEALED_VERSION) {
    throw new CredentialDecryptError(name, `stored value is not in the ${SEALED_VERSION}.<iv>.<tag>.<ciphertext> format`);
  }
  const [iv, tag, ciphertext] = parts.slice(1).map(fromCanonicalBase64url);
  if (!iv || !tag || !ciphertext || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new CredentialDecryptError(name);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(name));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    return plaintext.toString('utf8');
  } catch {
    // OpenSSL's message ("Unsupported state or unable to authenticate data") adds nothing useful.
    throw new CredentialDecryptError(name);
  }
}
