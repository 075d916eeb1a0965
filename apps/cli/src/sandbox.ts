import type { SandboxDriver, SandboxSpawnSpec, SandboxProcess } from '@loom/engine';

const CHOICES = ['auto', 'gvisor', 'bwrap', 'none'] as const;
type Choice = (typeof CHOICES)[number];

/**
 * The CLI's sandbox: the server's drivers (the same choice as the server: gVisor, else
 * bubblewrap, else none), loaded on the first code call, so flows without code do not
 * pay for loading them. `LOOM_SANDBOX` names a driver; `LOOM_SANDBOX_WARM` keeps
 * sandboxes started ahead (0 by default: a CLI run is short).
 */
export function cliSandbox(env: NodeJS.ProcessEnv): SandboxDriver & { close(): Promise<void> } {
  const choice = (env['LOOM_SANDBOX'] || 'auto') as Choice;
  if (!CHOICES.includes(choice)) throw new Error(`LOOM_SANDBOX must be one of ${CHOICES.join(', ')}, got ${JSON.stringify(env['LOOM_SANDBOX'])}`);
  const warm = Number(env['LOOM_SANDBOX_WARM'] || 0);
  if (!Number.isInteger(warm) || warm < 0 || warm > 16) throw new Error(`LOOM_SANDBOX_WARM must be a whole number from 0 to 16, got ${JSON.stringify(env['LOOM_SANDBOX_WARM'])}`);
  let loaded: Promise<SandboxDriver> | undefined;
  const load = () =>
    (loaded ??= import('@loom/server').then(({ createSandbox }) =>
      createSandbox({ choice, warm, ...(env['LOOM_SANDBOX_DIR'] ? { stateDir: env['LOOM_SANDBOX_DIR'] } : {}) }).driver,
    ));
  return {
    name: choice,
    isolation: 'strong',
    description: `the strongest sandbox available (${choice}), chosen on first use`,
    spawn: async (spec: SandboxSpawnSpec): Promise<SandboxProcess> => (await load()).spawn(spec),
    close: async () => {
      if (loaded) await (await loaded).close?.();
    },
  };
}
