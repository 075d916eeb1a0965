import type { RunEvent, RunEventBody } from '../schema.js';

/**
 * A hand-written log of a successful run of a small research flow:
 * `in -> route -> fetch -> write -> out`, with `route` skipping the `fallback` branch,
 * `fetch` failing once (HTTP 503) and succeeding on its retry, and `write` an agent
 * that calls one tool, is supervised for two steps and reports metrics.
 */
export const RESEARCH_RUN_ID = 'run-research-1';

/** Numbers `entries` 1, 2, 3...; keys come in the schema's order, so a decoded log re-encodes byte for byte. */
export function runLog(runId: string, entries: readonly [ts: number, body: RunEventBody][]): RunEvent[] {
  return entries.map(([ts, body], i) => ({ v: 1, runId, seq: i + 1, ts, ...body }) as RunEvent);
}

const fetchError = { message: 'GET https://example.com/tides: HTTP 503', code: 'http_status', nodeId: 'fetch', retryable: true };

export const researchRunLog: RunEvent[] = runLog(RESEARCH_RUN_ID, [
  [1000, { type: 'run.started', flowId: 'research', flowHash: 'sha256:abc123', nodeIds: ['in', 'route', 'fallback', 'fetch', 'write', 'out'], input: { topic: 'tides' } }],
  [1000, { type: 'node.status', nodeId: 'in', status: 'running', attempt: 1 }],
  [1001, { type: 'node.status', nodeId: 'in', status: 'succeeded', attempt: 1, output: { topic: 'tides' } }],
  [1002, { type: 'node.status', nodeId: 'route', status: 'running', attempt: 1 }],
  [1003, { type: 'node.status', nodeId: 'route', status: 'succeeded', attempt: 1, output: { topic: 'tides' }, ports: ['web'] }],
  [1003, { type: 'node.status', nodeId: 'fallback', status: 'skipped', attempt: 0 }],
  // seq 7: fetch's first attempt, which fails and waits 200 ms for its retry.
  [1004, { type: 'node.status', nodeId: 'fetch', status: 'running', attempt: 1 }],
  [1004, { type: 'task.assigned', taskId: 'fetch#1', nodeId: 'fetch', assignee: 'skill:http.request', input: { url: 'https://example.com/tides' } }],
  [1010, { type: 'task.failed', taskId: 'fetch#1', nodeId: 'fetch', error: fetchError }],
  [1010, { type: 'node.status', nodeId: 'fetch', status: 'failed', attempt: 1, error: fetchError, retryInMs: 200 }],
  // seq 11: the retry.
  [1210, { type: 'node.status', nodeId: 'fetch', status: 'running', attempt: 2 }],
  [1210, { type: 'task.assigned', taskId: 'fetch#2', nodeId: 'fetch', assignee: 'skill:http.request', input: { url: 'https://example.com/tides' } }],
  [1250, { type: 'task.succeeded', taskId: 'fetch#2', nodeId: 'fetch', output: { status: 200, body: 'High tide 06:12' } }],
  [1250, { type: 'node.status', nodeId: 'fetch', status: 'succeeded', attempt: 2, output: { status: 200, body: 'High tide 06:12' } }],
  // seq 15: the writer agent.
  [1251, { type: 'node.status', nodeId: 'write', status: 'running', attempt: 1 }],
  [1251, { type: 'task.assigned', taskId: 'write#1', nodeId: 'write', assignee: 'agent:writer' }],
  [1251, { type: 'task.assigned', taskId: 'write#1.review', nodeId: 'write', parentTaskId: 'write#1', assignee: 'subagent:reviewer' }],
  [1252, { type: 'llm.request', callId: 'call-1', nodeId: 'write', provider: 'local', model: 'echo', messages: [{ role: 'system', content: 'Summarise.' }, { role: 'user', content: 'High tide 06:12' }], tools: ['lookup'] }],
  [1300, { type: 'llm.response', callId: 'call-1', nodeId: 'write', provider: 'local', model: 'echo', content: '', toolCalls: [{ id: 'tc-1', name: 'lookup', args: { q: 'tide' } }], tokens: { input: 120, output: 30 }, costUsd: 0.0012 }],
  [1301, { type: 'tool.call', callId: 'tc-1', nodeId: 'write', tool: 'lookup', args: { q: 'tide' }, result: 'A tide is the rise of the sea.' }],
  [1302, { type: 'llm.request', callId: 'call-2', nodeId: 'write', provider: 'local', model: 'echo', messages: [{ role: 'tool', content: 'A tide is the rise of the sea.', toolCallId: 'tc-1' }] }],
  [1400, { type: 'llm.response', callId: 'call-2', nodeId: 'write', provider: 'local', model: 'echo', content: 'High tide is at 06:12.', tokens: { input: 180, output: 60 }, costUsd: 0.0021 }],
  [1401, { type: 'supervision.entry', nodeId: 'write', step: 0, state: 'drafting', agent: 'writer', action: 'draft', assessment: 'on topic, too long', metrics: { quality: 0.6 } }],
  [1402, { type: 'supervision.entry', nodeId: 'write', step: 1, state: 'reviewing', agent: 'reviewer', action: 'approve', assessment: 'concise and correct', metrics: { quality: 0.9 } }],
  [1403, { type: 'metrics', nodeId: 'write', values: { quality: 0.6, words: 12 } }],
  [1404, { type: 'metrics', nodeId: 'write', values: { quality: 0.9 } }],
  [1405, { type: 'metrics', values: { nodesRun: 5 } }],
  [1405, { type: 'task.succeeded', taskId: 'write#1.review', nodeId: 'write', output: 'approved' }],
  [1405, { type: 'task.succeeded', taskId: 'write#1', nodeId: 'write', output: 'High tide is at 06:12.' }],
  [1406, { type: 'node.status', nodeId: 'write', status: 'succeeded', attempt: 1, output: 'High tide is at 06:12.' }],
  [1406, { type: 'node.status', nodeId: 'out', status: 'running', attempt: 1 }],
  [1407, { type: 'node.status', nodeId: 'out', status: 'succeeded', attempt: 1, output: 'High tide is at 06:12.' }],
  [1408, { type: 'run.finished', status: 'succeeded', output: { summary: 'High tide is at 06:12.' } }],
]);
