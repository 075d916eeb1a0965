import { existsSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import express, { type RequestHandler } from 'express';
import { pino, type Logger } from 'pino';
import { Server as SocketServer } from 'socket.io';
import { systemClock, type Clock, type HttpClient, type LlmProvider } from '@loom/engine';
import { FLOW_LIMITS } from '@loom/shared';
import { loadSecretKey } from './credentials/crypto.js';
import { startCheckpointer, type Checkpointer } from './db/checkpointer.js';
import { openDatabase, type Db } from './db/open.js';
import { REPO_ROOT, type ServerConfig } from './env.js';
import { LiveHub, type ClientToServer, type ServerToClient } from './live/hub.js';
import { ServerMetrics } from './ops/metrics.js';
import { pruneRunEvents } from './ops/retention.js';
import { appRouter } from './router.js';
import { createTrpcHttpHandler } from './trpc-http.js';
import { checkListenPolicy, createAuth, createOriginPolicy, loginRoutes, normaliseOrigin, securityMiddleware, socketAllowRequest, socketAuthMiddleware } from './security/index.js';
import { createServices, type Services } from './services.js';
import { fallbackPage } from './web/fallback.js';
import { savedFlowTools } from './mcp/flow-tools.js';
import { mcpEndpoint } from './mcp/http-endpoint.js';
import type { StdioLauncher } from './mcp/registry.js';
import type { SandboxDriver } from '@loom/engine';
import { createSandbox, WarmSandboxPool } from './sandbox/index.js';
import { SandboxStdioLauncher } from './mcp/stdio.js';

export interface LoomServerOptions {
  config: ServerConfig;
  /** Injected for tests; the system clock, local provider and fetch otherwise. */
  clock?: Clock;
  llm?: ReadonlyMap<string, LlmProvider>;
  http?: HttpClient;
  templatesDir?: string;
  logger?: Logger;
  /** Runs stdio MCP servers in a sandbox; absent, registering one is refused. */
  mcpStdio?: StdioLauncher;
  /** Where code skills run; by default the strongest driver this machine offers (`config.sandbox`). */
  sandbox?: SandboxDriver;
}

export interface LoomServer {
  http: HttpServer;
  io: SocketServer<ClientToServer, ServerToClient>;
  services: Services;
  metrics: ServerMetrics;
  db: Db;
  logger: Logger;
  /** Listens on the configured host and port; resolves with the base URL. */
  listen(): Promise<string>;
  /** Ends unfinished runs as interrupted, closes sockets, the HTTP server and the database. */
  close(): Promise<void>;
}

/** Refusals at start-up that the person starting the server must fix (bad host policy, key file). */
export class StartupError extends Error {
  override name = 'StartupError';
}

const HOUR_MS = 3_600_000;

/**
 * Builds the server: one port for the web app, the tRPC API (`/trpc`), socket.io, `/healthz`
 * and `/metrics`. Opens (and migrates) the database, closes the logs of runs a previous
 * process left unfinished, and seeds the templates into an empty database.
 */
export async function createLoomServer(options: LoomServerOptions): Promise<LoomServer> {
  const { config } = options;
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'loom-server' } });
  const listenPolicy = checkListenPolicy({ host: config.host, ...(config.adminToken ? { adminToken: config.adminToken } : {}) });
  if (!listenPolicy.ok) throw new StartupError(listenPolicy.message);
  const { key, source: keySource } = await loadSecretKey({ ...(config.secretKey ? { envKey: config.secretKey } : {}), keyFile: config.secretKeyFile }).catch((error: unknown) => {
    throw new StartupError(error instanceof Error ? error.message : String(error));
  });
  logger.debug({ keySource }, 'credential key loaded');

  let sandbox: SandboxDriver;
  let sandboxNotes: string[] = [];
  if (options.sandbox) sandbox = options.sandbox;
  else {
    try {
      ({ driver: sandbox, notes: sandboxNotes } = createSandbox(config.sandbox));
    } catch (error) {
      throw new StartupError((error as Error).message);
    }
  }
  if (sandbox.isolation !== 'strong') logger.warn({ sandbox: sandbox.name, notes: sandboxNotes }, `sandbox: ${sandbox.description}`);
  else logger.debug({ sandbox: sandbox.name }, `sandbox: ${sandbox.description}`);

  // Stdio MCP servers run in the sandbox, never with the `none` driver (which refuses them),
  // and never from the warm pool, which would keep a spare copy of each server running.
  const stdioLauncher =
    options.mcpStdio ?? (sandbox.isolation === 'none' ? undefined : new SandboxStdioLauncher(sandbox instanceof WarmSandboxPool ? sandbox.unpooled : sandbox));

  const db = openDatabase(config.databaseFile);
  let services!: Services;
  const metrics = new ServerMetrics(db, () => services.runs);
  const clock = options.clock ?? systemClock;
  const hub = new LiveHub((oldestEventTs) => metrics.liveSent(clock.now() - oldestEventTs));
  services = createServices({
    db,
    clock,
    secretKey: key,
    templatesDir: options.templatesDir ?? join(REPO_ROOT, 'examples'),
    maxConcurrentRuns: config.maxConcurrentRuns,
    providers: config.providers,
    ...(options.llm ? { llm: options.llm } : {}),
    ...(options.http ? { http: options.http } : {}),
    mcp: { idleMs: config.mcp.idleMs, ...(stdioLauncher ? { stdio: stdioLauncher } : {}) },
    sandbox,
    sandboxNotes,
    publish: (runId, events) => {
      hub.publish(runId, events);
      metrics.observe(events);
    },
    runChanged: (run) => hub.runChanged(run),
    committed: (stats) => metrics.committed(stats),
    commitFailed: (error, runIds) => {
      metrics.commitFailures.inc();
      logger.error({ err: error, runIds }, 'committing run events failed: these runs are stopped');
    },
  });

  const recovered = services.runs.recoverInterrupted();
  if (recovered.length) logger.warn({ runs: recovered.map((r) => r.id) }, `${recovered.length} run(s) interrupted by the previous stop; resume them from the run view`);
  if (services.flows.count() === 0) {
    for (const template of services.templates.list()) services.flows.create(template.flow, { message: `from template ${template.name}` });
  }
  const prune = () => {
    const pruned = pruneRunEvents(db, config.retentionDays, services.now());
    if (pruned.runs) logger.info(pruned, `retention: removed the events of runs finished over ${config.retentionDays} days ago`);
  };
  prune();
  const retentionTimer = setInterval(prune, HOUR_MS).unref();

  const http = createServer();
  // WAL checkpoints move to a thread of their own a second after the server listens: booting
  // that thread costs ~100 ms of CPU that a start-up should not wait for (SQLite checkpoints
  // inside commits until then, as it always did).
  let checkpointer: Checkpointer | undefined;
  let checkpointerTimer: NodeJS.Timeout | undefined;
  if (config.databaseFile !== ':memory:') {
    http.once('listening', () => {
      checkpointerTimer = setTimeout(() => {
        checkpointer = startCheckpointer(db, config.databaseFile, { onError: (error) => logger.warn({ err: error }, 'WAL checkpoints are back on the main thread') });
      }, 1_000).unref();
    });
  }
  // Read on every request by the Host check: asked of the socket once, when listening.
  let listeningPort: number | undefined;
  http.once('listening', () => (listeningPort = (http.address() as AddressInfo).port));
  const port = () => listeningPort ?? config.port;
  const policy = createOriginPolicy({ allowedOrigins: config.allowedOrigins, loopbackOnly: listenPolicy.loopback });
  const auth = createAuth({ ...(config.adminToken ? { adminToken: config.adminToken } : {}) });

  const app = express();
  app.disable('x-powered-by');
  app.use(allowListedCors(config.allowedOrigins));
  app.use(securityMiddleware({ policy, auth, port, isPublic: isShareRequest }));
  const trpc = createTrpcHttpHandler({
    router: appRouter,
    createContext: () => ({ services }),
    // An import carries a whole flow file; nothing else comes close.
    maxBodySize: FLOW_LIMITS.maxBytes * 2 + 4096,
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path }, 'API error');
    },
  });
  // First after the checks: the API is most of the traffic, and no other route starts with /trpc.
  app.use('/trpc', (req, res) => void trpc(req, res, req.path.slice(req.path.lastIndexOf('/') + 1)));
  app.use(loginRoutes(auth));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, activeRuns: services.runs.activeRuns, queueDepth: services.runs.queueDepth });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.all('/mcp', mcpEndpoint({ catalog: savedFlowTools(services, { ...config.mcp, maxArgumentBytes: config.mcp.maxBodyBytes }), auth, maxBodyBytes: config.mcp.maxBodyBytes, logger }));
  const webDist = resolve(config.webDist);
  if (existsSync(join(webDist, 'index.html'))) {
    app.use(express.static(webDist, { index: 'index.html', maxAge: '1h', setHeaders: (res, path) => path.endsWith('index.html') && res.setHeader('cache-control', 'no-cache') }));
    // Client-side routes (/flows/…, /runs/…, /share/…) all open the app.
    app.get(/^\/(?!trpc|socket\.io|metrics|healthz|mcp$).*/, (_req, res) => res.sendFile(join(webDist, 'index.html'), { headers: { 'cache-control': 'no-cache' } }));
  } else {
    app.get('/', (_req, res) => {
      res.type('html').send(fallbackPage(services.templates.list()));
    });
  }
  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', path: req.path });
  });
  // Before any request's own work: events waiting too long for their commit go first.
  http.on('request', () => services.runs.commitIfDue());
  http.on('request', app);

  const io = new SocketServer<ClientToServer, ServerToClient>(http, {
    serveClient: false,
    maxHttpBufferSize: 1_000_000,
    allowRequest: socketAllowRequest({ policy, port }),
  });
  io.use(socketAuthMiddleware(auth));
  hub.attach(io, services.runs);

  let closed: Promise<void> | undefined;
  return {
    http,
    io,
    services,
    metrics,
    db,
    logger,
    listen: () =>
      new Promise<string>((resolveListen, reject) => {
        http.once('error', reject);
        http.listen(config.port, config.host, () => {
          http.off('error', reject);
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolveListen(`http://${host}:${port()}`);
        });
      }),
    close: () =>
      (closed ??= (async () => {
        clearInterval(retentionTimer);
        services.runs.close();
        await services.mcp.close();
        await sandbox.close?.();
        await new Promise<void>((done) => void io.close(() => done()));
        http.closeAllConnections();
        if (http.listening) await new Promise<void>((done) => http.close(() => done()));
        clearTimeout(checkpointerTimer);
        await checkpointer?.close();
        db.$client.close();
      })()),
  };
}

/**
 * A share link works without the admin token: its page, the app's static files, and the one
 * procedure that reads a shared flow (by its unguessable token). tRPC batches name every
 * procedure in the path, so a batch with anything else in it is not public.
 */
function isShareRequest(req: { method: string; path: string }): boolean {
  if (req.method !== 'GET') return false;
  return req.path.startsWith('/share/') || req.path.startsWith('/assets/') || req.path === '/trpc/flows.shared';
}

/** CORS answers for the configured extra origins only (a Vite dev server, another UI); same-origin needs none. */
function allowListedCors(allowedOrigins: string[]): RequestHandler {
  const allowed = new Set(allowedOrigins.map((origin) => normaliseOrigin(origin)).filter((o): o is string => o !== null));
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && allowed.has(normaliseOrigin(origin) ?? '')) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'origin');
      if (req.method === 'OPTIONS') {
        res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
        res.setHeader('access-control-allow-headers', 'authorization, content-type, trpc-accept, x-trpc-source');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
