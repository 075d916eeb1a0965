import type { RunEvent, RunEventOf } from '@loom/shared';
import { canonicalJson } from '../graph/hash.js';
import { NodeError } from '../errors.js';
import type { LlmCallOptions, LlmProvider, LlmRequest, LlmResult } from './provider.js';

interface RecordedCall {
  request?: RunEventOf<'llm.request'>;
  deltas: RunEventOf<'llm.delta'>[];
  response?: RunEventOf<'llm.response'>;
}

/**
 * Providers that answer every model call from a recorded run log, for re-running a run
 * without a model: each call (by its call id, which is the same in every run of a flow
 * and input) gets the recorded `llm.response`, after the recorded `llm.delta`s, so the
 * new log matches the old one. They never reach the network.
 *
 * A call the log does not hold, or one whose request differs from the recorded one
 * (another model, other messages), fails with `replay_missing` / `replay_diverged`
 * rather than getting an answer to a different question.
 *
 * The map holds a provider for every provider name the log used.
 */
export function createReplayProviders(events: Iterable<RunEvent>): Map<string, LlmProvider> {
  const calls = new Map<string, RecordedCall>();
  const names = new Set<string>();
  const recorded = (callId: string) => {
    let call = calls.get(callId);
    if (!call) calls.set(callId, (call = { deltas: [] }));
    return call;
  };
  for (const event of events) {
    if (event.type === 'llm.request') {
      recorded(event.callId).request = event;
      names.add(event.provider);
    } else if (event.type === 'llm.delta') {
      recorded(event.callId).deltas.push(event);
    } else if (event.type === 'llm.response') {
      recorded(event.callId).response = event;
      names.add(event.provider);
    }
  }
  return new Map([...names].map((name) => [name, replayProvider(name, calls)]));
}

function replayProvider(name: string, calls: ReadonlyMap<string, RecordedCall>): LlmProvider {
  return {
    name,
    async complete(request: LlmRequest, options: LlmCallOptions): Promise<LlmResult> {
      options.signal.throwIfAborted();
      const call = calls.get(options.callId);
      const response = call?.response;
      if (!call?.request || !response) {
        throw new NodeError(
          `replay: model call "${options.callId}" (${name}/${request.model}) has no recorded ${call?.request ? 'response' : 'request'} in the log; a replay never calls a provider`,
          'replay_missing',
          false,
        );
      }
      const difference = differs(call.request, name, request);
      if (difference) throw new NodeError(`replay: model call "${options.callId}" differs from the recorded one: ${difference}`, 'replay_diverged', false);
      for (const delta of call.deltas) options.onDelta?.({ text: delta.text, attempt: delta.attempt ?? 1 });
      if (response.error) {
        const { message, code, retryable } = response.error;
        throw Object.assign(new Error(message), code === undefined ? {} : { code }, retryable === undefined ? {} : { retryable });
      }
      return {
        content: response.content,
        toolCalls: response.toolCalls ?? [],
        tokens: response.tokens,
        ...(response.costUsd !== undefined ? { costUsd: response.costUsd } : {}),
        ...(response.finishReason !== undefined ? { finishReason: response.finishReason } : {}),
        ...(response.attempts !== undefined ? { attempts: response.attempts } : {}),
      };
    },
  };
}

function differs(recorded: RunEventOf<'llm.request'>, provider: string, request: LlmRequest): string | undefined {
  if (recorded.provider !== provider || recorded.model !== request.model) return `model ${provider}/${request.model}, recorded ${recorded.provider}/${recorded.model}`;
  if (canonicalJson(recorded.messages) !== canonicalJson(request.messages)) {
    const index = request.messages.findIndex((message, i) => canonicalJson(message) !== canonicalJson(recorded.messages[i] ?? null));
    if (index < 0) return `${request.messages.length} messages, recorded ${recorded.messages.length}`;
    return `messages[${index}] (${request.messages[index]!.role}) is not the recorded message`;
  }
  const tools = request.tools.map((t) => t.name);
  if (canonicalJson(recorded.tools ?? []) !== canonicalJson(tools)) return `tools [${tools.join(', ')}], recorded [${(recorded.tools ?? []).join(', ')}]`;
  return undefined;
}
