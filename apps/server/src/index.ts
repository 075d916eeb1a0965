// The server's public surface: the API type for the web client, and the server factory for tools and tests.
export type { AppRouter } from './router.js';
export type { ClientToServer, ServerToClient, JoinAck } from './live/hub.js';
export type { RunRecord } from './runs/run-store.js';
export type { FlowRecord, FlowSummary, FlowVersionSummary } from './flows/store.js';
export { createLoomServer, StartupError, type LoomServer, type LoomServerOptions } from './app.js';
export { parseEnv, type ServerConfig } from './env.js';
export { createSandbox, WarmSandboxPool, selectSandboxDriver, GvisorDriver, BwrapDriver, NoSandboxDriver, gvisorAvailable, bwrapAvailable, type SandboxChoice, type SandboxSelection } from './sandbox/index.js';
