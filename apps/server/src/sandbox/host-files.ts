import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { resolveSandboxLimits, SandboxError, type SandboxAudit, type SandboxLimits, type SandboxMount, type SandboxSpawnSpec } from '@loom/engine';

const librariesByBinary = new Map<string, string[]>();

/**
 * The program and the shared libraries `ldd` lists for it: all a sandbox's root needs to
 * start it. Binding only these (not /lib) keeps the rest of the host's libraries out.
 */
export function programFiles(command: string): string[] {
  if (!isAbsolute(command)) throw new SandboxError(`sandbox command must be an absolute path, got ${JSON.stringify(command)}`, 'sandbox_invalid_spec');
  const cached = librariesByBinary.get(command);
  if (cached) return cached;
  if (!existsSync(command) || !statSync(command).isFile()) throw new SandboxError(`sandbox command ${command} does not exist on this machine`, 'sandbox_invalid_spec');
  let listing = '';
  try {
    listing = execFileSync('ldd', [command], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    // "not a dynamic executable": a static binary needs nothing else.
  }
  const files = new Set<string>([command]);
  for (const line of listing.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match?.[1]) files.add(match[1]);
  }
  const result = [...files];
  librariesByBinary.set(command, result);
  return result;
}

/** Checks a caller's mounts: absolute, existing host paths; targets absolute and not over the sandbox's own. */
export function checkMounts(mounts: readonly SandboxMount[] | undefined): { source: string; target: string }[] {
  const reserved = ['/proc', '/dev', '/tmp', '/sys'];
  return (mounts ?? []).map((mount, index) => {
    const target = mount.target ?? mount.source;
    if (!isAbsolute(mount.source) || !isAbsolute(target)) {
      throw new SandboxError(`mounts[${index}]: source and target must be absolute paths, got ${JSON.stringify(mount)}`, 'sandbox_invalid_spec');
    }
    if (target === '/' || reserved.some((path) => target === path || target.startsWith(path + '/'))) {
      throw new SandboxError(`mounts[${index}]: target ${target} would cover the sandbox's own ${target === '/' ? 'root' : target}`, 'sandbox_invalid_spec');
    }
    if (!existsSync(mount.source)) throw new SandboxError(`mounts[${index}]: ${mount.source} does not exist on this machine`, 'sandbox_invalid_spec');
    // Bind what the path really is, so a symlink cannot be swapped for another target later.
    return { source: realpathSync(mount.source), target };
  });
}

/** Environment variable names and values a sandbox may receive. */
export function checkEnv(env: Readonly<Record<string, string>> | undefined): string[] {
  return Object.entries(env ?? {}).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SandboxError(`env: ${JSON.stringify(name)} is not a valid variable name`, 'sandbox_invalid_spec');
    if (typeof value !== 'string' || value.includes('\0')) throw new SandboxError(`env.${name}: the value must be a string without NUL`, 'sandbox_invalid_spec');
    return `${name}=${value}`;
  });
}

export function checkLabel(label: string | undefined): string {
  const text = (label ?? 'run').replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40);
  return text || 'run';
}

/** What every driver checks and derives from a spawn spec before it starts anything. */
export interface CheckedSpawn {
  limits: SandboxLimits;
  /** The program and its libraries, to bind read-only. */
  files: string[];
  mounts: { source: string; target: string }[];
  /** `NAME=value` pairs: the spec's, over a PATH and HOME of the sandbox's own. */
  env: string[];
  audit: (record: SandboxAudit) => void;
}

export function checkSpawnSpec(spec: SandboxSpawnSpec, defaults: SandboxLimits): CheckedSpawn {
  return {
    limits: resolveSandboxLimits(spec.limits, defaults),
    files: programFiles(spec.command),
    mounts: checkMounts(spec.mounts),
    env: checkEnv({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', ...spec.env }),
    audit: (record) => spec.onAudit?.(record),
  };
}
