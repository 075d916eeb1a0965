import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxDriver } from '@loom/engine';
import { BwrapDriver, bwrapAvailable } from './bwrap.js';
import { GvisorDriver, gvisorAvailable } from './gvisor.js';

export interface TestDriver {
  name: 'gvisor' | 'bwrap';
  /** Set when the driver cannot run here: tests print it and skip. */
  skip?: string;
  make(): SandboxDriver;
}

/** The drivers integration tests run against, each with a reason to skip when it cannot run on this machine. */
export function testDrivers(): TestDriver[] {
  const gvisor = gvisorAvailable();
  const bwrap = bwrapAvailable();
  const drivers: TestDriver[] = [
    {
      name: 'gvisor',
      make: () => {
        const driver = new GvisorDriver({ stateDir: mkdtempSync(join(tmpdir(), 'loom-gvisor-test-')) });
        // The state directory is the test's: it goes with the driver (each sandbox's own cleanup is checked).
        const close = driver.close.bind(driver);
        driver.close = async () => {
          await close();
          rmSync(driver.stateDir, { recursive: true, force: true });
        };
        return driver;
      },
    },
    { name: 'bwrap', make: () => new BwrapDriver() },
  ];
  if (!gvisor.ok) drivers[0]!.skip = gvisor.reason!;
  if (!bwrap.ok) drivers[1]!.skip = bwrap.reason!;
  for (const driver of drivers) if (driver.skip) console.warn(`sandbox tests for ${driver.name} skipped: ${driver.skip}`);
  return drivers;
}
