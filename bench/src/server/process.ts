import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../measure.js';

/**
 * Server processes for the server benchmark, started as a person starts Loom: `npm start`
 * ends in `node dist/main.js` in apps/server (the bundle `buildServer` makes first). The
 * baseline is a bare node:http server started the same way. `serverPid` is the process that
 * listens (the one spawned).
 */

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');
const SERVER_DIR = join(repoRoot, 'apps/server');
const SERVER_BUNDLE = join(SERVER_DIR, 'dist/main.js');
const BARE_SERVER = join(here, 'bare-server.mjs');

/** Builds the server bundle, as `npm start` does before starting it. */
export async function buildServer(): Promise<void> {
  const child = spawn(process.execPath, [join(SERVER_DIR, 'scripts/build.mjs')], { stdio: 'inherit' });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`building the server bundle failed (exit ${code})`);
}

/** Variables the benchmark sets itself; inherited values would change what is measured. */
const OWN_VARIABLES = /^(LOOM_|DATABASE_URL$|PORT$|HOST$|LOG_LEVEL$)/;

export type ServerKind = 'loom' | 'bare';

export interface StartedServer {
  kind: ServerKind;
  url: string;
  /** The process we spawned (the server itself). */
  pid: number;
  /** The node process running the program (the launcher's child). */
  serverPid: number;
  /** From spawn to the first 200 from /healthz, ms. */
  startMs: number;
  /** From spawn to the line announcing the URL, ms. */
  listeningMs: number;
  /** Lines the process wrote to stdout (pino JSON for Loom). */
  output: string[];
  stop(): Promise<void>;
}

/** A temp folder for one server's database and key file; `dispose` deletes it. */
export function tempServerDir(label: string): { dir: string; databaseFile: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), `loom-bench-server-${label}-`));
  return { dir, databaseFile: join(dir, 'loom.db'), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

let cpuProfileDir: string | undefined;

/** From now on, Loom server processes write a V8 CPU profile into `dir` when they exit (`--cpu-prof`). */
export function profileServersInto(dir: string): void {
  cpuProfileDir = dir;
}

const live = new Set<ChildProcess>();
// Never leave a server behind, even when the benchmark throws.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Spawns a server and resolves once /healthz answers 200. Loom gets a database in `dir`
 * (a fresh folder is a first start: migrations, templates seeded, key file written).
 */
export async function startServer(kind: ServerKind, dir: string, timeoutMs = 30_000): Promise<StartedServer> {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !OWN_VARIABLES.test(key)));
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  if (kind === 'loom') Object.assign(env, { DATABASE_URL: join(dir, 'loom.db'), LOOM_SECRET_KEY_FILE: join(dir, 'secret.key') });
  // One profile folder per server, named after its temp folder (the measurement).
  const nodeFlags = kind === 'loom' && cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfileDir, basename(dir))}`] : [];

  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, kind === 'loom' ? SERVER_BUNDLE : BARE_SERVER], {
    cwd: kind === 'loom' ? SERVER_DIR : repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  exited.then(() => live.delete(child), () => undefined);
  const output: string[] = [];
  let stderr = '';
  let exitedEarly: string | undefined;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));

  // Settles with the first line announcing a URL, or fails when the process exits or stays silent.
  let urlTimer: NodeJS.Timeout | undefined;
  const urlLine = new Promise<{ url: string; at: number }>((resolveUrl, reject) => {
    child.once('exit', (code, signal) => {
      exitedEarly = `${kind} server exited (${signal ?? `code ${code}`}) before it was ready: ${stderr.slice(-1_000)}`;
      reject(new Error(exitedEarly));
    });
    child.once('error', (error) => reject(new Error(`cannot start the ${kind} server (${process.execPath}): ${error.message}`)));
    urlTimer = setTimeout(() => reject(new Error(`${kind} server printed no URL within ${timeoutMs} ms: ${stderr.slice(-1_000)}`)), timeoutMs);
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const at = performance.now();
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        output.push(line);
        const url = urlOf(line);
        if (url) resolveUrl({ url, at });
      }
    });
  });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // One SIGTERM: the server closes cleanly (a second one makes it exit at once).
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      if (serverPid > 0) killQuietly(serverPid);
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };
  let serverPid = 0;

  try {
    const deadline = t0 + timeoutMs;
    const { url, at } = await urlLine.finally(() => clearTimeout(urlTimer));
    for (;;) {
      if (exitedEarly !== undefined) throw new Error(exitedEarly);
      if (performance.now() > deadline) throw new Error(`${kind} server at ${url} did not answer /healthz within ${timeoutMs} ms`);
      const ok = await fetch(`${url}/healthz`).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status === 200;
        },
        () => false,
      );
      if (ok) break;
      await sleep(2);
    }
    const startMs = performance.now() - t0;
    serverPid = childOf(child.pid!) ?? child.pid!;
    return { kind, url, pid: child.pid!, serverPid, startMs, listeningMs: at - t0, output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function urlOf(line: string): string | undefined {
  if (!line.includes('"url"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { url?: unknown };
    return typeof parsed.url === 'string' ? parsed.url : undefined;
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The first child process of `pid` (Linux /proc), or undefined elsewhere / when it has none. */
export function childOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    if (children.length > 0) return children[0];
  } catch {
    // Kernels without CONFIG_PROC_CHILDREN: scan every process's parent below.
  }
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // Fields after the command name, which is in parentheses and may contain spaces.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) return Number(entry);
      } catch {
        // the process ended while we looked
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** Resident set size of a process in MB (VmRSS from /proc/<pid>/status), or undefined off Linux. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, ms (/proc/<pid>/stat, 10 ms ticks), or undefined off Linux. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 11 and 12 after the command name; USER_HZ is 100.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}
