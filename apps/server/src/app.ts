// Placeholder HTTP app: node:http only. Express, tRPC, socket.io and the web app arrive in
// their own issues; until then this serves a health check and a page listing the examples.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface AppOptions {
  /** Folder holding the example flows (`*.json`); it may not exist. */
  examplesDir: string;
}

export interface Example {
  file: string;
  /** Input of the example's first golden case (`<name>.golden.json`), when it has one. */
  input?: unknown;
}

/** The example flows (`examples/*.json`, not their `.golden.json` inputs), or null when the folder does not exist. */
export async function listExamples(dir: string): Promise<Example[] | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
  const flows = names.filter((name) => name.endsWith('.json') && !name.endsWith('.golden.json')).sort();
  return Promise.all(
    flows.map(async (file) => {
      const golden = file.replace(/\.json$/, '.golden.json');
      if (!names.includes(golden)) return { file };
      try {
        const cases = JSON.parse(await readFile(join(dir, golden), 'utf8')) as { input?: unknown }[];
        return cases[0]?.input === undefined ? { file } : { file, input: cases[0].input };
      } catch {
        return { file };
      }
    }),
  );
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function homePage(examples: Example[] | null): string {
  let list: string;
  if (examples === null) {
    list = '<p>There is no <code>examples/</code> folder yet.</p>';
  } else if (examples.length === 0) {
    list = '<p>The <code>examples/</code> folder has no flows (<code>*.json</code>) yet.</p>';
  } else {
    const items = examples
      .map(({ file, input }) => {
        const command = `pnpm flow run examples/${file}${input === undefined ? '' : ` --input '${JSON.stringify(input)}'`}`;
        return `<li><code>${escapeHtml(file)}</code>: <code>${escapeHtml(command)}</code></li>`;
      })
      .join('\n      ');
    list = `<p>Example flows in <code>examples/</code>, each with the CLI command that runs it:</p>
    <ul>
      ${items}
    </ul>`;
  }
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Loom</title>
    <style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }</style>
  </head>
  <body>
    <h1>Loom</h1>
    <p>This is a placeholder. The server (HTTP API, live run updates, persistence) and the web app
    (the visual flow builder) arrive in their own issues. Flows can already be run from the command line.</p>
    ${list}
    <p>Health check: <a href="/healthz"><code>/healthz</code></a></p>
  </body>
</html>
`;
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>) =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), headers);

type Route = (res: ServerResponse, options: AppOptions) => Promise<void> | void;

const ROUTES: Record<string, Route> = {
  '/healthz': (res) => sendJson(res, 200, { ok: true }),
  '/': async (res, { examplesDir }) => send(res, 200, 'text/html; charset=utf-8', homePage(await listExamples(examplesDir))),
};

async function handle(req: IncomingMessage, res: ServerResponse, options: AppOptions): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  const route = Object.hasOwn(ROUTES, pathname) ? ROUTES[pathname] : undefined;
  if (!route) return sendJson(res, 404, { error: 'not_found', path: pathname });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
  }
  await route(res, options);
}

/** The HTTP server (not yet listening). */
export function createApp(options: AppOptions): Server {
  return createServer((req, res) => {
    handle(req, res, options).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' });
      else res.destroy();
    });
  });
}
