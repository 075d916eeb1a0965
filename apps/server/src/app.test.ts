import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { EnvError, parseEnv } from './env.js';

let server: Server | undefined;
let dir: string | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function start(examplesDir: string): Promise<string> {
  server = createApp({ examplesDir });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('placeholder server', () => {
  it('answers /healthz with {ok:true}', async () => {
    const base = await start('/nonexistent');
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('lists examples/*.json with the CLI command, escaped', async () => {
    dir = await mkdtemp(join(tmpdir(), 'loom-examples-'));
    await writeFile(join(dir, 'b.json'), '{}');
    await writeFile(join(dir, 'a<x>.json'), '{}');
    await writeFile(join(dir, 'notes.md'), '');
    const html = await (await fetch(`${await start(dir)}/`)).text();
    expect(html).toContain('pnpm flow run examples/b.json');
    expect(html).toContain('a&#60;x&#62;.json');
    expect(html).not.toContain('notes.md');
    expect(html.indexOf('a&#60;x')).toBeLessThan(html.indexOf('b.json'));
  });

  it('gives each example the input of its first golden case, and does not list the golden files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'loom-examples-'));
    await writeFile(join(dir, 'hello.json'), '{}');
    await writeFile(join(dir, 'hello.golden.json'), JSON.stringify([{ name: 'hello', input: { name: 'Ada' } }]));
    const html = await (await fetch(`${await start(dir)}/`)).text();
    expect(html).toContain('pnpm flow run examples/hello.json --input &#39;{&#34;name&#34;:&#34;Ada&#34;}&#39;');
    expect(html).not.toContain('<code>hello.golden.json</code>');
  });

  it('says so when there is no examples folder', async () => {
    const html = await (await fetch(`${await start('/nonexistent/examples')}/`)).text();
    expect(html).toContain('no <code>examples/</code> folder yet');
  });

  it('answers unknown paths with 404 JSON and other methods with 405', async () => {
    const base = await start('/nonexistent');
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not_found', path: '/nope' });
    const post = await fetch(`${base}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('parseEnv', () => {
  it('defaults PORT to 3000 (also when empty) and validates it', () => {
    expect(parseEnv({})).toEqual({ PORT: 3000 });
    expect(parseEnv({ PORT: '' })).toEqual({ PORT: 3000 });
    expect(parseEnv({ PORT: '8080' })).toEqual({ PORT: 8080 });
    expect(() => parseEnv({ PORT: 'abc' })).toThrow(EnvError);
    expect(() => parseEnv({ PORT: '70000' })).toThrow(/PORT/);
  });
});
