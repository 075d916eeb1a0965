import { readdirSync, readFileSync } from 'node:fs';

/**
 * Pids of live processes with `needle` (a sandbox id or its bundle path) as a whole
 * argument, a path prefix (`<bundle>/...`) or an option value (`--bundle=<bundle>`).
 * Whole tokens, not substrings: sandbox `...-1` must not match sandbox `...-10`.
 */
export function leftoverProcesses(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // gone while we looked
    }
    if (mentions(cmdline, needle) && !isZombie(entry)) pids.push(Number(entry));
  }
  return pids;
}

function isZombie(pid: string): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return true;
  }
}

function mentions(cmdline: string, needle: string): boolean {
  if (!cmdline.includes(needle)) return false;
  return cmdline.split('\0').some((arg) => arg === needle || arg.startsWith(needle + '/') || arg.endsWith('=' + needle) || arg.includes('=' + needle + '/'));
}

/** runsc's state files of a container: `<id>_sandbox:<id>.state` / `.lock`. */
export function isStateFileOf(name: string, id: string): boolean {
  return name === id || name.startsWith(`${id}_`) || name.startsWith(`${id}.`);
}

/** Pids of live processes whose command line contains `text` anywhere (for tests: a driver's state directory). */
export function processesContaining(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text) && !isZombie(entry)) pids.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}
