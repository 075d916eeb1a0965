// Sandbox drivers: where untrusted code (code skills, stdio MCP servers) runs. See driver.ts in the engine for the interface.
export { GvisorDriver, gvisorAvailable, type GvisorOptions } from './gvisor.js';
export { BwrapDriver, bwrapAvailable, type BwrapOptions } from './bwrap.js';
export { NoSandboxDriver } from './none.js';
export { WarmSandboxPool, type WarmPoolOptions } from './warm-pool.js';
export { createSandbox, selectSandboxDriver, type SandboxChoice, type SandboxSelection, type SelectSandboxOptions } from './select.js';
