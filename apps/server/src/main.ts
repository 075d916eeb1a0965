// `npm start` / `pnpm --filter @loom/server start`: the placeholder server on 127.0.0.1:PORT.
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.js';
import { env } from './env.js';

const HOST = '127.0.0.1';
const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));

const server = createApp({ examplesDir });

server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE' ? `Port ${env.PORT} on ${HOST} is already in use (set PORT to use another).` : error,
  );
  process.exit(1);
});

server.listen(env.PORT, HOST, () => {
  const { port } = server.address() as AddressInfo;
  console.log(`Loom server listening on http://${HOST}:${port}`);
});

let stopping = false;
function shutdown(signal: NodeJS.Signals) {
  if (stopping) {
    console.log(`${signal} again: exiting now`);
    process.exit(1);
  }
  stopping = true;
  console.log(`${signal}: shutting down`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  // Requests still in flight get a few seconds to finish.
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 5_000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
