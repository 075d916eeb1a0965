// The key file: generation, reuse, permissions and racing writers. Skipped on Windows, which
// has no POSIX permission bits.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSecretKey, SecretKeyError } from './crypto.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loom-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(process.platform === 'win32')('loadSecretKey with a key file', () => {
  it('generates a 32-byte key with mode 0600 in a new folder, then reuses it', async () => {
    const keyFile = join(dir, 'nested', 'data', 'secret.key');
    const first = await loadSecretKey({ keyFile });
    expect(first.source).toBe('generated');
    expect(first.key).toHaveLength(32);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(keyFile)).toEqual(first.key);
    // No temporary files are left beside it.
    expect(await readdir(join(dir, 'nested', 'data'))).toEqual(['secret.key']);

    const second = await loadSecretKey({ keyFile });
    expect(second).toEqual({ key: first.key, source: 'file' });
  });

  it('treats an empty LOOM_SECRET_KEY as unset', async () => {
    const keyFile = join(dir, 'secret.key');
    expect((await loadSecretKey({ envKey: '', keyFile })).source).toBe('generated');
    expect((await loadSecretKey({ envKey: '  ', keyFile })).source).toBe('file');
  });

  it('prefers LOOM_SECRET_KEY and leaves the key file alone', async () => {
    const keyFile = join(dir, 'secret.key');
    const key = randomBytes(32);
    expect(await loadSecretKey({ envKey: key.toString('hex'), keyFile })).toEqual({ key, source: 'env' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a key file other users can read, telling how to fix it', async () => {
    const keyFile = join(dir, 'secret.key');
    await writeFile(keyFile, randomBytes(32), { mode: 0o600 });
    await chmod(keyFile, 0o644);
    const error = await loadSecretKey({ keyFile }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretKeyError);
    expect((error as Error).message).toContain(`mode 644`);
    expect((error as Error).message).toContain(`chmod 600 ${keyFile}`);

    await chmod(keyFile, 0o640);
    await expect(loadSecretKey({ keyFile })).rejects.toThrow(`chmod 600 ${keyFile}`);
    await chmod(keyFile, 0o400);
    expect((await loadSecretKey({ keyFile })).source).toBe('file');
  });

  it('refuses a key file of the wrong length', async () => {
    const keyFile = join(dir, 'secret.key');
    await writeFile(keyFile, randomBytes(31), { mode: 0o600 });
    await expect(loadSecretKey({ keyFile })).rejects.toThrow(
      `The secret key file ${keyFile} holds 31 bytes; it must hold exactly 32 raw bytes.`,
    );
    await writeFile(keyFile, '');
    await expect(loadSecretKey({ keyFile })).rejects.toThrow('holds 0 bytes');
  });

  it('refuses a folder where the key file should be', async () => {
    await expect(loadSecretKey({ keyFile: dir })).rejects.toThrow(`The secret key file ${dir} is not a regular file.`);
  });

  it('gives every racing caller the one key that was written', async () => {
    const keyFile = join(dir, 'secret.key');
    const results = await Promise.all(Array.from({ length: 8 }, () => loadSecretKey({ keyFile })));
    const stored = await readFile(keyFile);
    for (const { key } of results) expect(key).toEqual(stored);
    expect(results.filter(({ source }) => source === 'generated')).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['secret.key']);
  });
});
