import type { Template } from '../templates/catalog.js';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page at `/` when the web app has not been built (`apps/web/dist` is missing): says so,
 * and lists the templates with the CLI command that runs each, so the server still opens on
 * something true and useful.
 */
export function fallbackPage(templates: readonly Template[]): string {
  const items = templates
    .map(({ name, title, sampleInput }) => {
      const command = `pnpm flow run examples/${name}.json${sampleInput === undefined ? '' : ` --input '${JSON.stringify(sampleInput)}'`}`;
      return `<li><strong>${escapeHtml(title)}</strong> (<code>${escapeHtml(name)}</code>): <code>${escapeHtml(command)}</code></li>`;
    })
    .join('\n      ');
  const list = templates.length
    ? `<p>Template flows (also in the database, ready to run through the API):</p>
    <ul>
      ${items}
    </ul>`
    : '<p>There are no template flows (<code>examples/*.json</code>).</p>';
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Loom</title>
    <style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; } code { font-size: 0.9em; }</style>
  </head>
  <body>
    <h1>Loom</h1>
    <p>The server is running. The web app is not built yet (<code>apps/web/dist</code> is missing); the API is at <code>/trpc</code>, live run events on socket.io, health at <a href="/healthz"><code>/healthz</code></a>, metrics at <a href="/metrics"><code>/metrics</code></a>.</p>
    ${list}
  </body>
</html>
`;
}
