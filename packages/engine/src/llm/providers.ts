import { createAnthropicProvider } from './anthropic.js';
import { createLocalProvider } from './local.js';
import { createOpenAiProvider } from './openai.js';
import type { LlmProvider } from './provider.js';

export interface StandardProviderOptions {
  /** OpenAI or any compatible server (vLLM, llama.cpp, LM Studio…); key in credential `openai`. */
  openaiBaseUrl?: string;
  /** Anthropic Messages; key in credential `anthropic`. */
  anthropicBaseUrl?: string;
  /** Ollama's OpenAI-compatible endpoint; no key. */
  ollamaBaseUrl?: string;
}

/**
 * The providers a server or the CLI offers by default, by the `provider` of `provider/model`:
 * `local` (the deterministic offline stand-in), `openai`, `anthropic` and `ollama`. Keys come
 * from the run's credential source when a call is made, so registering a provider needs none.
 */
export function createStandardProviders(options: StandardProviderOptions = {}): Map<string, LlmProvider> {
  const providers: LlmProvider[] = [
    createLocalProvider(),
    createOpenAiProvider({ credential: 'openai', ...(options.openaiBaseUrl ? { baseUrl: options.openaiBaseUrl } : {}) }),
    createAnthropicProvider({ credential: 'anthropic', ...(options.anthropicBaseUrl ? { baseUrl: options.anthropicBaseUrl } : {}) }),
    createOpenAiProvider({ name: 'ollama', baseUrl: options.ollamaBaseUrl ?? 'http://127.0.0.1:11434/v1' }),
  ];
  return new Map(providers.map((provider) => [provider.name, provider]));
}
