import { credentialEnvName } from '../context/defaults.js';
import type { CredentialSource, HttpResponse } from '../context/context.js';
import { errorMessage, NodeError } from '../errors.js';
import { DEFAULT_RETRY, LlmError, parseRetryAfter, withRetries, type LlmRetrySettings } from './http-retry.js';
import type { LlmCallOptions, LlmDelta, LlmResult } from './provider.js';
import { SseParser, type SseEvent } from './sse.js';

/**
 * The HTTP side every remote provider shares: the API key, retries, timeouts, reading a
 * streamed body, and turning HTTP failures into errors that say what to fix. Providers
 * only build their request body and read their protocol.
 */

/** Settings every remote provider takes. */
export interface TransportSettings {
  retry: LlmRetrySettings;
  /** A streamed answer silent for this long (no headers, no bytes) is retried as `llm_timeout`. */
  stallTimeoutMs: number;
  /** Default limit for one request, first byte to last; an agent's `requestTimeoutMs` overrides it. */
  requestTimeoutMs: number;
}

/** What a provider's configuration may say about its transport; every provider takes these. */
export interface TransportConfig {
  retry?: Partial<LlmRetrySettings>;
  /** Default 60,000. */
  stallTimeoutMs?: number;
  /** Default 600,000. */
  requestTimeoutMs?: number;
}

export function transportSettings(config: TransportConfig): TransportSettings {
  return {
    retry: { ...DEFAULT_RETRY, ...config.retry },
    stallTimeoutMs: config.stallTimeoutMs ?? 60_000,
    requestTimeoutMs: config.requestTimeoutMs ?? 600_000,
  };
}

export interface ModelPricing {
  /** US dollars per million input (prompt) tokens. */
  inputPerMTok: number;
  /** US dollars per million output (completion) tokens. */
  outputPerMTok: number;
}

export interface PostModel {
  /** Provider name, for messages. */
  provider: string;
  model: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** Sends credential `name` as `header: prefix + key`. */
  auth?: { credential: string; header: string; prefix: string };
  stream: boolean;
}

/** What a protocol reader gets for one response. */
export interface ResponseReader {
  response: HttpResponse;
  /** Call for every piece of the body: it resets the stall timer. */
  alive(): void;
  /** Streamed text, coalesced before it reaches the agent. */
  deltas: DeltaBuffer;
}

export type Redact = (text: string) => string;

/**
 * Posts a model request with retries. `read` turns one successful response into a result;
 * it may throw `LlmError`s (a retryable one is retried like a 5xx). The result and any
 * error are cleaned of the API key before they leave.
 */
export async function postModel(
  post: PostModel,
  options: LlmCallOptions,
  settings: TransportSettings,
  read: (reader: ResponseReader) => Promise<LlmResult>,
): Promise<LlmResult> {
  let redact: Redact = (text) => text;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: post.stream ? 'text/event-stream' : 'application/json', ...post.headers };
  if (post.auth) {
    const secret = await resolveApiKey(options.credentials, post.auth.credential, post.provider, options.signal);
    redact = redactor(secret, post.auth.credential);
    headers[post.auth.header] = post.auth.prefix + secret;
  }
  const body = JSON.stringify(post.body);
  try {
    const { value, attempts } = await withRetries((attempt) => requestOnce(post, headers, body, attempt, options, settings, read, redact), {
      clock: options.clock,
      signal: options.signal,
      settings: settings.retry,
      id: options.callId,
    });
    return redactResult({ ...value, attempts }, redact);
  } catch (error) {
    throw redactError(error, redact);
  }
}

async function requestOnce(
  post: PostModel,
  headers: Record<string, string>,
  body: string,
  attempt: number,
  options: LlmCallOptions,
  settings: TransportSettings,
  read: (reader: ResponseReader) => Promise<LlmResult>,
  redact: Redact,
): Promise<LlmResult> {
  const controller = new AbortController();
  const forward = () => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', forward, { once: true });
  if (options.signal.aborted) forward();
  const where = describeUrl(post.url);
  // Watchdogs on a real socket use real timers: only real time can tell that a server has
  // gone quiet, and a virtual clock (which jumps ahead whenever everything waits) would
  // call every request stalled. Retry waits, which a run decides, use the run's clock.
  let expired: LlmError | undefined;
  const expire = (error: LlmError) => {
    expired ??= error;
    controller.abort(error);
  };
  const requestTimeoutMs = options.requestTimeoutMs ?? settings.requestTimeoutMs;
  const requestTimer = setTimeout(
    () => expire(new LlmError(`${post.provider}: no complete answer from ${where} within ${requestTimeoutMs} ms`, 'llm_timeout', true)),
    requestTimeoutMs,
  );
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  const alive = () => {
    if (!post.stream) return;
    clearTimeout(stallTimer);
    stallTimer = setTimeout(
      () => expire(new LlmError(`${post.provider}: the stream from ${where} stalled (nothing for ${settings.stallTimeoutMs} ms)`, 'llm_timeout', true)),
      settings.stallTimeoutMs,
    );
  };
  alive();
  let deltas: DeltaBuffer | undefined;
  try {
    let response: HttpResponse;
    try {
      response = await options.http(post.url, { method: 'POST', headers, body, signal: controller.signal });
    } catch (error) {
      if (options.signal.aborted || expired) throw error;
      throw new LlmError(`${post.provider}: could not reach ${where}: ${errorMessage(error)}`, 'llm_network', true);
    }
    alive();
    if (response.status >= 400 || response.status < 200) {
      const text = await response.text().catch(() => '');
      throw httpError(post, response.status, response.headers, text, options.clock.now());
    }
    deltas = new DeltaBuffer(options, attempt, redact);
    const result = await read({ response, alive, deltas });
    deltas.flush();
    return result;
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason ?? error;
    // What arrived before a stall or a break is shown too; a retry starts its own text.
    deltas?.flush();
    if (expired) throw expired;
    if (error instanceof NodeError) throw error;
    // The body broke off (connection reset) or a reader bug: either way a new request may work.
    throw new LlmError(`${post.provider}: the answer from ${where} broke off: ${errorMessage(error)}`, 'llm_network', true);
  } finally {
    clearTimeout(requestTimer);
    clearTimeout(stallTimer);
    options.signal.removeEventListener('abort', forward);
  }
}

/** The HTTP failure as an error that says what went wrong and whether a retry could help. */
export function httpError(post: Pick<PostModel, 'provider' | 'model' | 'url' | 'auth'>, status: number, headers: Record<string, string>, text: string, now: number): LlmError {
  const where = describeUrl(post.url);
  const detail = providerMessage(text);
  const said = detail ? `: ${detail}` : '';
  if (status === 401 || status === 403) {
    const message = post.auth
      ? `${post.provider}: the API key in credential "${post.auth.credential}" was refused by ${where} (HTTP ${status}${said})`
      : `${post.provider}: ${where} refused the request (HTTP ${status}${said}); it may need an API key: configure the provider with a credential`;
    return new LlmError(message, 'llm_auth', false);
  }
  const aboutModel = /model/i.test(detail) && /not[ _]found|does not exist|doesn't exist|unknown|invalid|not supported|no such|not available|pull/i.test(detail);
  if (status === 404 || ((status === 400 || status === 422) && aboutModel)) {
    const hint = aboutModel ? '' : ` (or ${where} is not the provider's API: check its base URL)`;
    return new LlmError(`${post.provider}: model "${post.model}" is not available at ${where}${hint} (HTTP ${status}${said})`, 'llm_unknown_model', false);
  }
  const retryAfterMs = parseRetryAfter(headers, now);
  if (status === 429) return new LlmError(`${post.provider}: rate limited by ${where} (HTTP 429${said})`, 'llm_rate_limited', true, retryAfterMs);
  if (status === 408) return new LlmError(`${post.provider}: ${where} timed out (HTTP 408${said})`, 'llm_timeout', true, retryAfterMs);
  if (status >= 500) return new LlmError(`${post.provider}: server error from ${where} (HTTP ${status}${said})`, 'llm_server_error', true, retryAfterMs);
  return new LlmError(`${post.provider}: ${where} rejected the request (HTTP ${status}${said})`, 'llm_bad_request', false);
}

/** The error text of an OpenAI-style, Anthropic-style or Ollama-style error body; else the body's start. */
function providerMessage(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  try {
    const json = JSON.parse(trimmed) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = json.error;
    if (typeof error === 'string') return error.slice(0, 500);
    if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message.slice(0, 500);
    if (typeof json.message === 'string') return json.message.slice(0, 500);
    if (typeof json.detail === 'string') return json.detail.slice(0, 500);
  } catch {
    // Not JSON: a proxy's HTML or text page.
  }
  return trimmed.replace(/\s+/g, ' ').slice(0, 300);
}

/** Origin and path, never the query: some gateways take keys as query parameters. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return url;
  }
}

/** A base URL from configuration, checked once, without a trailing slash. */
export function checkBaseUrl(baseUrl: string, provider: string): string {
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new Error(`${provider}: baseUrl ${JSON.stringify(baseUrl)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`${provider}: baseUrl must be http or https, got ${parsed.protocol}`);
  return baseUrl.replace(/\/+$/, '');
}

/**
 * Reads a server-sent event stream, calling `onEvent` for each event in order. A client
 * without a streaming body gives the whole text at once, which parses the same.
 */
export async function readSse(reader: ResponseReader, onEvent: (event: SseEvent) => void): Promise<void> {
  const parser = new SseParser();
  const { response } = reader;
  if (!response.body) {
    const text = await response.text();
    reader.alive();
    for (const event of [...parser.push(text), ...parser.end()]) onEvent(event);
    return;
  }
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    reader.alive();
    for (const event of parser.push(decoder.decode(chunk, { stream: true }))) onEvent(event);
  }
  for (const event of [...parser.push(decoder.decode()), ...parser.end()]) onEvent(event);
}

/** Parses a JSON body or an SSE event's data, as an `llm_invalid_response` when it is not JSON. */
export function parseJson(text: string, provider: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new LlmError(`${provider}: ${what} is not JSON: ${text.slice(0, 200)}`, 'llm_invalid_response', true);
  }
}

/**
 * Coalesces streamed text: a delta goes out once 64 characters have gathered, or when a
 * chunk arrives 50 ms (on the run's clock) after the last delta went out; the rest when
 * the answer ends. A 1,000-token answer is tens of events, not a thousand; on a virtual
 * clock the cut depends on the text alone, so tests and replays see the same deltas.
 */
export class DeltaBuffer {
  static readonly MAX_CHARS = 64;
  static readonly MAX_DELAY_MS = 50;
  private pending = '';
  private last: number;

  constructor(
    private readonly options: Pick<LlmCallOptions, 'onDelta' | 'clock'>,
    private readonly attempt: number,
    /** Takes the API key out of the text, should a server echo it. */
    private readonly redact: Redact = (text) => text,
  ) {
    this.last = options.clock.now();
  }

  push(text: string): void {
    if (text === '' || !this.options.onDelta) return;
    this.pending += text;
    const now = this.options.clock.now();
    if (this.pending.length >= DeltaBuffer.MAX_CHARS || now - this.last >= DeltaBuffer.MAX_DELAY_MS) this.flush(now);
  }

  flush(now = this.options.clock.now()): void {
    if (this.pending === '' || !this.options.onDelta) return;
    const delta: LlmDelta = { text: this.redact(this.pending), attempt: this.attempt };
    this.pending = '';
    this.last = now;
    this.options.onDelta(delta);
  }
}

export function costOf(pricing: Record<string, ModelPricing> | undefined, model: string, tokens: { input: number; output: number }): number | undefined {
  const price = pricing?.[model];
  if (!price) return undefined;
  return (tokens.input * price.inputPerMTok + tokens.output * price.outputPerMTok) / 1_000_000;
}

/** A count from a usage object, 0 when absent. */
export function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

/** Tool arguments as the model wrote them: JSON text, parsed; left as text when it is not JSON, so the agent can tell the model. */
export function parseToolArgs(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? {};
  if (value.trim() === '') return {};
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * Reads the API key. A missing, empty or unusable one is a `credential_*` error a retry
 * cannot fix; a store's own NodeError (say, a retryable outage) keeps its code.
 */
async function resolveApiKey(source: CredentialSource | undefined, name: string, provider: string, signal: AbortSignal): Promise<string> {
  if (!source) {
    throw new NodeError(
      `${provider}: credential "${name}" with the API key is not available: this run has no credential store (runs started from the CLI can set ${credentialEnvName(name)})`,
      'credential_unavailable',
      false,
    );
  }
  let value: string;
  try {
    value = await source.get(name, signal);
  } catch (error) {
    if (signal.aborted || error instanceof NodeError) throw error;
    const message = errorMessage(error);
    throw new NodeError(`${provider}: ${message.includes(`"${name}"`) ? message : `credential "${name}" was not found: ${message}`}`, 'credential_not_found', false);
  }
  signal.throwIfAborted();
  if (typeof value !== 'string' || value === '') throw new NodeError(`${provider}: credential "${name}" is empty`, 'credential_not_found', false);
  if (/[\r\n\0]/.test(value)) throw new NodeError(`${provider}: credential "${name}" contains a line break or NUL, which a header cannot carry`, 'credential_invalid', false);
  return value;
}

/** Replaces the key with `[redacted:<name>]`, as written and as a server echoing it might encode it. */
export function redactor(secret: string, name: string): Redact {
  const forms = [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])].sort((a, b) => b.length - a.length);
  const marker = `[redacted:${name}]`;
  return (text) => {
    let result = text;
    for (const form of forms) if (result.includes(form)) result = result.split(form).join(marker);
    return result;
  };
}

function redactResult(result: LlmResult, redact: Redact): LlmResult {
  const content = redact(result.content);
  const toolCalls = result.toolCalls.map((call) => ({ id: redact(call.id), name: redact(call.name), args: redactValue(call.args, redact) }));
  return { ...result, content, toolCalls };
}

function redactValue(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redact));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [redact(key), redactValue(item, redact)]));
  return value;
}

/** The same error with the key taken out of its message; a plain copy keeps only what decides retries. */
function redactError(error: unknown, redact: Redact): unknown {
  const message = errorMessage(error);
  const redacted = redact(message);
  if (redacted === message) return error;
  if (error instanceof LlmError) return new LlmError(redacted, error.code, error.retryable, error.retryAfterMs);
  if (error instanceof NodeError) return new NodeError(redacted, error.code, error.retryable);
  const copy = new Error(redacted);
  const { code, retryable } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; retryable?: unknown };
  return Object.assign(copy, typeof code === 'string' ? { code } : {}, typeof retryable === 'boolean' ? { retryable } : {});
}
