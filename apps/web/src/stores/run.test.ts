import { beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decodeEventsNdjson, type RunEvent } from '@loom/shared';
import { canvasIdOfLogged, drawnAt, failures, useRun } from './run.js';

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

describe('nodes inside sub-flow groups', () => {
  // As the engine logs a sub-flow (packages/engine/src/patterns/subflow): its inner nodes under
  // its task, `<node>/<attempt>`, so a retried sub-flow's second attempt logs `sub/2/...`.
  const status = (seq: number, nodeId: string, s: 'running' | 'succeeded' | 'failed', attempt = 1): RunEvent => ({ ...base, seq, ts: seq, type: 'node.status', nodeId, status: s, attempt });
  const log: RunEvent[] = [
    { ...base, seq: 1, ts: 1, type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['sub'], input: {} },
    status(2, 'sub', 'running'),
    status(3, 'sub/1/boom', 'running'),
    status(4, 'sub/1/boom', 'failed'),
    status(5, 'sub', 'running', 2),
    status(6, 'sub/2/boom', 'running'),
    status(7, 'sub/2/nest/1/leaf', 'running'),
    status(8, 'sub/2/boom', 'succeeded'),
  ];

  beforeEach(() => useRun.getState().close());

  it('maps logged ids to canvas ids: names without attempt numbers; not ids under a pattern task', () => {
    expect(canvasIdOfLogged('sub/1/boom')).toBe('sub/boom');
    expect(canvasIdOfLogged('sub/12/nest/3/leaf')).toBe('sub/nest/leaf');
    expect(canvasIdOfLogged('sub')).toBeUndefined();
    expect(canvasIdOfLogged('mw/1/task-a/inner')).toBeUndefined();
  });

  it('follows the latest attempt of each inner node, live and when seeking', () => {
    useRun.getState().receive(log.slice(0, 4));
    expect(useRun.getState().scoped).toEqual({ 'sub/boom': 'sub/1/boom' });
    const before = useRun.getState().scoped;
    useRun.getState().receive(log.slice(4, 5));
    expect(useRun.getState().scoped).toBe(before); // nothing inside changed: the same object
    useRun.getState().receive(log.slice(5));
    expect(useRun.getState().scoped).toEqual({ 'sub/boom': 'sub/2/boom', 'sub/nest/leaf': 'sub/2/nest/1/leaf' });
    const shown = useRun.getState().scoped['sub/boom']!;
    expect(useRun.getState().state.nodes[shown]!.status).toBe('succeeded');
    useRun.getState().seek(4);
    expect(useRun.getState().scoped).toEqual({ 'sub/boom': 'sub/1/boom' });
    expect(useRun.getState().state.nodes['sub/1/boom']!.status).toBe('failed');
  });

  it('lists failed nodes where they are drawn: an inner node by its canvas id, only its latest attempt', () => {
    const failed = (seq: number, nodeId: string, message: string, attempt = 1, retryInMs?: number): RunEvent => ({ ...base, seq, ts: seq, type: 'node.status', nodeId, status: 'failed', attempt, error: { message }, ...(retryInMs !== undefined ? { retryInMs } : {}) });
    const failing: RunEvent[] = [
      ...log.slice(0, 4),
      failed(5, 'sub', 'sub-flow failed', 1, 10),
      status(6, 'sub', 'running', 2),
      status(7, 'sub/2/boom', 'running'),
      failed(8, 'sub/2/boom', 'boom again'),
      failed(9, 'sub/2/nest/1/leaf', 'deep'),
      failed(10, 'sub', 'sub-flow "inner" failed: boom again', 2),
    ];
    useRun.getState().receive(failing.slice(0, 4));
    // The first attempt's failure, while it is the latest the canvas knows.
    expect(failures(useRun.getState().state, useRun.getState().scoped).map((f) => [f.logged, f.label, f.canvasId])).toEqual([['sub/1/boom', 'sub/boom', 'sub/boom']]);
    useRun.getState().receive(failing.slice(4));
    const { state, scoped } = useRun.getState();
    // The retried group's first attempt of `boom` is left out: the canvas shows the second.
    expect(failures(state, scoped).map((f) => [f.logged, f.label, f.canvasId, f.state.error?.message])).toEqual([
      ['sub', 'sub', 'sub', 'sub-flow "inner" failed: boom again'],
      ['sub/2/boom', 'sub/boom', 'sub/boom', 'boom again'],
      ['sub/2/nest/1/leaf', 'sub/nest/leaf', 'sub/nest/leaf', 'deep'],
    ]);
  });

  it('shows a node that failed inside a pattern\'s task on the nearest drawn node around it', () => {
    expect(drawnAt('team/task-1/worker')).toBe('team');
    expect(drawnAt('sub/2/team/task-1/worker')).toBe('sub/team');
    expect(drawnAt('sub/2/boom')).toBe('sub/boom');
    expect(drawnAt('plain')).toBe('plain');
    const state = useRun.getState().state;
    const nodes = { ...state.nodes, 'team/task-1/worker': { status: 'failed' as const, attempt: 1, lastSeq: 1, error: { message: 'no' } } };
    expect(failures({ ...state, nodes } as typeof state, {})).toMatchObject([{ logged: 'team/task-1/worker', label: 'team/task-1/worker', canvasId: 'team' }]);
  });
});

describe('coordinator waves', () => {
  // The engine's own recorded run of examples/coordinator.json (a launch in three dependency waves).
  const log = decodeEventsNdjson(readFileSync(new URL('../../../../packages/engine/src/replay/__fixtures__/golden/coordinator.ndjson', import.meta.url), 'utf8'));

  beforeEach(() => useRun.getState().close());

  it('shows the wave the coordinator is in and its subtasks done, as the log goes on', () => {
    const seen: string[] = [];
    for (const event of log) {
      useRun.getState().receive([event]);
      const summary = useRun.getState().summaries['launch'];
      const shown = summary ? `${summary.wave} ${summary.tasksDone}/${summary.tasksTotal}` : '';
      if (shown && seen.at(-1) !== shown) seen.push(shown);
    }
    const waves = [...new Set(seen.map((s) => s.split(' ').slice(0, 2).join(' ')))];
    expect(waves).toEqual(['wave 1/3', 'wave 2/3', 'wave 3/3']);
    const subtasks = log.filter((e) => e.type === 'task.assigned' && e.nodeId === 'launch').length;
    expect(subtasks).toBe(7);
    expect(seen.at(-1)).toBe('wave 3/3 7/7');
    // Scrubbing back shows the wave of that moment.
    const firstOfWave2 = log.findIndex((e) => e.type === 'task.assigned' && e.wave === 2);
    useRun.getState().seek(firstOfWave2);
    expect(useRun.getState().summaries['launch']!.wave).toBe('wave 1/3');
    useRun.getState().seek(firstOfWave2 + 1);
    expect(useRun.getState().summaries['launch']!.wave).toBe('wave 2/3');
  });
});
