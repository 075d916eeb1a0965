/**
 * Hostile payloads for the sandbox suite (`hostile.int.test.ts`): each tries one way out
 * and states what must happen instead. Code cases return what they observed (an error
 * code, a value) with `attempt`; the suite checks it against `expect`.
 */

export type Outcome =
  /** The code ran to the end; `check` gets its output and the host's facts. */
  | { kind: 'output'; check: (output: any, host: HostFacts) => void }
  /** The call failed with this NodeError code (and message), after these audit events. */
  | { kind: 'error'; code: string; message?: RegExp; violation?: string; killed?: string };

export interface HostFacts {
  hostPid: number;
  sentinelPid: number;
  tcpPort: number;
  httpPort: number;
  udpPort: number;
  canaryDir: string;
  canaryFile: string;
  repoFile: string;
  secretEnvName: string;
  secretEnvValue: string;
  /** TCP connections and UDP packets the host's listeners received so far. */
  connections(): number;
  datagrams(): number;
  httpRequests(): string[];
}

export interface HostileCase {
  name: string;
  language?: 'javascript' | 'python';
  code: string;
  /** Wall-clock limit (ms); default 3000. */
  timeoutMs?: number;
  memoryMb?: number;
  maxOutputBytes?: number;
  allowHosts?: string[];
  /** Only for these drivers (where the case means something for them). */
  only?: ('gvisor' | 'bwrap')[];
  expect: Outcome;
}

/** JavaScript cases start with these helpers: an attempt's value, or its error code. */
export const JS_PRELUDE = `
const fs = require('node:fs'), net = require('node:net'), os = require('node:os'), cp = require('node:child_process'), dgram = require('node:dgram'), dns = require('node:dns');
const attempt = (f) => { try { return { ok: true, value: f() }; } catch (e) { return { ok: false, code: e.code || e.name, message: String(e.message).slice(0, 200) }; } };
const attemptAsync = async (f) => { try { return { ok: true, value: await f() }; } catch (e) { return { ok: false, code: e.code || e.name, message: String(e.message).slice(0, 200) }; } };
const connect = (port, host) => new Promise((resolve, reject) => { const s = net.connect({ port, host, timeout: 1500 }); s.once('connect', () => { s.destroy(); resolve('connected'); }); s.once('timeout', () => { s.destroy(); reject(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })); }); s.once('error', reject); });
`;

export const PY_PRELUDE = `
import os, socket, errno
def attempt(f):
    try:
        return {'ok': True, 'value': f()}
    except OSError as e:
        return {'ok': False, 'code': errno.errorcode.get(e.errno, type(e).__name__) if e.errno else type(e).__name__}
    except Exception as e:
        return {'ok': False, 'code': type(e).__name__}
`;

const refused = (result: { ok: boolean; code?: string }, codes: string[]) => {
  if (result.ok) throw new Error(`expected one of ${codes.join('/')}, but it succeeded: ${JSON.stringify(result)}`);
  if (!codes.includes(result.code ?? '')) throw new Error(`expected one of ${codes.join('/')}, got ${JSON.stringify(result)}`);
};
const NOT_THERE = ['ENOENT', 'EACCES'];
const READ_ONLY = ['EROFS', 'EACCES', 'EPERM', 'ENOENT'];
const NO_NETWORK = ['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EACCES', 'EPERM', 'EADDRNOTAVAIL', 'TIMEOUT'];
const NO_DNS = ['EAI_AGAIN', 'ENOTFOUND', 'ECONNREFUSED', 'ESERVFAIL', 'ETIMEOUT', 'ENODATA'];

export const HOSTILE_CASES: HostileCase[] = [
  // --- the host's files ---------------------------------------------------------------
  { name: 'read /etc/shadow', code: `return attempt(() => fs.readFileSync('/etc/shadow', 'utf8'))`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'read /etc/passwd', code: `return attempt(() => fs.readFileSync('/etc/passwd', 'utf8'))`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'read the server\'s own source files', code: `return attempt(() => fs.readFileSync(input.repoFile, 'utf8'))`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'read a host file in the host\'s /tmp', code: `return attempt(() => fs.readFileSync(input.canaryFile, 'utf8'))`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'list the root: only the runtime is there', code: `return fs.readdirSync('/').sort()`, expect: { kind: 'output', check: (entries: string[]) => { for (const name of ['etc', 'home', 'root', 'var', 'work', 'run', 'opt', 'srv', 'boot']) if (entries.includes(name)) throw new Error(`/${name} is visible: ${entries.join(' ')}`); } } },
  { name: 'list /usr/bin: only node', code: `return fs.readdirSync('/usr/bin')`, expect: { kind: 'output', check: (entries: string[]) => { if (entries.join() !== 'node') throw new Error(`/usr/bin holds ${entries.join(' ')}`); } } },
  { name: 'read another process\'s environment through /proc/1/environ', code: `return attempt(() => fs.readFileSync('/proc/1/environ', 'utf8'))`, expect: { kind: 'output', check: (r, host) => { if (r.ok && String(r.value).includes(host.secretEnvValue)) throw new Error('the server secret is readable'); } } },
  { name: 'read the host process\'s environment by its host pid', code: `return attempt(() => fs.readFileSync('/proc/' + input.hostPid + '/environ', 'utf8'))`, expect: { kind: 'output', check: (r, host) => { if (r.ok && String(r.value).includes(host.secretEnvValue)) throw new Error('the host environment is readable'); if (r.ok) return; refused(r, ['ENOENT', 'EACCES', 'ESRCH']); } } },
  { name: 'read /proc/self/root/../../etc/shadow', code: `return attempt(() => fs.readFileSync('/proc/self/root/../../etc/shadow', 'utf8'))`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'open /dev/mem and /dev/kmsg', code: `return [attempt(() => fs.openSync('/dev/mem', 'r')), attempt(() => fs.openSync('/dev/kmsg', 'r'))]`, expect: { kind: 'output', check: ([mem, kmsg]) => { refused(mem, ['ENOENT', 'EACCES', 'EPERM']); refused(kmsg, ['ENOENT', 'EACCES', 'EPERM']); } } },
  { name: 'environment holds only the allow-list', code: `return Object.keys(process.env).sort()`, expect: { kind: 'output', check: (keys: string[]) => { if (keys.filter((k) => k !== 'PWD').join() !== 'HOME,NODE_OPTIONS,PATH') throw new Error(`environment: ${keys.join(',')}`); } } },
  { name: 'no server secret anywhere in the environment', code: `return JSON.stringify(process.env)`, expect: { kind: 'output', check: (text: string, host) => { if (text.includes(host.secretEnvValue) || text.includes(host.secretEnvName)) throw new Error('secret leaked'); } } },

  // --- writing outside the scratch directory ------------------------------------------
  { name: 'write to the root', code: `return attempt(() => fs.writeFileSync('/escape', 'x'))`, expect: { kind: 'output', check: (r) => refused(r, READ_ONLY) } },
  { name: 'overwrite the node binary', code: `return attempt(() => fs.writeFileSync(process.execPath, 'x'))`, expect: { kind: 'output', check: (r) => refused(r, READ_ONLY.concat('ETXTBSY')) } },
  { name: 'create /etc/cron.d', code: `return attempt(() => fs.mkdirSync('/etc/cron.d', { recursive: true }))`, expect: { kind: 'output', check: (r) => refused(r, READ_ONLY) } },
  { name: 'write into a host directory by its host path', code: `return attempt(() => fs.writeFileSync(input.canaryDir + '/planted', 'x'))`, expect: { kind: 'output', check: (r) => refused(r, READ_ONLY) } },
  { name: 'chmod the runtime', code: `return attempt(() => fs.chmodSync(process.execPath, 0o777))`, expect: { kind: 'output', check: (r) => refused(r, READ_ONLY) } },
  { name: 'scratch is writable but bounded (fill /tmp past its size)', code: `const chunk = Buffer.alloc(1 << 20, 1); let written = 0; const r = attempt(() => { for (let i = 0; i < 200; i++) { fs.appendFileSync('/tmp/fill', chunk); written++; } }); return { r, written };`, memoryMb: 512, timeoutMs: 20_000 /* slow writes under ptrace; the case is about size */, expect: { kind: 'output', check: ({ r, written }) => { refused(r, ['ENOSPC', 'EFBIG', 'EDQUOT']); if (written > 64) throw new Error(`wrote ${written} MB into a 64 MB scratch`); } } },
  { name: 'the scratch directory is empty at start (nothing from earlier sandboxes)', code: `fs.writeFileSync('/tmp/mark-' + Math.random(), 'x'); return fs.readdirSync('/tmp').length`, expect: { kind: 'output', check: (count: number) => { if (count !== 1) throw new Error(`/tmp held ${count - 1} files from elsewhere`); } } },

  // --- symlink and hard-link tricks ---------------------------------------------------
  { name: 'symlink in scratch to /etc/shadow', code: `fs.symlinkSync('/etc/shadow', '/tmp/s'); return attempt(() => fs.readFileSync('/tmp/s', 'utf8'))`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'symlink in scratch to a host file by its host path', code: `fs.symlinkSync(input.canaryFile, '/tmp/c'); return attempt(() => fs.readFileSync('/tmp/c', 'utf8'))`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'symlink through /proc/self/root', code: `fs.symlinkSync('/proc/self/root/../../../' + input.repoFile, '/tmp/r'); return attempt(() => fs.readFileSync('/tmp/r', 'utf8'))`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'symlink over the runtime, then write through it', code: `fs.symlinkSync(process.execPath, '/tmp/n'); return attempt(() => fs.writeFileSync('/tmp/n', 'x'))`, expect: { kind: 'output', check: (r) => refused(r, READ_ONLY.concat('ETXTBSY')) } },
  { name: 'hard link the runtime into scratch', code: `return attempt(() => fs.linkSync(process.execPath, '/tmp/node'))`, expect: { kind: 'output', check: (r) => refused(r, ['EXDEV', 'EPERM', 'EACCES', 'EROFS']) } },

  // --- the network --------------------------------------------------------------------
  { name: 'connect to a service on the host\'s 127.0.0.1', code: `return attemptAsync(() => connect(input.tcpPort, '127.0.0.1'))`, expect: { kind: 'output', check: (r, host) => { refused(r, NO_NETWORK); if (host.connections() !== 0) throw new Error('the host service was reached'); } } },
  { name: 'connect to the host via localhost and ::1', code: `return [await attemptAsync(() => connect(input.tcpPort, 'localhost')), await attemptAsync(() => connect(input.tcpPort, '::1'))]`, expect: { kind: 'output', check: (rs, host) => { for (const r of rs) refused(r, [...NO_NETWORK, 'ENOTFOUND', 'EAI_AGAIN', 'EAFNOSUPPORT']); if (host.connections() !== 0) throw new Error('the host service was reached'); } } },
  { name: 'connect to another host (10.0.0.1:80)', code: `return attemptAsync(() => connect(80, '10.0.0.1'))`, expect: { kind: 'output', check: (r) => refused(r, NO_NETWORK) } },
  { name: 'connect to a public address (1.1.1.1:443)', code: `return attemptAsync(() => connect(443, '1.1.1.1'))`, expect: { kind: 'output', check: (r) => refused(r, NO_NETWORK) } },
  { name: 'resolve a name (DNS)', code: `return attemptAsync(() => dns.promises.lookup('example.com'))`, expect: { kind: 'output', check: (r) => refused(r, NO_DNS) } },
  { name: 'send UDP to the host', code: `const s = dgram.createSocket('udp4'); const r = await attemptAsync(() => new Promise((res, rej) => s.send('x', input.udpPort, '127.0.0.1', (e) => e ? rej(e) : res('sent')))); s.close(); await new Promise((r) => setTimeout(r, 200)); return r;`, expect: { kind: 'output', check: (_r, host) => { if (host.datagrams() !== 0) throw new Error('a datagram reached the host'); } } },
  { name: 'no network interfaces but loopback', code: `return Object.keys(os.networkInterfaces())`, expect: { kind: 'output', check: (names: string[]) => { if (names.some((n) => n !== 'lo')) throw new Error(`interfaces: ${names.join(',')}`); } } },
  { name: 'fetch to a host the flow does not allow', code: `return await fetch('http://127.0.0.1:' + input.tcpPort + '/steal')`, expect: { kind: 'error', code: 'code_error', message: /not in the flow's settings\.allowHosts/, violation: 'network' } },
  { name: 'fetch to an allowed host goes through the engine\'s bridge (positive control)', code: `const r = await fetch('http://127.0.0.1:' + input.httpPort + '/granted'); return { status: r.status, body: await r.text() }`, allowHosts: ['127.0.0.1'], expect: { kind: 'output', check: (r, host) => { if (r.status !== 200 || r.body !== 'granted') throw new Error(JSON.stringify(r)); if (!host.httpRequests().includes('/granted')) throw new Error('the request did not reach the host through the bridge'); } } },
  { name: 'fetch to a file: URL', code: `return await fetch('file:///etc/shadow')`, allowHosts: ['*.example.com'], expect: { kind: 'error', code: 'code_error', message: /only http and https/ } },

  // --- privileges ---------------------------------------------------------------------
  { name: 'runs as an unprivileged user', code: `return [process.getuid(), process.getgid()]`, expect: { kind: 'output', check: (ids: number[]) => { if (ids.join() !== '65534,65534') throw new Error(`uid/gid ${ids}`); } } },
  { name: 'setuid(0) is refused', code: `return attempt(() => process.setuid(0))`, expect: { kind: 'output', check: (r) => refused(r, ['EPERM', 'EINVAL']) } },
  { name: 'no capabilities', code: `return fs.readFileSync('/proc/self/status', 'utf8').split('\\n').filter((l) => /^Cap(Eff|Prm|Bnd)/.test(l))`, expect: { kind: 'output', check: (lines: string[]) => { for (const line of lines) if (!/\s0+$/.test(line)) throw new Error(`capability left: ${line}`); } } },
  { name: 'own hostname, not the host\'s', code: `return os.hostname()`, expect: { kind: 'output', check: (name: string) => { if (name !== 'sandbox') throw new Error(`hostname ${name}`); } } },

  // --- signals and processes on the host ----------------------------------------------
  { name: 'kill the server by its host pid', code: `return attempt(() => process.kill(input.hostPid, 'SIGKILL'))`, expect: { kind: 'output', check: (r) => refused(r, ['ESRCH', 'EPERM']) } },
  { name: 'kill a host process of the same uid by its pid', code: `return attempt(() => process.kill(input.sentinelPid, 'SIGKILL'))`, expect: { kind: 'output', check: (r, host) => { if (!alive(host.sentinelPid)) throw new Error('the host process was killed'); refused(r, ['ESRCH', 'EPERM']); } } },
  { name: 'kill(-1) kills only the sandbox\'s own processes', code: `const c = cp.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); await new Promise((r) => setTimeout(r, 300)); const r = attempt(() => process.kill(-1, 'SIGKILL')); const code = await new Promise((res) => c.once('exit', (_c, s) => res(s))); return { r, child: code }`, expect: { kind: 'output', check: (out, host) => { if (out.child !== 'SIGKILL') throw new Error(`the sandbox's own child was not reached: ${JSON.stringify(out)}`); if (!alive(host.sentinelPid)) throw new Error('a host process of the same uid was killed'); } } },
  { name: 'leftover background processes are gone after the call', code: `const c = cp.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' }); c.unref(); return c.pid > 0`, expect: { kind: 'output', check: (ok: boolean) => { if (ok !== true) throw new Error('no child started'); } } },
  { name: 'a daemon that ignores SIGTERM does not survive', code: `cp.spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); process.on("SIGHUP", () => {}); setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' }).unref(); return 'started'`, expect: { kind: 'output', check: (v) => { if (v !== 'started') throw new Error(String(v)); } } },
  { name: 'processes see only the sandbox', code: `return fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).length`, expect: { kind: 'output', check: (count: number) => { if (count > 5) throw new Error(`${count} processes visible`); } } },

  // --- resources ----------------------------------------------------------------------
  { name: 'infinite loop: killed at the wall-clock limit', code: `while (true) {}`, timeoutMs: 1500, expect: { kind: 'error', code: 'sandbox_timeout', violation: 'timeout', killed: 'timeout' } },
  { name: 'never-resolving promise: killed at the wall-clock limit', code: `await new Promise(() => setInterval(() => {}, 1000))`, timeoutMs: 1500, expect: { kind: 'error', code: 'sandbox_timeout', violation: 'timeout', killed: 'timeout' } },
  { name: 'JS heap bomb: a heap error before the memory limit', code: `const a = []; while (true) a.push({ x: new Array(1000).fill(Math.random()) });`, timeoutMs: 15000, memoryMb: 128, expect: { kind: 'error', code: 'sandbox_memory', message: /JavaScript heap reached its limit/, violation: 'memory' } },
  { name: 'off-heap memory bomb: killed by the memory limit', code: `const a = []; while (true) a.push(Buffer.alloc(16 << 20, 1));`, timeoutMs: 15000, memoryMb: 128, expect: { kind: 'error', code: 'sandbox_memory', violation: 'memory', killed: 'memory' } },
  { name: 'fork bomb: contained by the pids and memory limits', code: `const spawnAll = () => { for (let i = 0; i < 10000; i++) cp.spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' }).on('error', () => {}); }; spawnAll(); await new Promise((r) => setTimeout(r, 60000));`, timeoutMs: 4000, memoryMb: 256, expect: { kind: 'error', code: 'sandbox_memory|sandbox_timeout' } },
  { name: 'thread bomb (worker threads)', code: `const { Worker } = require('node:worker_threads'); for (let i = 0; i < 500; i++) { try { new Worker('while(true){}', { eval: true }).on('error', () => {}); } catch {} } await new Promise((r) => setTimeout(r, 60000));`, timeoutMs: 3000, expect: { kind: 'error', code: 'sandbox_memory|sandbox_timeout' } },
  { name: 'huge output: killed at the output limit', code: `const line = 'x'.repeat(10000); while (true) console.log(line);`, maxOutputBytes: 100_000, timeoutMs: 10000, expect: { kind: 'error', code: 'sandbox_output_limit', violation: 'output_limit', killed: 'output_limit' } },
  { name: 'huge output on stderr without newlines', code: `const s = 'y'.repeat(65536); while (true) process.stderr.write(s);`, maxOutputBytes: 100_000, timeoutMs: 10000, expect: { kind: 'error', code: 'sandbox_output_limit', violation: 'output_limit', killed: 'output_limit' } },
  { name: 'a huge result is refused too', code: `return 'z'.repeat(2_000_000)`, maxOutputBytes: 100_000, timeoutMs: 10000, expect: { kind: 'error', code: 'sandbox_output_limit' } },

  // --- the runner protocol ------------------------------------------------------------
  { name: 'exits without a result', code: `process.exit(0)`, expect: { kind: 'error', code: 'code_crashed', message: /without a result/ } },
  { name: 'closes its stdout before answering', code: `fs.closeSync(1); return 'hidden'`, expect: { kind: 'error', code: 'code_crashed' } },
  { name: 'waits on stdin for more than its request', code: `await new Promise((r) => process.stdin.once('data', r)); return 'fed'`, timeoutMs: 1500, expect: { kind: 'error', code: 'sandbox_timeout' } },
  { name: 'throws: the error is the result, clearly named', code: `throw new RangeError('nope')`, expect: { kind: 'error', code: 'code_error', message: /^RangeError: nope$/ } },
  { name: 'returns something JSON cannot hold', code: `return 10n`, expect: { kind: 'error', code: 'code_error', message: /cannot be turned into JSON/ } },
  { name: 'reaches for the host through the Function constructor: only its own process', code: `const p = (function () {}).constructor('return process')(); return { pid: p.pid, cwd: p.cwd() }`, expect: { kind: 'output', check: (r) => { if (r.cwd !== '/tmp' || r.pid > 100) throw new Error(JSON.stringify(r)); } } },

  // --- Python -------------------------------------------------------------------------
  { name: 'python: read /etc/shadow', language: 'python', code: `return attempt(lambda: open('/etc/shadow').read())`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'python: read the server\'s files', language: 'python', code: `return attempt(lambda: open(input['repoFile']).read())`, expect: { kind: 'output', check: (r) => refused(r, NOT_THERE) } },
  { name: 'python: write outside scratch', language: 'python', code: `return attempt(lambda: open('/usr/lib/planted', 'w').write('x'))`, expect: { kind: 'output', check: (r) => refused(r, READ_ONLY) } },
  { name: 'python: connect to the host\'s 127.0.0.1', language: 'python', code: `s = socket.socket()\ns.settimeout(1.5)\nreturn attempt(lambda: s.connect(('127.0.0.1', input['tcpPort'])))`, expect: { kind: 'output', check: (r, host) => { refused(r, [...NO_NETWORK, 'timeout', 'TimeoutError', 'ETIMEDOUT']); if (host.connections() !== 0) throw new Error('the host service was reached'); } } },
  { name: 'python: setuid(0)', language: 'python', code: `return attempt(lambda: os.setuid(0))`, expect: { kind: 'output', check: (r) => refused(r, ['EPERM', 'EINVAL']) } },
  { name: 'python: environment holds only the allow-list', language: 'python', code: `return sorted(os.environ.keys())`, expect: { kind: 'output', check: (keys: string[]) => { if (keys.some((k) => !['HOME', 'PATH', 'PWD', 'PYTHONIOENCODING', 'PYTHONDONTWRITEBYTECODE', 'LC_CTYPE'].includes(k))) throw new Error(`environment: ${keys.join(',')}`); } } },
  { name: 'python: infinite loop', language: 'python', code: `while True:\n    pass`, timeoutMs: 1500, expect: { kind: 'error', code: 'sandbox_timeout', violation: 'timeout', killed: 'timeout' } },
  { name: 'python: memory bomb', language: 'python', code: `a = []\nwhile True:\n    a.append(bytearray(16 << 20))`, timeoutMs: 15000, memoryMb: 128, expect: { kind: 'error', code: 'sandbox_memory|code_error', message: /memory|MemoryError/ } },
  { name: 'python: fork bomb', language: 'python', code: `import time\nfor i in range(100000):\n    try:\n        if os.fork() == 0:\n            time.sleep(60)\n            os._exit(0)\n    except OSError:\n        pass\ntime.sleep(60)`, timeoutMs: 4000, expect: { kind: 'error', code: 'sandbox_memory|sandbox_timeout' } },
  { name: 'python: leftover background process', language: 'python', code: `import time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n    os._exit(0)\nreturn 'forked'`, expect: { kind: 'output', check: (v) => { if (v !== 'forked') throw new Error(String(v)); } } },
];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
