import { existsSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import type { RunEventBody } from '@loom/shared';
import { errorMessage, NodeError } from '../errors.js';
import { hostAllowed } from '../skills/io.js';
import type { SkillExecution } from '../skills/skill.js';
import { resolveSandboxLimits, SandboxError, type SandboxAudit, type SandboxLimits, type SandboxMount, type SandboxProcess, type SandboxSpawnSpec } from './driver.js';
import { FETCH_MARK, JAVASCRIPT_RUNNER, PYTHON_RUNNER, READY_MARK, RESULT_MARK } from './runners.js';

export type CodeLanguage = 'javascript' | 'python';

export interface CodeCall {
  language: CodeLanguage;
  code: string;
  input: unknown;
  limits: Partial<SandboxLimits>;
}

/** Text kept per output stream in a `sandbox.output` event. */
const OUTPUT_EVENT_CHARS = 64 * 1024;
/** Bodies the fetch bridge hands to the code. */
const FETCH_MAX_BYTES = 5_000_000;
/** How long a sandbox may take to exit on its own once its result is in. */
const EXIT_GRACE_MS = 2_000;
/**
 * Time a sandbox may take to boot, on top of the code's own limit. The code's limit counts
 * from the runner's ready frame (a cold gVisor start takes 0.3 s idle, seconds on a busy
 * machine); the driver's wall clock, at limit + this, catches a sandbox that never boots.
 */
const START_ALLOWANCE_MS = 15_000;

const sandboxCounters = new WeakMap<object, number>();

interface RuntimeSpec {
  command: string;
  args: string[];
  mounts: SandboxMount[];
  env: Record<string, string>;
}

/** The interpreter and its arguments for a language. Host paths only; the driver maps them in read-only. */
export function codeRuntime(language: CodeLanguage, limits: SandboxLimits): RuntimeSpec {
  if (language === 'javascript') {
    // Below the sandbox's memory limit, so a runaway heap is a JavaScript error first, not a kill.
    const heapMb = Math.max(16, Math.floor(limits.memoryMb * 0.6));
    return { command: process.execPath, args: [`--max-old-space-size=${heapMb}`, '--stack-size=900', '-e', JAVASCRIPT_RUNNER], mounts: [], env: { NODE_OPTIONS: '' } };
  }
  const python = '/usr/bin/python3';
  if (!existsSync(python)) throw new NodeError(`python code cannot run: ${python} is not installed on this machine (Debian package python3)`, 'sandbox_unavailable', false);
  const version = basename(realpathSync(python)); // python3.11
  return {
    command: python,
    args: ['-I', '-S', '-B', '-c', PYTHON_RUNNER],
    mounts: existsSync(`/usr/lib/${version}`) ? [{ source: `/usr/lib/${version}` }] : [],
    env: { PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' },
  };
}

/**
 * Runs code once in a sandbox of its own and answers its output. Everything around it is
 * written to the run's log as `sandbox.*` events: created (driver, limits), output,
 * violations, kills and the verified cleanup. Never runs code without a sandbox driver.
 */
export async function runCodeInSandbox(call: CodeCall, execution: SkillExecution): Promise<unknown> {
  const { context, signal, settings } = execution;
  const driver = context.sandbox;
  if (!driver) {
    throw new NodeError('code cannot run: this run has no sandbox driver (code never runs in the engine\'s own process; run it from a server or CLI with gVisor or bubblewrap)', 'sandbox_unavailable', false);
  }
  signal.throwIfAborted();
  const nodeId = execution.nodeId ?? 'code';
  const count = (sandboxCounters.get(execution) ?? 0) + 1;
  sandboxCounters.set(execution, count);
  const sandboxId = `${execution.taskId ?? nodeId}/code-${count}`;
  const emit = (body: Record<string, unknown>) => execution.emit?.({ nodeId, sandboxId, ...body } as RunEventBody);

  let limits: SandboxLimits;
  try {
    limits = resolveSandboxLimits(call.limits);
  } catch (error) {
    throw new NodeError(errorMessage(error), 'validation', false);
  }
  const runtime = codeRuntime(call.language, limits);
  const onAudit = (record: SandboxAudit) => {
    if (record.type === 'created') {
      emit({ type: 'sandbox.created', driver: record.driver, isolation: record.isolation, runtime: call.language, limits: { ...record.limits, wallClockMs: limits.wallClockMs }, allowHosts: [...settings.allowHosts] });
    } else if (record.type === 'violation') emit({ type: 'sandbox.violation', kind: record.kind, detail: record.detail });
    else if (record.type === 'killed' && record.reason !== 'killed') emit({ type: 'sandbox.killed', reason: record.reason, detail: record.detail });
  };
  const driverLimits = { ...limits, wallClockMs: limits.wallClockMs === 0 ? 0 : limits.wallClockMs + START_ALLOWANCE_MS };
  const spec: SandboxSpawnSpec = { command: runtime.command, args: runtime.args, env: runtime.env, mounts: runtime.mounts, limits: driverLimits, label: nodeId, onAudit };

  let proc: SandboxProcess;
  try {
    proc = await driver.spawn(spec);
  } catch (error) {
    const code = error instanceof SandboxError ? error.code : 'sandbox_start_failed';
    throw new NodeError(`code cannot run: ${errorMessage(error)}`, code, code !== 'sandbox_unavailable' && code !== 'sandbox_invalid_spec');
  }

  const stdout = new StreamText();
  const stderr = new StreamText();
  let result: { ok: boolean; output?: unknown; error?: { name?: string; message?: string } } | undefined;
  let pendingLine = '';
  const fetches: Promise<void>[] = [];
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  let codeTimer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  /** The code's own time limit, from the moment its interpreter is ready. A real timer, like the LLM transport's: it only ever ends in a kill, which the log records. */
  const startCodeClock = () => {
    if (limits.wallClockMs === 0 || codeTimer) return;
    codeTimer = setTimeout(() => {
      if (result) return;
      timedOut = true;
      const detail = `time limit of ${limits.wallClockMs} ms reached`;
      emit({ type: 'sandbox.violation', kind: 'timeout', detail });
      emit({ type: 'sandbox.killed', reason: 'timeout', detail });
      void proc.kill('timeout');
    }, limits.wallClockMs);
  };
  let blankLines = 0;
  const onLine = (line: string) => {
    if (line.startsWith(RESULT_MARK) || line.startsWith(FETCH_MARK)) blankLines = Math.max(0, blankLines - 1);
    if (line === READY_MARK) {
      startCodeClock();
    } else if (line.startsWith(RESULT_MARK) && !result) {
      if (codeTimer) clearTimeout(codeTimer);
      try {
        result = JSON.parse(line.slice(RESULT_MARK.length)) as typeof result;
      } catch {
        result = { ok: false, error: { name: 'ProtocolError', message: 'the code\'s result frame is not JSON' } };
      }
      // The runner exits on its own; a sandbox that lingers (children holding it open) is ended.
      graceTimer = setTimeout(() => void proc.kill('result received'), EXIT_GRACE_MS);
    } else if (line.startsWith(FETCH_MARK)) {
      fetches.push(bridgeFetch(line.slice(FETCH_MARK.length)));
    } else if (line === '') {
      // Frames start on a line of their own: hold blank lines until it is clear they are the code's.
      blankLines++;
    } else {
      stdout.add('\n'.repeat(blankLines) + line + '\n');
      blankLines = 0;
    }
  };
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    pendingLine += chunk;
    let at: number;
    while ((at = pendingLine.indexOf('\n')) >= 0) {
      onLine(pendingLine.slice(0, at));
      pendingLine = pendingLine.slice(at + 1);
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => stderr.add(chunk));

  /** One request of the code's `fetch`, made by the engine's HTTP client if the flow allows the host. */
  const bridgeFetch = async (text: string): Promise<void> => {
    let request: { id: number; url: string; method?: string; headers?: Record<string, string>; body?: string };
    try {
      request = JSON.parse(text) as typeof request;
    } catch {
      return;
    }
    const answer = (body: Record<string, unknown>) => proc.stdin.write(JSON.stringify({ id: request.id, ...body }) + '\n');
    const callId = `${sandboxId}/fetch-${request.id}`;
    const method = (request.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(request.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`only http and https URLs are allowed, got ${url.protocol}`);
    } catch (error) {
      answer({ error: errorMessage(error) });
      return;
    }
    if (!hostAllowed(url.hostname, settings.allowHosts)) {
      const detail = `fetch ${method} ${url.host}: host "${url.hostname}" is not in the flow's settings.allowHosts (${settings.allowHosts.length ? settings.allowHosts.join(', ') : 'empty'})`;
      emit({ type: 'sandbox.violation', kind: 'network', detail });
      answer({ error: detail });
      return;
    }
    try {
      const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
      const response = await context.http(url.toString(), { method, headers, signal, ...(request.body === undefined || request.body === null ? {} : { body: String(request.body) }) });
      const body = method === 'HEAD' ? '' : await response.text();
      if (Buffer.byteLength(body) > FETCH_MAX_BYTES) throw new Error(`response of more than ${FETCH_MAX_BYTES} bytes`);
      execution.emit?.({ type: 'tool.call', callId, nodeId, tool: 'fetch', args: { method, url: url.toString() }, result: { status: response.status } });
      answer({ status: response.status, headers: response.headers, body });
    } catch (error) {
      const message = errorMessage(error);
      execution.emit?.({ type: 'tool.call', callId, nodeId, tool: 'fetch', args: { method, url: url.toString() }, error: { message } });
      answer({ error: message });
    }
  };

  const cancel = () => void proc.kill('cancelled');
  signal.addEventListener('abort', cancel, { once: true });
  proc.stdin.write(JSON.stringify({ code: call.code, input: call.input ?? null }) + '\n');
  const exit = await proc.exited;
  signal.removeEventListener('abort', cancel);
  if (graceTimer) clearTimeout(graceTimer);
  if (codeTimer) clearTimeout(codeTimer);
  await Promise.allSettled(fetches);
  if (pendingLine) onLine(pendingLine);

  // V8 stops at its heap limit (set below the sandbox's) with a fatal error: a memory limit, said as such.
  const heapExhausted = !result && /heap out of memory|Allocation failed - JavaScript heap/.test(stderr.value());
  if (heapExhausted) emit({ type: 'sandbox.violation', kind: 'memory', detail: 'JavaScript heap limit reached' });
  for (const [stream, text] of [['stdout', stdout], ['stderr', stderr]] as const) {
    if (text.length === 0) continue;
    emit({ type: 'sandbox.output', stream, text: text.value(), ...(text.truncated ? { truncated: true } : {}) });
  }
  emit({ type: 'sandbox.cleaned', ok: exit.cleanup.ok, leftovers: exit.cleanup.leftovers, exitCode: exit.code });
  signal.throwIfAborted();

  if (timedOut) throw new NodeError(`code ran longer than its time limit of ${limits.wallClockMs} ms and was killed`, 'sandbox_timeout', false);
  if (exit.reason === 'timeout') throw new NodeError(`the sandbox did not start and finish within ${driverLimits.wallClockMs} ms (its boot allowance included) and was killed`, 'sandbox_timeout', false);
  if (exit.reason === 'memory') throw new NodeError(`code used more than its memory limit of ${limits.memoryMb} MB and was killed`, 'sandbox_memory', false);
  if (exit.reason === 'output_limit') throw new NodeError(`code wrote more than its output limit of ${limits.outputBytes} bytes and was killed`, 'sandbox_output_limit', false);
  if (!exit.cleanup.ok) throw new NodeError(`the sandbox was not cleaned up: ${exit.cleanup.leftovers.join(', ')}`, 'sandbox_cleanup_failed', false);
  if (heapExhausted) {
    throw new NodeError(`code ran out of memory: the JavaScript heap reached its limit (60% of memoryMb ${limits.memoryMb})`, 'sandbox_memory', false);
  }
  if (!result) {
    const tail = stderr.value().trim().split('\n').slice(-3).join(' | ');
    throw new NodeError(`code ended without a result (exit code ${exit.code ?? exit.signal})${tail ? `: ${tail}` : ''}`, 'code_crashed', false);
  }
  if (!result.ok) {
    const name = result.error?.name ?? 'Error';
    throw new NodeError(`${name}: ${result.error?.message ?? 'the code failed'}`, 'code_error', false);
  }
  return result.output;
}

/** A stream's text for its event: the first part, cut at a fixed size so events stay small. */
class StreamText {
  private text = '';
  length = 0;
  truncated = false;
  add(chunk: string): void {
    this.length += chunk.length;
    if (this.text.length >= OUTPUT_EVENT_CHARS) {
      this.truncated = true;
      return;
    }
    this.text += chunk;
    if (this.text.length > OUTPUT_EVENT_CHARS) {
      this.text = this.text.slice(0, OUTPUT_EVENT_CHARS);
      this.truncated = true;
    }
  }
  value(): string {
    return this.text;
  }
}
