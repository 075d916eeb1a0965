import { beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '@loom/shared';
import { useRun } from './run.js';

const base = { v: 1 as const, runId: 'r' };
const events: RunEvent[] = [
  { ...base, seq: 1, ts: 100, type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['a', 'b'], input: {} },
  { ...base, seq: 2, ts: 101, type: 'node.status', nodeId: 'a', status: 'running', attempt: 1 },
  { ...base, seq: 3, ts: 105, type: 'node.status', nodeId: 'a', status: 'succeeded', attempt: 1, output: 1 },
  { ...base, seq: 4, ts: 106, type: 'node.status', nodeId: 'b', status: 'running', attempt: 1 },
  { ...base, seq: 5, ts: 110, type: 'node.status', nodeId: 'b', status: 'succeeded', attempt: 1, output: 2 },
  { ...base, seq: 6, ts: 111, type: 'run.finished', status: 'succeeded', output: 2 },
];

beforeEach(() => useRun.setState({ runId: 'r', events: [], state: useRun.getState().state, cursor: null, error: null }));

describe('run store', () => {
  beforeEach(() => useRun.getState().close());

  it('keeps untouched nodes the same objects, so only changed nodes re-render', () => {
    useRun.getState().receive(events.slice(0, 3));
    const a = useRun.getState().state.nodes['a'];
    const b = useRun.getState().state.nodes['b'];
    useRun.getState().receive(events.slice(3, 4));
    expect(useRun.getState().state.nodes['a']).toBe(a);
    expect(useRun.getState().state.nodes['b']).not.toBe(b);
    expect(useRun.getState().state.nodes['b']!.status).toBe('running');
  });

  it('seeks to any point of the log and back to the end', () => {
    useRun.getState().receive(events);
    useRun.getState().seek(3);
    expect(useRun.getState().state.nodes['a']!.status).toBe('succeeded');
    expect(useRun.getState().state.nodes['b']!.status).toBe('pending');
    expect(useRun.getState().state.status).toBe('running');
    useRun.getState().seek(null);
    expect(useRun.getState().state.status).toBe('succeeded');
    expect(useRun.getState().cursor).toBeNull();
  });

  it('reports a log it cannot apply instead of showing a wrong state', () => {
    useRun.getState().receive([events[0]!, events[2]!]);
    expect(useRun.getState().error).toMatch(/expected seq 2/);
  });
});

describe('node summaries', () => {
  const started: RunEvent = { ...base, seq: 1, ts: 1, type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['mw', 'other'], input: {} };
  const assigned = (seq: number, taskId: string, parentTaskId?: string): RunEvent => ({ ...base, seq, ts: seq, type: 'task.assigned', taskId, nodeId: 'mw', assignee: 'w', ...(parentTaskId ? { parentTaskId } : {}) });

  beforeEach(() => useRun.getState().close());

  it('counts a node’s own tasks (not nested ones) and keeps unchanged summaries as the same objects', () => {
    useRun.getState().receive([started, assigned(2, 'mw/1/a'), assigned(3, 'mw/1/b'), assigned(4, 'mw/1/a/inner', 'mw/1/a')]);
    const first = useRun.getState().summaries['mw']!;
    expect(first).toMatchObject({ tasksDone: 0, tasksTotal: 2 });
    useRun.getState().receive([{ ...base, seq: 5, ts: 5, type: 'node.status', nodeId: 'other', status: 'running', attempt: 1 }]);
    expect(useRun.getState().summaries['mw']).toBe(first);
    useRun.getState().receive([{ ...base, seq: 6, ts: 6, type: 'task.succeeded', taskId: 'mw/1/a', nodeId: 'mw' }]);
    expect(useRun.getState().summaries['mw']).toMatchObject({ tasksDone: 1, tasksTotal: 2 });
    expect(useRun.getState().summaries['mw']).not.toBe(first);
    expect(useRun.getState().eventCount).toBe(6);
  });
});
