import type { ChatMessage } from '@loom/shared';

/** One model call. Providers translate it to their own protocol. */
export interface LlmRequest {
  model: string;
  messages: ChatMessage[];
  tools: LlmToolSpec[];
  temperature: number;
  maxTokens?: number;
  responseFormat: 'text' | 'json';
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
}

export interface LlmProvider {
  /** The prefix of `provider/model` names that selects this provider. */
  readonly name: string;
  complete(request: LlmRequest, signal: AbortSignal): Promise<LlmResult>;
}
