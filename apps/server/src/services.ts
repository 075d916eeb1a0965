import { randomUUID } from 'node:crypto';
import { createStandardProviders, credentialEnvName, envCredentials, fetchHttpClient, LOCAL_PROVIDER_NOTICE, type Clock, type HttpClient, type LlmProvider, type StandardProviderOptions } from '@loom/engine';
import { parseFlow, type FlowIssue } from '@loom/shared';
import type { SandboxDriver } from '@loom/engine';
import { CredentialStore } from './credentials/store.js';
import type { Db } from './db/open.js';
import { FlowStore, runProblems } from './flows/store.js';
import { McpRegistry, type StdioLauncher } from './mcp/registry.js';
import { RunService, type RunServiceOptions } from './runs/run-service.js';
import { RunStore } from './runs/run-store.js';
import { ShareService } from './sharing/shares.js';
import { TemplateCatalog } from './templates/catalog.js';

export interface ServicesOptions extends Pick<RunServiceOptions, 'publish' | 'runChanged' | 'committed' | 'commitFailed' | 'maxConcurrentRuns'> {
  db: Db;
  clock: Clock;
  secretKey: Buffer;
  templatesDir: string;
  llm?: ReadonlyMap<string, LlmProvider>;
  /** Base URLs for the standard providers, when `llm` is not given. */
  providers?: StandardProviderOptions;
  http?: HttpClient;
  newId?: () => string;
  /** MCP connections: idle close, call limits, and the sandbox stdio servers run in. */
  mcp?: { idleMs?: number; callTimeoutMs?: number; stdio?: StdioLauncher };
  /** Where code skills run; without it they fail with `sandbox_unavailable`. */
  sandbox?: SandboxDriver;
  /** Why stronger sandboxes were not available, for `system.info`. */
  sandboxNotes?: string[];
}

export interface Services {
  flows: FlowStore;
  runs: RunService;
  runStore: RunStore;
  credentials: CredentialStore;
  shares: ShareService;
  templates: TemplateCatalog;
  mcp: McpRegistry;
  now(): number;
  validate(definition: unknown): { ok: boolean; issues: FlowIssue[]; problems: FlowIssue[] };
  info(): { version: string; providers: { name: string; notice?: string }[]; maxConcurrentRuns: number; sandbox: SandboxInfo };
}

export const SERVER_VERSION = '0.1.0';

/** What `system.info` says about where code runs: users see when it is weaker than gVisor. */
export interface SandboxInfo {
  driver: string;
  isolation: 'strong' | 'weak' | 'none';
  description: string;
  notes: string[];
}

/** The server's services over one database. Transport-free: tRPC procedures and tests call them. */
export function createServices(options: ServicesOptions): Services {
  const now = () => options.clock.now();
  const flows = new FlowStore(options.db, now);
  const runStore = new RunStore(options.db);
  const llm = options.llm ?? createStandardProviders(options.providers);
  // The credential store first; then LOOM_CREDENTIAL_<NAME> from the server's environment.
  const fromEnv = envCredentials(process.env);
  const credentials = new CredentialStore(options.db, options.secretKey, now);
  const mcp = new McpRegistry({
    db: options.db,
    now,
    credential: async (name) => {
      if (credentials.has(name)) return credentials.reveal(name);
      throw new Error(`credential "${name}" is not set: add it to the server's credentials`);
    },
    ...options.mcp,
  });
  const runs = new RunService({
    flows,
    store: runStore,
    clock: options.clock,
    newId: options.newId ?? (() => randomUUID()),
    llm,
    http: options.http ?? fetchHttpClient,
    // Read when a node needs it, so a credential set while a flow is open is used by its next run.
    credentials: {
      get: async (name, signal) => {
        if (credentials.has(name)) return credentials.reveal(name);
        return fromEnv.get(name, signal).catch(() => {
          throw new Error(`credential "${name}" is not set: add it to the server's credentials (or set ${credentialEnvName(name)} where the server runs)`);
        });
      },
    },
    mcp: mcp.toolSource(),
    maxConcurrentRuns: options.maxConcurrentRuns,
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    publish: options.publish,
    ...(options.runChanged ? { runChanged: options.runChanged } : {}),
    ...(options.committed ? { committed: options.committed } : {}),
    ...(options.commitFailed ? { commitFailed: options.commitFailed } : {}),
  });
  return {
    flows,
    runs,
    runStore,
    credentials,
    shares: new ShareService(options.db, flows, now),
    templates: new TemplateCatalog(options.templatesDir),
    mcp,
    now,
    validate(definition) {
      const parsed = parseFlow(definition, { allowUnconnected: true });
      if (!parsed.ok) return { ok: false, issues: parsed.issues, problems: [] };
      const problems = runProblems(parsed.flow);
      return { ok: problems.length === 0, issues: [], problems };
    },
    info: () => ({
      version: SERVER_VERSION,
      providers: [...llm.keys()].map((name) => (name === 'local' ? { name, notice: LOCAL_PROVIDER_NOTICE } : { name })),
      maxConcurrentRuns: options.maxConcurrentRuns,
      sandbox: options.sandbox
        ? { driver: options.sandbox.name, isolation: options.sandbox.isolation, description: options.sandbox.description, notes: options.sandboxNotes ?? [] }
        : { driver: 'none', isolation: 'none', description: 'no sandbox: code skills are refused', notes: options.sandboxNotes ?? [] },
    }),
  };
}
