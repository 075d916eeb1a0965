import { NodeError } from '../errors.js';
import type { LlmCallOptions, LlmProvider, LlmRequest, LlmResult, LlmToolCall } from './provider.js';

export const LOCAL_PROVIDER_NOTICE = 'local/echo: deterministic offline provider, not a language model';

/**
 * The provider for tests and the offline demo. It is not a model and says so in every
 * answer. Its behaviour is a fixed rule, so runs are reproducible:
 * - when tools are offered and the last user message names some of them (by name) and
 *   no tool has answered yet, it calls each named tool with `{ "text": <that message> }`;
 * - otherwise it answers with the user's message and any tool results, as text or JSON.
 * Token counts are word counts. It does not stream, and it makes no HTTP requests.
 */
export function createLocalProvider(): LlmProvider {
  return {
    name: 'local',
    async complete(request: LlmRequest, { signal }: LlmCallOptions): Promise<LlmResult> {
      signal.throwIfAborted();
      if (request.model !== 'echo') {
        throw new NodeError(`the local provider has one model, "echo"; got "${request.model}"`, 'unknown_model', false);
      }
      const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
      const userText = lastUser?.content ?? '';
      const userIndex = lastUser ? request.messages.lastIndexOf(lastUser) : -1;
      const toolResults = request.messages.slice(userIndex + 1).filter((m) => m.role === 'tool');
      const inputTokens = countWords(request.messages.map((m) => m.content).join(' '));

      if (toolResults.length === 0 && request.tools.length > 0) {
        const mentioned = request.tools.filter((tool) => new RegExp(`\\b${escapeRegExp(tool.name)}\\b`, 'i').test(userText));
        if (mentioned.length > 0) {
          const toolCalls: LlmToolCall[] = mentioned.map((tool, i) => ({ id: `call_${i + 1}`, name: tool.name, args: { text: userText } }));
          return { content: '', toolCalls, tokens: { input: inputTokens, output: toolCalls.length * 3 } };
        }
      }

      const calls = new Map<string, string>();
      for (const message of request.messages) for (const call of message.toolCalls ?? []) calls.set(call.id, call.name);
      const results = toolResults.map((m) => ({ tool: calls.get(m.toolCallId ?? '') ?? 'unknown', result: m.content }));
      const content =
        request.responseFormat === 'json'
          ? JSON.stringify({ provider: LOCAL_PROVIDER_NOTICE, echo: userText, toolResults: results })
          : `[${LOCAL_PROVIDER_NOTICE}] You said: ${userText}` + results.map((r) => `\n- ${r.tool}: ${r.result}`).join('');
      return { content, toolCalls: [], tokens: { input: inputTokens, output: countWords(content) } };
    },
  };
}

function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
