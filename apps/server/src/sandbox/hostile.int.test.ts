import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchHttpClient, runCodeInSandbox, systemClock, type SandboxDriver } from '@loom/engine';
import type { FlowSettings, RunEventBody } from '@loom/shared';
import { REPO_ROOT } from '../env.js';
import { HOSTILE_CASES, JS_PRELUDE, PY_PRELUDE, type HostFacts, type HostileCase } from './hostile-payloads.js';
import { testDrivers } from './test-drivers.js';
import { WarmSandboxPool } from './warm-pool.js';
import { processesContaining } from './verify.js';
import type { GvisorDriver } from './gvisor.js';

/** Cases at once per driver: enough to finish in reasonable time on 2 cores, few enough not to starve the sandboxes. */
const CONCURRENCY = 3;
/** Beyond the code's own limit: the boot allowance (15 s, for a cold gVisor start on a busy machine), kill, teardown and verification. */
const KILL_SLACK_MS = 20_000;
/**
 * The wall clock of cases that set none. Generous: these cases expect an answer, and under
 * gVisor's ptrace platform every syscall is slow, more so when CI runs other suites beside.
 * Cases about the time limit set their own.
 */
const DEFAULT_TIMEOUT_MS = 10_000;

interface CaseResult {
  name: string;
  ms: number;
  output?: unknown;
  error?: { code?: string; message: string };
  events: RunEventBody[];
}

let tcp: Server;
let http: HttpServer;
let udp: UdpSocket;
let sentinel: ChildProcess;
let connections = 0;
let datagrams = 0;
const httpRequests: string[] = [];
const secretEnvName = 'LOOM_HOSTILE_TEST_SECRET';
const secretEnvValue = `s3cret-${process.pid}-value`;
let host: HostFacts;

beforeAll(async () => {
  process.env[secretEnvName] = secretEnvValue;
  tcp = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  http = createHttpServer((req, res) => {
    httpRequests.push(req.url ?? '');
    res.end('granted');
  });
  udp = createSocket('udp4').on('message', () => datagrams++);
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  // A host process with the sandbox's own uid: signals from inside must not reach it.
  sentinel = spawn('/bin/sleep', ['600'], { uid: 65534, gid: 65534, stdio: 'ignore' });
  const canaryDir = mkdtempSync(join(tmpdir(), 'loom-canary-'));
  writeFileSync(join(canaryDir, 'secret.txt'), 'host secret');
  host = {
    hostPid: process.pid,
    sentinelPid: sentinel.pid!,
    tcpPort: (tcp.address() as { port: number }).port,
    httpPort: (http.address() as { port: number }).port,
    udpPort: udp.address().port,
    canaryDir,
    canaryFile: join(canaryDir, 'secret.txt'),
    repoFile: join(REPO_ROOT, 'package.json'),
    secretEnvName,
    secretEnvValue,
    connections: () => connections,
    datagrams: () => datagrams,
    httpRequests: () => httpRequests,
  };
});

afterAll(() => {
  sentinel?.kill('SIGKILL');
  if (host?.canaryDir) rmSync(host.canaryDir, { recursive: true, force: true });
  tcp?.close();
  http?.close();
  udp?.close();
});

async function runCase(driver: SandboxDriver, hostile: HostileCase, index: number): Promise<CaseResult> {
  const events: RunEventBody[] = [];
  const settings = { allowHosts: hostile.allowHosts ?? [] } as unknown as FlowSettings;
  const language = hostile.language ?? 'javascript';
  const code = language === 'python' ? `${PY_PRELUDE}\n${hostile.code}` : `${JS_PRELUDE}\n${hostile.code}`;
  const input = { ...host };
  const started = Date.now();
  const signal = new AbortController().signal;
  const execution = {
    signal,
    sleep: (ms: number) => systemClock.sleep(ms, signal),
    scope: {} as never,
    settings,
    context: { sandbox: driver, http: fetchHttpClient } as never,
    nodeId: `case-${index}`,
    taskId: `case-${index}/1`,
    emit: (event: RunEventBody) => events.push(event),
  };
  const limits = { wallClockMs: hostile.timeoutMs ?? DEFAULT_TIMEOUT_MS, memoryMb: hostile.memoryMb ?? 256, ...(hostile.maxOutputBytes ? { outputBytes: hostile.maxOutputBytes } : {}) };
  try {
    const output = await runCodeInSandbox({ language, code, input: JSON.parse(JSON.stringify(input)), limits }, execution);
    return { name: hostile.name, ms: Date.now() - started, output, events };
  } catch (error) {
    const { code: errorCode, message } = error as { code?: string; message: string };
    return { name: hostile.name, ms: Date.now() - started, error: { ...(errorCode ? { code: errorCode } : {}), message }, events };
  }
}

/** Runs the cases `CONCURRENCY` at a time, in order. */
async function runAll(driver: SandboxDriver, cases: HostileCase[]): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const index = next++;
      results[index] = await runCase(driver, cases[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

const pythonHere = (() => {
  try {
    readFileSync('/usr/bin/python3');
    return true;
  } catch {
    return false;
  }
})();

it('has at least 50 hostile payloads', () => {
  expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(50);
});

for (const candidate of testDrivers()) {
  describe.skipIf(candidate.skip)(`hostile payloads in ${candidate.name}`, () => {
    const cases = HOSTILE_CASES.filter((c) => (!c.only || c.only.includes(candidate.name)) && (c.language !== 'python' || pythonHere));
    let results: CaseResult[] = [];
    let driver: SandboxDriver;
    let stateDir: string | undefined;

    beforeAll(async () => {
      const inner = candidate.make() as GvisorDriver;
      stateDir = inner.stateDir;
      driver = new WarmSandboxPool(inner, { size: 2 });
      const started = Date.now();
      results = await runAll(driver, cases);
      console.log(`${candidate.name}: ${cases.length} hostile payloads in ${Date.now() - started} ms`);
      for (const result of results) {
        const outcome = result.error ? `${result.error.code}: ${result.error.message.slice(0, 90)}` : `output ${JSON.stringify(result.output)?.slice(0, 90)}`;
        console.log(`  [${candidate.name}] ${result.name} (${result.ms} ms) -> ${outcome}`);
      }
    }, 600_000);

    afterAll(async () => {
      await driver?.close?.();
    });

    it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, index) => {
      const hostile = cases[index]!;
      const result = results[index]!;
      const types = result.events.map((e) => e.type);
      // Every case has its sandbox's audit trail, beginning and end, and left nothing behind.
      expect(types[0]).toBe('sandbox.created');
      expect(types.at(-1)).toBe('sandbox.cleaned');
      expect(result.events.at(-1)).toMatchObject({ ok: true, leftovers: [] });
      expect(result.ms).toBeLessThan((hostile.timeoutMs ?? DEFAULT_TIMEOUT_MS) + KILL_SLACK_MS);
      const outcome = hostile.expect;
      if (outcome.kind === 'output') {
        expect(result.error, `expected an output, got ${JSON.stringify(result.error)}`).toBeUndefined();
        outcome.check(result.output, host);
        return;
      }
      expect(result.error, `expected ${outcome.code}, got output ${JSON.stringify(result.output)?.slice(0, 200)}`).toBeDefined();
      expect(outcome.code.split('|')).toContain(result.error!.code);
      if (outcome.message) expect(result.error!.message).toMatch(outcome.message);
      if (outcome.violation && result.error!.code !== 'code_error') {
        expect(result.events).toContainEqual(expect.objectContaining({ type: 'sandbox.violation', kind: outcome.violation }));
      }
      if (outcome.violation === 'network') expect(result.events).toContainEqual(expect.objectContaining({ type: 'sandbox.violation', kind: 'network' }));
      if (outcome.killed) expect(result.events).toContainEqual(expect.objectContaining({ type: 'sandbox.killed', reason: outcome.killed }));
    });

    it('left no process, and the host files and services untouched', async () => {
      await driver.close?.();
      // gVisor: every runsc process names the driver's state directory (its bundles, its --root).
      if (stateDir) expect(processesContaining(stateDir)).toEqual([]);
      expect(readdirSync(host.canaryDir)).toEqual(['secret.txt']);
      expect(readFileSync(host.canaryFile, 'utf8')).toBe('host secret');
      expect(connections).toBe(0);
      expect(datagrams).toBe(0);
      expect(() => process.kill(host.sentinelPid, 0)).not.toThrow();
    });
  });
}
