import type { RunEvent } from '@loom/shared';
import type { LlmProvider } from '../llm/provider.js';
import type { McpToolSource } from '../mcp/source.js';
import type { SandboxDriver } from '../sandbox/driver.js';
import type { CancelSource } from './cancellation.js';

/**
 * Everything non-deterministic reaches the engine through this context: time, ids,
 * models, the network, and where events go. Engine logic never calls `Date.now()`,
 * `Math.random()` or `fetch` itself, so a run is a function of its flow, its input
 * and the answers its context gave — which the event log records.
 */
export interface EngineContext {
  clock: Clock;
  ids: IdSource;
  /** LLM providers by name: an agent's `model: "local/echo"` uses provider `local`. */
  llm: ReadonlyMap<string, LlmProvider>;
  http: HttpClient;
  /**
   * Secrets a flow names (e.g. `http.request`'s `auth.credential`). Leave it out when the
   * run may use none: skills then fail with `credential_unavailable`.
   * A value must never be written to an event: skills that use one redact it from every
   * output and error they produce, since an event log is stored and shown to users.
   */
  credentials?: CredentialSource;
  /**
   * Tools of registered MCP servers (`mcp` nodes, agents' MCP tools). Leave it out when the
   * run has none: such tools then fail with `mcp_unavailable`.
   */
  mcp?: McpToolSource;
  /**
   * Where untrusted code runs (code skills). Leave it out and code skills fail with
   * `sandbox_unavailable`: code never runs in the engine's own process.
   */
  sandbox?: SandboxDriver;
  /** The event sink: every event of the run, in order. */
  log: EventSink;
  /** Aborting cancels the run. */
  signal?: AbortSignal;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Resolves after `ms`; rejects with the cancel source's reason when it is cancelled
   * first. A clock that only knows AbortSignals can use `signalOf(cancel)`. (A property,
   * not a method, so TypeScript refuses a clock whose sleep accepts only AbortSignals.)
   */
  sleep: (ms: number, cancel?: CancelSource) => Promise<void>;
}

export interface IdSource {
  /** Id of a new run of `flowHash` with `input`. */
  runId(flowHash: string, input: unknown): string;
}

/**
 * Looks up a secret by name. `get` rejects with an Error whose message names the
 * credential when none by that name exists. A rejection carrying its own string `code`
 * and boolean `retryable` (a NodeError) keeps them, so a store can report a transient
 * failure as retryable; any other rejection means "not found".
 */
export interface CredentialSource {
  get(name: string, signal: AbortSignal): Promise<string>;
}

export interface EventSink {
  append(event: RunEvent): void;
}

/** The subset of `fetch` the engine uses, so tests and replays can answer requests. */
export type HttpClient = (url: string, init: HttpRequestInit) => Promise<HttpResponse>;

export interface HttpRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text(): Promise<string>;
  /**
   * The body as it arrives, for streamed answers (server-sent events). Read either this
   * or `text()`, not both. Clients that cannot stream leave it out; readers then use `text()`.
   */
  body?: AsyncIterable<Uint8Array>;
}
