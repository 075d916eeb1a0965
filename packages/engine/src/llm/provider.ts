import type { ChatMessage } from '@loom/shared';
import type { Clock, CredentialSource, HttpClient } from '../context/context.js';

/** One model call. Providers translate it to their own protocol. */
export interface LlmRequest {
  model: string;
  messages: ChatMessage[];
  tools: LlmToolSpec[];
  temperature: number;
  maxTokens?: number;
  responseFormat: 'text' | 'json';
  /** JSON Schema the answer must match; providers that can constrain their output use it. */
  outputSchema?: Record<string, unknown>;
}

export interface LlmToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface LlmToolCall {
  id: string;
  name: string;
  args: unknown;
}

export interface LlmResult {
  content: string;
  toolCalls: LlmToolCall[];
  tokens: { input: number; output: number };
  costUsd?: number;
  /** Why the model stopped, in the provider's words (`stop`, `length`, `tool_calls`, `end_turn`...). */
  finishReason?: string;
  /** HTTP requests the call took, when the provider made any. */
  attempts?: number;
}

/** Text of an answer as it streams in; `attempt` counts the provider's HTTP requests for this call. */
export interface LlmDelta {
  text: string;
  attempt: number;
}

/**
 * Everything a call may use besides the request. Providers reach the network, secrets
 * and time only through these, so tests and replays control all of a call's I/O.
 */
export interface LlmCallOptions {
  /** Aborts the call: an open request or stream is closed. */
  signal: AbortSignal;
  /** Unique within the run and the same in every replay of it (`<taskId>/llm/<turn>`). */
  callId: string;
  http: HttpClient;
  /** Waits between retries go through it, so a virtual clock skips them. */
  clock: Clock;
  credentials?: CredentialSource;
  /** Credential holding the API key, overriding the provider's own default. */
  credential?: string;
  /** Stream the answer (when the provider can), reporting text through `onDelta`. */
  stream: boolean;
  /** Streamed text, coalesced into chunks; called in order, before the call resolves. */
  onDelta?: (delta: LlmDelta) => void;
  /** Limit for one HTTP request, first byte to last. */
  requestTimeoutMs?: number;
}

export interface LlmProvider {
  /** The prefix of `provider/model` names that selects this provider. */
  readonly name: string;
  complete(request: LlmRequest, options: LlmCallOptions): Promise<LlmResult>;
}
