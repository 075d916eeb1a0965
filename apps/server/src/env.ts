import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './paths.js';

export { REPO_ROOT };

/** Unset and empty variables both mean "use the default". */
const emptyAsUnset = (value: unknown) => (value === '' ? undefined : value);
const optionalString = z.preprocess(emptyAsUnset, z.string().optional());
const int = (fallback: number, min: number, max: number) => z.preprocess(emptyAsUnset, z.coerce.number().int().min(min).max(max).default(fallback));

const EnvSchema = z.object({
  PORT: int(3000, 0, 65535),
  /** Interface to listen on. Anything but loopback needs LOOM_ADMIN_TOKEN. */
  HOST: z.preprocess(emptyAsUnset, z.string().default('127.0.0.1')),
  /** SQLite file (`file:` prefix allowed); relative to the repository root. */
  DATABASE_URL: z.preprocess(emptyAsUnset, z.string().default('data/loom.db')),
  LOOM_ADMIN_TOKEN: optionalString,
  /** 32-byte key (base64 or hex) for credentials; else a generated key file next to the database. */
  LOOM_SECRET_KEY: optionalString,
  LOOM_SECRET_KEY_FILE: optionalString,
  /** Extra origins allowed to call the API and sockets (comma-separated), e.g. a Vite dev server. */
  LOOM_ALLOWED_ORIGINS: z.preprocess(emptyAsUnset, z.string().default('')),
  LOOM_MAX_CONCURRENT_RUNS: int(100, 1, 100_000),
  /** Events of runs finished longer ago than this are removed (the run row stays). 0 keeps them forever. */
  LOOM_RETENTION_DAYS: int(30, 0, 36_500),
  /** Folder of the built web app; the server serves it when it exists. */
  LOOM_WEB_DIST: z.preprocess(emptyAsUnset, z.string().default('apps/web/dist')),
  /** Base URLs of the standard LLM providers (keys are credentials `openai` / `anthropic`). */
  LOOM_OPENAI_BASE_URL: optionalString,
  LOOM_ANTHROPIC_BASE_URL: optionalString,
  LOOM_OLLAMA_BASE_URL: optionalString,
  /** `/mcp` (flows as MCP tools): calls running at once, time limit per call, largest request, served flows (comma-separated ids; empty: all). */
  LOOM_MCP_MAX_CONCURRENT: int(8, 1, 10_000),
  LOOM_MCP_TIMEOUT_MS: int(300_000, 1, 86_400_000),
  LOOM_MCP_MAX_BODY_BYTES: int(1_000_000, 1_024, 100_000_000),
  LOOM_MCP_FLOWS: z.preprocess(emptyAsUnset, z.string().default('')),
  /** A connection to a registered MCP server unused this long is closed. */
  LOOM_MCP_IDLE_MS: int(60_000, 100, 86_400_000),
  /** Where code skills run: `auto` picks the strongest available (gvisor, else bwrap, else none, which refuses code). */
  LOOM_SANDBOX: z.preprocess(emptyAsUnset, z.enum(['auto', 'gvisor', 'bwrap', 'none']).default('auto')),
  /** Sandboxes kept started per code runtime, to hide the cold start (0 turns it off). */
  LOOM_SANDBOX_WARM: int(2, 0, 16),
  /** gVisor's state: runsc --root, the shared root file system, one bundle per sandbox. */
  LOOM_SANDBOX_DIR: optionalString,
  LOG_LEVEL: z.preprocess(emptyAsUnset, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
});

export type Env = z.infer<typeof EnvSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  databaseFile: string;
  adminToken?: string;
  secretKey?: string;
  secretKeyFile: string;
  allowedOrigins: string[];
  maxConcurrentRuns: number;
  retentionDays: number;
  webDist: string;
  logLevel: Env['LOG_LEVEL'];
  providers: { openaiBaseUrl?: string; anthropicBaseUrl?: string; ollamaBaseUrl?: string };
  mcp: { maxConcurrent: number; timeoutMs: number; maxBodyBytes: number; allowFlows: string[]; idleMs: number };
  /** Absent: `auto`, 2 warm, the default state directory. */
  sandbox?: { choice: 'auto' | 'gvisor' | 'bwrap' | 'none'; warm: number; stateDir?: string };
}

export class EnvError extends Error {
  override name = 'EnvError';
}

/** Validates the server's environment variables. Pure: throws EnvError when invalid. */
export function parseEnv(source: Record<string, string | undefined>): ServerConfig {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    throw new EnvError(`Invalid environment:\n${z.prettifyError(result.error)}`);
  }
  const env = result.data;
  const fromRoot = (path: string) => (path === ':memory:' || isAbsolute(path) ? path : resolve(REPO_ROOT, path));
  const databaseFile = fromRoot(env.DATABASE_URL.replace(/^file:/, ''));
  return {
    port: env.PORT,
    host: env.HOST,
    databaseFile,
    ...(env.LOOM_ADMIN_TOKEN !== undefined ? { adminToken: env.LOOM_ADMIN_TOKEN } : {}),
    ...(env.LOOM_SECRET_KEY !== undefined ? { secretKey: env.LOOM_SECRET_KEY } : {}),
    secretKeyFile: env.LOOM_SECRET_KEY_FILE !== undefined ? fromRoot(env.LOOM_SECRET_KEY_FILE) : resolve(databaseFile === ':memory:' ? resolve(REPO_ROOT, 'data') : dirname(databaseFile), 'secret.key'),
    allowedOrigins: env.LOOM_ALLOWED_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
    maxConcurrentRuns: env.LOOM_MAX_CONCURRENT_RUNS,
    retentionDays: env.LOOM_RETENTION_DAYS,
    webDist: fromRoot(env.LOOM_WEB_DIST),
    logLevel: env.LOG_LEVEL,
    mcp: {
      maxConcurrent: env.LOOM_MCP_MAX_CONCURRENT,
      timeoutMs: env.LOOM_MCP_TIMEOUT_MS,
      maxBodyBytes: env.LOOM_MCP_MAX_BODY_BYTES,
      allowFlows: env.LOOM_MCP_FLOWS.split(',').map((id) => id.trim()).filter(Boolean),
      idleMs: env.LOOM_MCP_IDLE_MS,
    },
    sandbox: { choice: env.LOOM_SANDBOX, warm: env.LOOM_SANDBOX_WARM, ...(env.LOOM_SANDBOX_DIR ? { stateDir: fromRoot(env.LOOM_SANDBOX_DIR) } : {}) },
    providers: {
      ...(env.LOOM_OPENAI_BASE_URL ? { openaiBaseUrl: env.LOOM_OPENAI_BASE_URL } : {}),
      ...(env.LOOM_ANTHROPIC_BASE_URL ? { anthropicBaseUrl: env.LOOM_ANTHROPIC_BASE_URL } : {}),
      ...(env.LOOM_OLLAMA_BASE_URL ? { ollamaBaseUrl: env.LOOM_OLLAMA_BASE_URL } : {}),
    },
  };
}
