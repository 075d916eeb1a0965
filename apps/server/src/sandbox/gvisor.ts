import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { resolveSandboxLimits, type SandboxCleanup, type SandboxDriver, type SandboxLimits, type SandboxProcess, type SandboxSpawnSpec } from '@loom/engine';
import { checkSpawnSpec } from './host-files.js';
import { LiveSandboxes, ManagedSandbox, type SandboxChild } from './managed.js';
import { isStateFileOf, leftoverProcesses } from './verify.js';

const run = promisify(execFile);

export interface GvisorOptions {
  runsc?: string;
  /** Holds runsc's state (`--root`), the shared root filesystem and one bundle per sandbox. */
  stateDir?: string;
  /** `ptrace` works everywhere; `kvm` hangs on machines without nested virtualisation (as here). */
  platform?: string;
  limits?: Partial<SandboxLimits>;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
const CPU_PERIOD_US = 100_000;
/** No host environment reaches runsc itself either: only a PATH to find its helpers. */
const LAUNCHER_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

/**
 * gVisor (`runsc run` on an OCI bundle generated per sandbox): a user-space kernel
 * between the code and the host. Per sandbox: a read-only root holding only the program
 * and its libraries (plus read-only mounts the caller names), a size-limited tmpfs
 * scratch at /tmp, no network (`--network=none`), user 65534 with no capabilities and
 * `noNewPrivileges`, its own pid/ipc/uts/mount/network namespaces, cgroup limits on
 * memory (swap = limit), CPU and pids, and a wall-clock kill (`runsc kill` + `delete -force`).
 */
export class GvisorDriver implements SandboxDriver {
  readonly name = 'gvisor';
  readonly isolation = 'strong' as const;
  readonly description = 'gVisor (runsc, ptrace platform): a user-space kernel, no network, read-only minimal root, cgroup limits';
  private readonly runsc: string;
  /** runsc's state, the shared root and the bundles: nothing outside it is written. */
  readonly stateDir: string;
  private readonly platform: string;
  private readonly rootfs: string;
  private readonly runscRoot: string;
  private readonly defaults: SandboxLimits;
  private readonly mountPoints = new Set<string>();
  private readonly live = new LiveSandboxes('gvisor');

  constructor(options: GvisorOptions = {}) {
    this.runsc = options.runsc ?? '/usr/bin/runsc';
    this.stateDir = options.stateDir ?? '/run/loom-sandbox/gvisor';
    this.platform = options.platform ?? 'ptrace';
    this.rootfs = join(this.stateDir, 'rootfs');
    this.runscRoot = join(this.stateDir, 'state');
    this.defaults = resolveSandboxLimits(options.limits);
    mkdirSync(this.rootfs, { recursive: true, mode: 0o755 });
    mkdirSync(this.runscRoot, { recursive: true, mode: 0o700 });
    mkdirSync(join(this.stateDir, 'bundles'), { recursive: true, mode: 0o700 });
  }

  async spawn(spec: SandboxSpawnSpec): Promise<SandboxProcess> {
    return this.start(spec, false);
  }

  /** Starts a sandbox; a `warm` one waits, without wall clock or audit sink, for `ManagedSandbox.arm`. */
  start(spec: SandboxSpawnSpec, warm: boolean): ManagedSandbox {
    this.live.assertOpen();
    const { limits, files, mounts, env, audit } = checkSpawnSpec(spec, this.defaults);
    const id = this.live.nextId(spec.label);
    const bundle = join(this.stateDir, 'bundles', id);

    for (const file of files) this.ensureMountPoint(file, false);
    for (const mount of mounts) this.ensureMountPoint(mount.target, statSync(mount.source).isDirectory());
    mkdirSync(bundle, { mode: 0o700 });
    const memoryBytes = limits.memoryMb * 1024 * 1024;
    // The sandbox boots with every host CPU (runsc and the interpreter start several threads
    // at once; one CPU's quota made a cold start ~20% slower) and gets its own quota before
    // the code arrives: `applyRunLimits`, at the first byte written to its stdin.
    const bootCpus = Math.max(limits.cpus, availableParallelism());
    const config = {
      ociVersion: '1.0.0',
      process: {
        terminal: false,
        user: { uid: 65534, gid: 65534 },
        args: [spec.command, ...(spec.args ?? [])],
        env,
        cwd: spec.cwd ?? '/tmp',
        capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
        noNewPrivileges: true,
        rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      },
      root: { path: this.rootfs, readonly: true },
      hostname: 'sandbox',
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'noexec', 'mode=755', 'size=1m'] },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', `size=${limits.scratchMb}m`, 'mode=1777'] },
        ...files.map((file) => ({ destination: file, type: 'bind', source: file, options: ['rbind', 'ro', 'nosuid', 'nodev'] })),
        ...mounts.map((mount) => ({ destination: mount.target, type: 'bind', source: mount.source, options: ['rbind', 'ro', 'nosuid', 'nodev'] })),
      ],
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
        cgroupsPath: `/loom/${id}/sandbox`,
        resources: {
          memory: { limit: memoryBytes, swap: memoryBytes },
          cpu: { quota: Math.round(bootCpus * CPU_PERIOD_US), period: CPU_PERIOD_US },
          pids: { limit: limits.pids },
        },
        maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'],
        readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus'],
      },
    };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    // Our own parent group, so the memory peak is still readable after runsc removed its group.
    if (existsSync(join(CGROUP_ROOT, 'memory'))) mkdirSync(join(CGROUP_ROOT, 'memory', 'loom', id), { recursive: true });

    const startedAt = Date.now();
    const child = spawn(this.runsc, [...this.globalFlags(), 'run', '--bundle', bundle, id], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: LAUNCHER_ENV,
    }) as SandboxChild;

    let exited = false;
    child.once('close', () => (exited = true));
    const sandbox = new ManagedSandbox(
      id,
      this.name,
      limits,
      child,
      {
        killAll: async () => {
          await this.runscQuiet('kill', id, 'KILL');
          await this.runscQuiet('delete', '-force', id);
          if (!exited) child.kill('SIGKILL');
        },
        cleanUp: () => this.cleanUp(id, bundle),
        applyRunLimits: () => setCpuQuota(id, Math.round(limits.cpus * CPU_PERIOD_US)),
        diagnoseKill: () => {
          // v1: our own parent group keeps the peak after runsc removed its group.
          const peak = readNumber(join(CGROUP_ROOT, 'memory', 'loom', id, 'memory.max_usage_in_bytes'));
          if (peak !== undefined && peak >= memoryBytes * 0.9) return 'memory';
          // v2: the parent runsc made counts its children's OOM kills.
          const events = readText(join(CGROUP_ROOT, 'loom', id, 'memory.events'));
          return Number(/oom_kill (\d+)/.exec(events)?.[1] ?? 0) > 0 ? 'memory' : undefined;
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

  private globalFlags(): string[] {
    return [`--root=${this.runscRoot}`, `--platform=${this.platform}`, '--network=none'];
  }

  private async runscQuiet(...args: string[]): Promise<void> {
    await run(this.runsc, [...this.globalFlags(), ...args], { env: LAUNCHER_ENV }).catch(() => {});
  }

  private async cleanUp(id: string, bundle: string): Promise<SandboxCleanup> {
    if (existsSync(join(this.runscRoot, id)) || readdirSync(this.runscRoot).some((name) => isStateFileOf(name, id))) {
      await this.runscQuiet('delete', '-force', id);
    }
    // Killed while booting, runsc leaves its state files behind and `delete` refuses a
    // half-made container: once no process of it is left, the files are all there is.
    if (leftoverProcesses(bundle).length === 0 && leftoverProcesses(id).length === 0) {
      for (const name of readdirSync(this.runscRoot)) if (isStateFileOf(name, id)) rmSync(join(this.runscRoot, name), { force: true });
    }
    rmSync(bundle, { recursive: true, force: true });
    // cgroup v1: one tree per controller; v2: one unified tree.
    // Every hierarchy mounted here (runsc also makes one in the named `systemd` hierarchy).
    const trees = [...readdirSync(CGROUP_ROOT).map((name) => join(CGROUP_ROOT, name)), CGROUP_ROOT].filter((tree) => existsSync(join(tree, 'loom', id)));
    const groups = trees.flatMap((tree) => [join(tree, 'loom', id, 'sandbox'), join(tree, 'loom', id)]);
    for (const group of groups) removeCgroup(group);

    const leftovers: string[] = [];
    for (const pid of leftoverProcesses(bundle)) leftovers.push(`process ${pid}`);
    for (const pid of leftoverProcesses(id)) if (!leftovers.includes(`process ${pid}`)) leftovers.push(`process ${pid}`);
    if (existsSync(bundle)) leftovers.push(`directory ${bundle}`);
    if (readdirSync(this.runscRoot).some((name) => isStateFileOf(name, id))) leftovers.push(`runsc state ${id}`);
    for (const group of groups) if (existsSync(group)) leftovers.push(`cgroup ${group}`);
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((line) => { const target = line.split(' ')[1] ?? ''; return target === bundle || target.startsWith(bundle + '/'); });
    for (const line of mounts) leftovers.push(`mount ${line.split(' ')[1]}`);
    return { ok: leftovers.length === 0, leftovers };
  }

  /** runsc wants every mount target to exist in the root; made once, in the shared root. */
  private ensureMountPoint(target: string, directory: boolean): void {
    if (this.mountPoints.has(target)) return;
    const path = join(this.rootfs, target);
    mkdirSync(directory ? path : dirname(path), { recursive: true, mode: 0o755 });
    if (!directory && !existsSync(path)) writeFileSync(path, '', { mode: 0o444 });
    this.mountPoints.add(target);
  }
}

/**
 * Sets the CPU quota of the group runsc made for sandbox `id` (cgroup v1: the `cpu`
 * hierarchy's `cfs_quota_us`; v2: `cpu.max`). A group that is gone means the sandbox has
 * ended, and there is nothing left to limit.
 */
function setCpuQuota(id: string, quotaUs: number): void {
  const v1 = join(CGROUP_ROOT, 'cpu', 'loom', id, 'sandbox');
  const v2 = join(CGROUP_ROOT, 'loom', id, 'sandbox');
  const [file, value] = existsSync(join(CGROUP_ROOT, 'cpu')) ? [join(v1, 'cpu.cfs_quota_us'), String(quotaUs)] : [join(v2, 'cpu.max'), `${quotaUs} ${CPU_PERIOD_US}`];
  try {
    writeFileSync(file, value);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const applied = readText(file).trim().split(' ')[0];
  if (applied !== String(quotaUs)) throw new Error(`${file} reads ${JSON.stringify(applied)} after writing ${quotaUs}`);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function readNumber(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** A cgroup directory goes with `rmdir` once empty; its pseudo-files cannot be deleted. */
function removeCgroup(path: string): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      rmdirSync(path);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') return;
    }
  }
}

/** Whether `runsc` can run a sandbox on this machine: the binary, root, and cgroup v1 or v2. */
export function gvisorAvailable(runsc = '/usr/bin/runsc'): { ok: boolean; reason?: string } {
  if (!existsSync(runsc)) return { ok: false, reason: `${runsc} is not installed (Debian package runsc)` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'runsc needs root to create sandboxes here (the server is not running as root)' };
  if (!existsSync(join(CGROUP_ROOT, 'memory')) && !existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) return { ok: false, reason: 'no cgroup file system at /sys/fs/cgroup' };
  return { ok: true };
}
