import { describe, expect, it } from 'vitest';
import { applyRunEvent, createRunState, reduceRun, RunLogError, STREAM_TEXT_LIMIT } from './reduce.js';
import type { RunEvent, RunEventBody } from './schema.js';
import { RunEvent as RunEventSchema } from './schema.js';
import { RESEARCH_RUN_ID, researchRunLog, runLog } from './__fixtures__/research-run.js';

function runLogError(fn: () => unknown): RunLogError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RunLogError) return error;
    throw error;
  }
  throw new Error('expected a RunLogError, but nothing was thrown');
}

function withSeq(events: readonly RunEvent[]): RunEvent[] {
  return events.map((event, i) => ({ ...event, seq: i + 1 }));
}

describe('reduceRun on a realistic log', () => {
  const state = reduceRun(researchRunLog);

  it('describes the run as a whole', () => {
    expect(state).toMatchObject({
      runId: RESEARCH_RUN_ID,
      flowId: 'research',
      flowHash: 'sha256:abc123',
      status: 'succeeded',
      input: { topic: 'tides' },
      output: { summary: 'High tide is at 06:12.' },
      startedAt: 1000,
      finishedAt: 1408,
      lastSeq: researchRunLog.length,
    });
    expect(state.error).toBeUndefined();
    expect(state.parentRunId).toBeUndefined();
  });

  it('gives every node of run.started a state, in file order', () => {
    expect(Object.keys(state.nodes)).toEqual(['in', 'route', 'fallback', 'fetch', 'write', 'out']);
    expect(Object.fromEntries(Object.entries(state.nodes).map(([id, node]) => [id, node.status]))).toEqual({
      in: 'succeeded',
      route: 'succeeded',
      fallback: 'skipped',
      fetch: 'succeeded',
      write: 'succeeded',
      out: 'succeeded',
    });
  });

  it('keeps a retried node\'s first start time, counts its attempts and forgets the failure', () => {
    expect(state.nodes['fetch']).toEqual({
      status: 'succeeded',
      attempt: 2,
      startedAt: 1004,
      finishedAt: 1250,
      output: { status: 200, body: 'High tide 06:12' },
      lastSeq: 14,
    });
  });

  it('shows a failed attempt waiting for its retry while the run is live', () => {
    const live = reduceRun(researchRunLog.slice(0, 10));
    expect(live.status).toBe('running');
    expect(live.finishedAt).toBeUndefined();
    expect(live.nodes['fetch']).toEqual({
      status: 'failed',
      attempt: 1,
      startedAt: 1004,
      finishedAt: 1010,
      error: { message: 'GET https://example.com/tides: HTTP 503', code: 'http_status', nodeId: 'fetch', retryable: true },
      retryInMs: 200,
      lastSeq: 10,
    });
    const retrying = reduceRun(researchRunLog.slice(0, 11));
    expect(retrying.nodes['fetch']).toEqual({ status: 'running', attempt: 2, startedAt: 1004, lastSeq: 11 });
  });

  it('records router ports, skipped nodes and nodes that never ran', () => {
    expect(state.nodes['route']).toMatchObject({ ports: ['web'], output: { topic: 'tides' } });
    expect(state.nodes['fallback']).toEqual({ status: 'skipped', attempt: 0, finishedAt: 1003, lastSeq: 6 });
    const early = reduceRun(researchRunLog.slice(0, 3));
    expect(early.nodes['out']).toEqual({ status: 'pending', attempt: 0, lastSeq: 1 });
  });

  it('tracks tasks, their parents, outputs and errors', () => {
    expect(Object.keys(state.tasks)).toEqual(['fetch#1', 'fetch#2', 'write#1', 'write#1.review']);
    expect(state.tasks['fetch#1']).toEqual({
      taskId: 'fetch#1',
      nodeId: 'fetch',
      assignee: 'skill:http.request',
      status: 'failed',
      attempt: 1,
      input: { url: 'https://example.com/tides' },
      error: { message: 'GET https://example.com/tides: HTTP 503', code: 'http_status', nodeId: 'fetch', retryable: true },
      assignedAt: 1004,
      finishedAt: 1010,
    });
    expect(state.tasks['fetch#2']).toMatchObject({ status: 'succeeded', output: { status: 200, body: 'High tide 06:12' }, finishedAt: 1250 });
    expect(state.tasks['write#1.review']).toMatchObject({ parentTaskId: 'write#1', assignee: 'subagent:reviewer', status: 'succeeded', output: 'approved' });
    expect(state.tasks['write#1']!.parentTaskId).toBeUndefined();
  });

  it('keeps a task running while a failed attempt waits for its retry', () => {
    const events = researchRunLog.slice(0, researchRunLog.findIndex((e) => e.type === 'task.assigned') + 1);
    const assigned = events.at(-1) as Extract<RunEvent, { type: 'task.assigned' }>;
    const next = { v: 1, runId: assigned.runId, ts: assigned.ts + 5, nodeId: assigned.nodeId, taskId: assigned.taskId } as const;
    const retrying = reduceRun([...events, { ...next, seq: assigned.seq + 1, type: 'task.failed', error: { message: 'busy' }, attempt: 1, retryInMs: 100 }]);
    expect(retrying.tasks[assigned.taskId]).toMatchObject({ status: 'running', attempt: 2, retryInMs: 100, error: { message: 'busy' } });
    const done = reduceRun([
      ...events,
      { ...next, seq: assigned.seq + 1, type: 'task.failed', error: { message: 'busy' }, attempt: 1, retryInMs: 100 },
      { ...next, seq: assigned.seq + 2, type: 'task.succeeded', output: 'ok', attempt: 2 },
    ]);
    expect(done.tasks[assigned.taskId]).toMatchObject({ status: 'succeeded', attempt: 2, output: 'ok' });
    expect(done.tasks[assigned.taskId]!.retryInMs).toBeUndefined();
  });

  it('totals model calls, tokens, cost and tool calls', () => {
    expect(state.llm.calls).toBe(2);
    expect(state.llm.tokens).toEqual({ input: 300, output: 90 });
    expect(state.llm.costUsd).toBeCloseTo(0.0033, 10);
    expect(state.toolCalls).toBe(1);
  });

  it('keeps supervision entries in log order with their seq and time', () => {
    expect(state.supervision).toEqual([
      { seq: 23, ts: 1401, nodeId: 'write', step: 0, state: 'drafting', agent: 'writer', action: 'draft', assessment: 'on topic, too long', metrics: { quality: 0.6 } },
      { seq: 24, ts: 1402, nodeId: 'write', step: 1, state: 'reviewing', agent: 'reviewer', action: 'approve', assessment: 'concise and correct', metrics: { quality: 0.9 } },
    ]);
  });

  it('merges metrics per node, newest value winning, and keeps run-wide metrics under "run"', () => {
    expect({ ...state.metrics }).toEqual({ write: { quality: 0.9, words: 12 }, run: { nodesRun: 5 } });
  });

  it('gives the same state when events are applied one at a time, as a live view does', () => {
    const live = createRunState();
    researchRunLog.forEach((event, i) => applyRunEvent(live, event, i));
    expect(live).toEqual(state);
  });
});

describe('reduceRun on other runs', () => {
  it('is pending before any event', () => {
    const state = reduceRun([]);
    expect(state.status).toBe('pending');
    expect(state.lastSeq).toBe(0);
    expect(Object.keys(state.nodes)).toEqual([]);
  });

  it('records a failed run with its error and the failed node', () => {
    const error = { message: 'model refused', code: 'llm_error', nodeId: 'write' };
    const state = reduceRun(
      runLog('run-fail', [
        [10, { type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['write'], input: null, parentRunId: 'run-parent' }],
        [11, { type: 'node.status', nodeId: 'write', status: 'running', attempt: 1 }],
        [15, { type: 'node.status', nodeId: 'write', status: 'failed', attempt: 1, error }],
        [16, { type: 'run.finished', status: 'failed', error }],
      ]),
    );
    expect(state).toMatchObject({ status: 'failed', error, parentRunId: 'run-parent', finishedAt: 16 });
    expect(state.output).toBeUndefined();
    expect(state.nodes['write']).toEqual({ status: 'failed', attempt: 1, error, startedAt: 11, finishedAt: 15, lastSeq: 3 });
  });

  it('treats node ids named like Object.prototype members as ordinary ids', () => {
    const state = reduceRun(
      runLog('run-proto', [[1, { type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['constructor'], input: null }]]),
    );
    expect(state.nodes['constructor']).toEqual({ status: 'pending', attempt: 0, lastSeq: 1 });
    expect(state.nodes['toString']).toBeUndefined();
  });
});

describe('reduceRun refuses logs that cannot be a run', () => {
  it('reports a gap in seq with the expected and the actual seq', () => {
    const gapped = researchRunLog.filter((event) => event.seq !== 5);
    const error = runLogError(() => reduceRun(gapped));
    expect(error.message).toBe('expected seq 5, got 6 (node.status)');
    expect(error.index).toBe(4);
  });

  it('reports an event written twice', () => {
    const repeated = [...researchRunLog.slice(0, 4), researchRunLog[2]!];
    expect(runLogError(() => reduceRun(repeated)).message).toBe('expected seq 5, got 3 (node.status)');
  });

  it('reports an event of another run', () => {
    const mixed = researchRunLog.slice(0, 4);
    mixed.push({ ...researchRunLog[4]!, runId: 'run-other' });
    const error = runLogError(() => reduceRun(mixed));
    expect(error.message).toBe(`event of run "run-other" in the log of run "${RESEARCH_RUN_ID}"`);
    expect(error.index).toBe(4);
  });

  it('reports an event after run.finished', () => {
    const late: RunEvent = { v: 1, runId: RESEARCH_RUN_ID, seq: researchRunLog.length + 1, ts: 2000, type: 'metrics', values: { late: 1 } };
    const error = runLogError(() => reduceRun([...researchRunLog, late]));
    expect(error.message).toBe('metrics after run.finished');
    expect(error.index).toBe(researchRunLog.length);
  });

  it('reports a log that does not begin with run.started', () => {
    const headless = withSeq(researchRunLog.slice(1));
    const error = runLogError(() => reduceRun(headless));
    expect(error.message).toBe('a run log must begin with run.started, got node.status');
    expect(error.index).toBe(0);
  });

  it('reports a log that begins part-way through', () => {
    expect(runLogError(() => reduceRun(researchRunLog.slice(3))).message).toBe('expected seq 1, got 4 (node.status)');
  });

  it('reports a task result for a task never assigned', () => {
    const orphan = withSeq([
      researchRunLog[0]!,
      { ...researchRunLog[12]!, taskId: 'fetch#9' } as RunEvent,
    ]);
    expect(runLogError(() => reduceRun(orphan)).message).toBe('task.succeeded for unknown task "fetch#9"');
    const orphanFailure = withSeq([researchRunLog[0]!, researchRunLog[8]!]);
    expect(runLogError(() => reduceRun(orphanFailure)).message).toBe('task.failed for unknown task "fetch#1"');
  });

  it('leaves the state at the last good event when applying one event fails', () => {
    const state = reduceRun(researchRunLog.slice(0, 3));
    expect(() => applyRunEvent(state, { ...researchRunLog[4]! })).toThrow(RunLogError);
    expect(state.lastSeq).toBe(3);
    expect(state.nodes['route']!.status).toBe('pending');
  });
});

describe('tasks cut short by the end of the run', () => {
  it('are cancelled, not running, once the run has finished', () => {
    const base = { v: 1, runId: 'r', ts: 10 } as const;
    const state = reduceRun([
      { ...base, seq: 1, type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['p'], input: {} },
      { ...base, seq: 2, type: 'task.assigned', taskId: 'p/1/a', nodeId: 'p', assignee: 'w' },
      { ...base, seq: 3, ts: 20, type: 'run.finished', status: 'cancelled' },
    ]);
    expect(state.tasks['p/1/a']).toMatchObject({ status: 'cancelled', finishedAt: 20 });
  });
});

describe('streaming model answers', () => {
  const start: [number, RunEventBody] = [1, { type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['write'], input: null }];
  const delta = (index: number, text: string, attempt?: number): [number, RunEventBody] => [
    2 + index,
    { type: 'llm.delta', callId: 'write/1/llm/1', nodeId: 'write', index, text, ...(attempt ? { attempt } : {}) },
  ];
  const response: [number, RunEventBody] = [
    20,
    { type: 'llm.response', callId: 'write/1/llm/1', nodeId: 'write', provider: 'openai', model: 'gpt', content: 'Hello, world', tokens: { input: 3, output: 2 }, finishReason: 'stop' },
  ];

  it('shows the text so far while the answer streams, and drops it once the response has it all', () => {
    const log = runLog('run-stream', [start, delta(0, 'Hello'), delta(1, ', world')]);
    const live = reduceRun(log);
    expect(live.streams['write/1/llm/1']).toEqual({ callId: 'write/1/llm/1', nodeId: 'write', text: 'Hello, world', chars: 12, attempt: 1 });
    const done = reduceRun(runLog('run-stream', [start, delta(0, 'Hello'), delta(1, ', world'), response]));
    expect(done.streams).toEqual({});
    expect(done.llm.calls).toBe(1);
  });

  it('starts over when the provider retried, and ignores late text of an earlier attempt', () => {
    const state = reduceRun(runLog('run-retry', [start, delta(0, 'Hel'), delta(1, 'Bonjour', 2), delta(2, 'lo', 1), delta(3, ' monde', 2)]));
    expect(state.streams['write/1/llm/1']).toMatchObject({ text: 'Bonjour monde', attempt: 2, chars: 13 });
  });

  it('keeps only the end of a very long answer, counting every character', () => {
    const chunk = 'x'.repeat(10_000);
    const state = reduceRun(runLog('run-long', [start, delta(0, chunk), delta(1, chunk), delta(2, 'END')]));
    const stream = state.streams['write/1/llm/1']!;
    expect(stream.text).toHaveLength(STREAM_TEXT_LIMIT);
    expect(stream.text.endsWith('xEND')).toBe(true);
    expect(stream.chars).toBe(20_003);
  });

  it('forgets streams cut short by the end of the run', () => {
    const state = reduceRun(runLog('run-cut', [start, delta(0, 'Hel'), [9, { type: 'run.finished', status: 'cancelled' }]]));
    expect(state.streams).toEqual({});
  });
});

describe('sandbox events', () => {
  it('are accepted in a log and leave node and task state to their own events', () => {
    const base = { v: 1 as const, runId: 'run-sbx' };
    const limits = { memoryMb: 256, cpus: 1, pids: 1024, wallClockMs: 1000, scratchMb: 64, outputBytes: 1000 };
    const events: RunEvent[] = [
      { ...base, seq: 1, ts: 1, type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['code'], input: {} },
      { ...base, seq: 2, ts: 2, type: 'node.status', nodeId: 'code', status: 'running', attempt: 1 },
      { ...base, seq: 3, ts: 3, type: 'sandbox.created', nodeId: 'code', sandboxId: 'code/1/code-1', driver: 'gvisor', isolation: 'strong', runtime: 'javascript', limits, allowHosts: [] },
      { ...base, seq: 4, ts: 4, type: 'sandbox.violation', nodeId: 'code', sandboxId: 'code/1/code-1', kind: 'timeout', detail: 'wall-clock limit of 1000 ms reached' },
      { ...base, seq: 5, ts: 5, type: 'sandbox.killed', nodeId: 'code', sandboxId: 'code/1/code-1', reason: 'timeout', detail: 'wall-clock limit of 1000 ms reached' },
      { ...base, seq: 6, ts: 6, type: 'sandbox.output', nodeId: 'code', sandboxId: 'code/1/code-1', stream: 'stdout', text: 'hi\n' },
      { ...base, seq: 7, ts: 7, type: 'sandbox.cleaned', nodeId: 'code', sandboxId: 'code/1/code-1', ok: true, leftovers: [], exitCode: null },
      { ...base, seq: 8, ts: 8, type: 'node.status', nodeId: 'code', status: 'failed', attempt: 1, error: { message: 'timed out', code: 'sandbox_timeout' } },
    ];
    for (const event of events) expect(RunEventSchema.safeParse(event).success).toBe(true);
    const state = reduceRun(events);
    expect(state.nodes['code']).toMatchObject({ status: 'failed', error: { code: 'sandbox_timeout' } });
    expect(state.lastSeq).toBe(8);
  });
});
