import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSandboxLimits, SandboxError, type SandboxCleanup, type SandboxDriver, type SandboxLimits, type SandboxProcess, type SandboxSpawnSpec } from '@loom/engine';
import { checkSpawnSpec } from './host-files.js';
import { LiveSandboxes, ManagedSandbox, type SandboxChild } from './managed.js';

export interface BwrapOptions {
  bwrap?: string;
  limits?: Partial<SandboxLimits>;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
const NOBODY = 65534;

/**
 * bubblewrap: Linux namespaces (user, pid, net, ipc, uts, mount, cgroup) around the host's
 * own kernel. Weaker than gVisor: the code talks to the real kernel, so a kernel bug is an
 * escape. Used only where runsc cannot run, and reported as such.
 *
 * The launcher, as root, puts itself into per-sandbox cgroups (memory with swap = limit,
 * pids, cpu quota) and then becomes user 65534 with no capabilities before starting bwrap
 * with an empty environment: bwrap started by root would map the sandbox user to real
 * root for some kernel files, and bwrap's own process (pid 1 inside) keeps the
 * environment it was started with, readable at /proc/1/environ.
 */
export class BwrapDriver implements SandboxDriver {
  readonly name = 'bwrap';
  readonly isolation = 'weak' as const;
  readonly description = 'bubblewrap namespaces on the host kernel (weaker than gVisor: a kernel bug is an escape); no network, read-only minimal root, cgroup limits';
  private readonly bwrap: string;
  private readonly defaults: SandboxLimits;
  private readonly live = new LiveSandboxes('bwrap');

  constructor(options: BwrapOptions = {}) {
    this.bwrap = options.bwrap ?? '/usr/bin/bwrap';
    this.defaults = resolveSandboxLimits(options.limits);
  }

  async spawn(spec: SandboxSpawnSpec): Promise<SandboxProcess> {
    return this.start(spec, false);
  }

  /** Starts a sandbox; a `warm` one waits, without wall clock or audit sink, for `ManagedSandbox.arm`. */
  start(spec: SandboxSpawnSpec, warm: boolean): ManagedSandbox {
    this.live.assertOpen();
    const { limits, files, mounts, env, audit } = checkSpawnSpec(spec, this.defaults);
    const id = this.live.nextId(spec.label);

    const groups = this.makeCgroups(id, limits);
    const args = [
      '--unshare-all',
      '--die-with-parent',
      '--new-session',
      '--cap-drop', 'ALL',
      '--hostname', 'sandbox',
      ...files.flatMap((file) => ['--ro-bind', file, file]),
      ...mounts.flatMap((mount) => ['--ro-bind', mount.source, mount.target]),
      '--proc', '/proc',
      '--dev', '/dev',
      '--size', String(limits.scratchMb * 1024 * 1024), '--tmpfs', '/tmp',
      '--remount-ro', '/',
      '--chdir', spec.cwd ?? '/tmp',
      ...env.flatMap((pair) => {
        const at = pair.indexOf('=');
        return ['--setenv', pair.slice(0, at), pair.slice(at + 1)];
      }),
      '--',
      spec.command,
      ...(spec.args ?? []),
    ];
    // sh joins the cgroups (so everything it starts is counted), then setpriv drops root
    // for good before bwrap runs; `env -i` leaves bwrap itself no environment to leak.
    const joinGroups = groups.map((group) => `echo $$ > ${group}/cgroup.procs`).join(' && ');
    const launcher = [
      '/bin/sh', '-c', `${joinGroups || 'true'} && exec "$@"`, 'sh',
      '/usr/bin/setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--',
      '/usr/bin/env', '-i', this.bwrap, ...args,
    ];
    const startedAt = Date.now();
    const child = spawn(launcher[0]!, launcher.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: {}, detached: true }) as SandboxChild;

    const memoryGroup = groups.find((group) => group.includes('/memory/')) ?? (groups.length === 1 ? groups[0] : undefined);
    const sandbox = new ManagedSandbox(
      id,
      this.name,
      limits,
      child,
      {
        killAll: async () => {
          // Everything the sandbox started is in its cgroups, whatever it did to its process group.
          for (const group of groups) for (const pid of cgroupPids(group)) safeKill(pid);
          if (child.pid !== undefined) safeKill(-child.pid);
        },
        cleanUp: async () => cleanUpCgroups(groups),
        diagnoseKill: () => {
          if (!memoryGroup) return undefined;
          // The kernel's OOM killer counts its kills in the group; the limit counters show pressure.
          // v1: memory.oom_control; v2: memory.events.
          const kills = /oom_kill (\d+)/.exec(readText(join(memoryGroup, 'memory.oom_control')) || readText(join(memoryGroup, 'memory.events')))?.[1];
          const failures = Number(readText(join(memoryGroup, 'memory.memsw.failcnt')) || readText(join(memoryGroup, 'memory.failcnt')) || 0);
          return Number(kills ?? 0) > 0 || failures > 0 ? 'memory' : undefined;
        },
      },
      audit,
      startedAt,
      warm,
    );
    sandbox.record({ type: 'created', sandboxId: id, driver: this.name, isolation: this.isolation, limits, mounts: mounts.map((m) => m.target), network: 'none' });
    return this.live.track(sandbox);
  }

  async close(): Promise<void> {
    await this.live.closeAll();
  }

  private makeCgroups(id: string, limits: SandboxLimits): string[] {
    if (existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) return [makeUnifiedCgroup(id, limits)];
    const groups: string[] = [];
    for (const controller of CONTROLLERS) {
      const tree = join(CGROUP_ROOT, controller);
      if (!existsSync(tree)) throw new SandboxError(`cannot limit the sandbox: the cgroup v1 ${controller} controller is not mounted at ${tree}`, 'sandbox_start_failed');
      const group = join(tree, 'loom', id);
      mkdirSync(group, { recursive: true });
      groups.push(group);
      if (controller === 'memory') {
        const bytes = String(limits.memoryMb * 1024 * 1024);
        writeFileSync(join(group, 'memory.limit_in_bytes'), bytes);
        if (existsSync(join(group, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(group, 'memory.memsw.limit_in_bytes'), bytes);
      } else if (controller === 'pids') {
        writeFileSync(join(group, 'pids.max'), String(limits.pids));
      } else {
        writeFileSync(join(group, 'cpu.cfs_period_us'), '100000');
        writeFileSync(join(group, 'cpu.cfs_quota_us'), String(Math.round(limits.cpus * 100_000)));
      }
    }
    return groups;
  }
}

/**
 * cgroup v2: one group with memory (no swap), pids and cpu, under `/loom` with those
 * controllers enabled for its children. Refuses rather than run without limits.
 */
function makeUnifiedCgroup(id: string, limits: SandboxLimits): string {
  const parent = join(CGROUP_ROOT, 'loom');
  const group = join(parent, id);
  try {
    mkdirSync(parent, { recursive: true });
    for (const level of [CGROUP_ROOT, parent]) {
      const enabled = readText(join(level, 'cgroup.subtree_control')).split(/\s+/);
      const missing = ['memory', 'pids', 'cpu'].filter((c) => !enabled.includes(c));
      if (missing.length) writeFileSync(join(level, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    }
    mkdirSync(group);
    writeFileSync(join(group, 'memory.max'), String(limits.memoryMb * 1024 * 1024));
    if (existsSync(join(group, 'memory.swap.max'))) writeFileSync(join(group, 'memory.swap.max'), '0');
    writeFileSync(join(group, 'pids.max'), String(limits.pids));
    writeFileSync(join(group, 'cpu.max'), `${Math.round(limits.cpus * 100_000)} 100000`);
  } catch (error) {
    try {
      rmdirSync(group);
    } catch {
      // not made
    }
    throw new SandboxError(`cannot limit the sandbox with cgroup v2 at ${group}: ${(error as Error).message}`, 'sandbox_start_failed');
  }
  return group;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function cgroupPids(group: string): number[] {
  try {
    return readFileSync(join(group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function safeKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function cleanUpCgroups(groups: string[]): Promise<SandboxCleanup> {
  const leftovers: string[] = [];
  for (const group of groups) {
    // Killed processes leave the group a moment after SIGKILL.
    for (let attempt = 0; attempt < 50 && cgroupPids(group).length > 0; attempt++) {
      for (const pid of cgroupPids(group)) safeKill(pid);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const pid of cgroupPids(group)) leftovers.push(`process ${pid}`);
    try {
      rmdirSync(group);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') leftovers.push(`cgroup ${group}`);
    }
  }
  return { ok: leftovers.length === 0, leftovers: [...new Set(leftovers)] };
}

/** Whether bubblewrap can make a sandbox here. */
export function bwrapAvailable(bwrap = '/usr/bin/bwrap'): { ok: boolean; reason?: string } {
  if (!existsSync(bwrap)) return { ok: false, reason: `${bwrap} is not installed (Debian package bubblewrap)` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'the bwrap driver needs root to set up cgroup limits and drop to an unprivileged user' };
  if (!existsSync('/usr/bin/setpriv')) return { ok: false, reason: '/usr/bin/setpriv is missing (Debian package util-linux)' };
  return { ok: true };
}
