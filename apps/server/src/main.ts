// `npm start` / `pnpm --filter @loom/server start`: the server on HOST:PORT (127.0.0.1:3000).
import { createLoomServer, StartupError } from './app.js';
import { EnvError, parseEnv } from './env.js';

async function main(): Promise<void> {
  const config = parseEnv(process.env);
  const server = await createLoomServer({ config });
  let url: string;
  try {
    url = await server.listen();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StartupError(code === 'EADDRINUSE' ? `port ${config.port} on ${config.host} is already in use (set PORT to use another)` : String(error));
  }
  server.logger.info({ url, database: config.databaseFile }, `Loom is running at ${url}`);
  // Also on stdout in plain words: the first thing a person starting it looks for.
  if (process.stdout.isTTY) console.log(`\n  Loom is running at ${url}\n`);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    server.logger.info(`${signal}: stopping; unfinished runs are kept as interrupted and can be resumed`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof EnvError || error instanceof StartupError) {
    console.error(`Loom cannot start: ${error.message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
