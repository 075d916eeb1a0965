import type { SandboxDriver, SandboxLimits } from '@loom/engine';
import { BwrapDriver, bwrapAvailable } from './bwrap.js';
import { GvisorDriver, gvisorAvailable } from './gvisor.js';
import { NoSandboxDriver } from './none.js';
import { WarmSandboxPool } from './warm-pool.js';

export type SandboxChoice = 'auto' | 'gvisor' | 'bwrap' | 'none';

export interface SandboxSelection {
  driver: SandboxDriver;
  /** Why stronger drivers were not used (empty when the strongest one was). */
  notes: string[];
}

export interface SelectSandboxOptions {
  /** `auto` (the default): gvisor, else bwrap, else none. A named driver that cannot run here is an error. */
  choice?: SandboxChoice;
  /** gVisor's state directory (runsc `--root`, bundles, the shared root). */
  stateDir?: string;
  limits?: Partial<SandboxLimits>;
}

/**
 * The strongest sandbox this machine offers. Never the server's own process: with no
 * sandbox the `none` driver refuses code with an error that says what to install.
 */
export function selectSandboxDriver(options: SelectSandboxOptions = {}): SandboxSelection {
  const choice = options.choice ?? 'auto';
  const notes: string[] = [];
  const gvisor = gvisorAvailable();
  const bwrap = bwrapAvailable();
  const limits = options.limits ? { limits: options.limits } : {};
  if (choice === 'gvisor' || (choice === 'auto' && gvisor.ok)) {
    if (!gvisor.ok) throw new Error(`LOOM_SANDBOX=gvisor, but gVisor cannot run here: ${gvisor.reason}`);
    return { driver: new GvisorDriver({ ...limits, ...(options.stateDir ? { stateDir: options.stateDir } : {}) }), notes };
  }
  if (choice === 'auto') notes.push(`gvisor: ${gvisor.reason}`);
  if (choice === 'bwrap' || (choice === 'auto' && bwrap.ok)) {
    if (!bwrap.ok) throw new Error(`LOOM_SANDBOX=bwrap, but bubblewrap cannot run here: ${bwrap.reason}`);
    return { driver: new BwrapDriver(limits), notes };
  }
  if (choice === 'auto') notes.push(`bwrap: ${bwrap.reason}`);
  return { driver: new NoSandboxDriver(notes.length ? notes.join('; ') : 'LOOM_SANDBOX=none'), notes };
}

/**
 * The server's sandbox from its configuration: the strongest driver (or the one named),
 * behind a warm pool unless `warm` is 0.
 */
export function createSandbox(config: { choice: SandboxChoice; warm: number; stateDir?: string } = { choice: 'auto', warm: 2 }): SandboxSelection {
  const selection = selectSandboxDriver({ choice: config.choice, ...(config.stateDir ? { stateDir: config.stateDir } : {}) });
  const { driver } = selection;
  if (config.warm > 0 && (driver instanceof GvisorDriver || driver instanceof BwrapDriver)) {
    return { driver: new WarmSandboxPool(driver, { size: config.warm }), notes: selection.notes };
  }
  return selection;
}
