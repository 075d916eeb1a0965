import { create } from 'zustand';
import { applyRunEvent, createRunState, reduceRun, type NodeState, type RunEvent, type RunState, type RunStatus } from '@loom/shared';
import { followRun, type RunFollower } from '../api/live.js';

/** What a node shows besides its status, computed once per update for all nodes (see `summarise`). */
export interface NodeSummary {
  /** The node's own tasks: finished / all (patterns). */
  tasksDone: number;
  tasksTotal: number;
  /** The supervisor's latest state and step. */
  phase: string;
  /** A coordinator's current dependency wave, e.g. `wave 2/3` (the latest wave it assigned a subtask in). */
  wave: string;
  /** The end of what its model is writing now. */
  streaming: string;
}

export interface RunViewState {
  runId: string | null;
  /**
   * Every event received, in seq order: the timeline, and what replay scrubs through.
   * Appended in place (copying a long log every frame would grow with the run): subscribe
   * to `eventCount` to hear about new ones.
   */
  events: RunEvent[];
  eventCount: number;
  /** The state shown: at the end of `events`, or at `cursor` while replaying. */
  state: RunState;
  /** Per-node summaries of `state`, by node id; an unchanged node keeps its object. */
  summaries: Record<string, NodeSummary>;
  /**
   * Nodes drawn inside sub-flow groups: canvas id (`sub/greet`) -> the id the engine logs
   * their latest attempt under (`sub/2/greet`: the sub-flow's task, then the inner node).
   */
  scoped: Record<string, string>;
  /** Replay position (number of events applied), or null to follow the end live. */
  cursor: number | null;
  error: string | null;

  /** Shows a run: its log so far, then live events. */
  open(runId: string): void;
  close(): void;
  /** Shows the canvas as it was after `count` events; null returns to the live end. */
  seek(count: number | null): void;
  /** Applies events as if received (tests, and the frame-batched socket path). */
  receive(events: RunEvent[]): void;
}

let follower: RunFollower | undefined;
let pending: RunEvent[] = [];
let frame: number | undefined;

const nextFrame: (callback: () => void) => number =
  typeof requestAnimationFrame === 'function' ? requestAnimationFrame : (callback) => setTimeout(callback, 16) as unknown as number;

const EMPTY: Record<string, NodeSummary> = {};
const NO_SCOPED: Record<string, string> = {};

/**
 * The canvas id of a node the engine logged inside a sub-flow, or undefined. A sub-flow's
 * inner nodes log as `<its task>/<inner id>`, its task being `<node id>/<attempt>`: so ids
 * alternate names and attempt numbers (`sub/1/inner/2/leaf` is drawn as `sub/inner/leaf`).
 */
export function canvasIdOfLogged(nodeId: string): string | undefined {
  const parts = nodeId.split('/');
  if (parts.length < 3 || parts.length % 2 === 0) return undefined;
  const names: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) names.push(parts[i]!);
    else if (!/^\d+$/.test(parts[i]!)) return undefined; // a pattern's task, not a sub-flow drawn as a group
  }
  return names.join('/');
}

/**
 * Where a logged node is drawn: its own canvas node (`sub/1/shout` -> `sub/shout`), or for a
 * node the engine runs inside a pattern's task (`team/task-1/...`), the nearest canvas node
 * around it (the pattern node).
 */
export function drawnAt(nodeId: string): string {
  const parts = nodeId.split('/');
  for (let k = parts.length; k > 1; k--) {
    const canvasId = canvasIdOfLogged(parts.slice(0, k).join('/'));
    if (canvasId !== undefined) return canvasId;
  }
  return parts[0]!;
}

/** A node that failed for good (no retry coming) in the shown run. */
export interface NodeFailure {
  /** The id the engine logged it under (`sub/2/shout`). */
  logged: string;
  /** How the run panel names it: the canvas id of a sub-flow's inner node (`sub/shout`), else the logged id. */
  label: string;
  /** The canvas node to show for it: itself, or the pattern node it ran inside. */
  canvasId: string;
  state: NodeState;
}

/**
 * The failed nodes of `state`, in log order, with where each is drawn. An inner node's failure
 * in an earlier attempt of its sub-flow is left out once a later attempt ran it (`scoped`
 * follows the latest): the canvas shows the latest, and so does the list.
 */
export function failures(state: RunState, scoped: Record<string, string>): NodeFailure[] {
  const found: NodeFailure[] = [];
  for (const [logged, node] of Object.entries(state.nodes)) {
    if (node.status !== 'failed' || node.retryInMs !== undefined) continue;
    const inner = canvasIdOfLogged(logged);
    if (inner !== undefined && (scoped[inner] ?? logged) !== logged) continue;
    found.push({ logged, label: inner ?? logged, canvasId: inner ?? drawnAt(logged), state: node });
  }
  return found;
}

/** `previous` updated with logged ids in log order: a later attempt replaces an earlier one. */
function scopedIds(logged: Iterable<string>, previous: Record<string, string>): Record<string, string> {
  let next = previous;
  for (const id of logged) {
    const canvasId = canvasIdOfLogged(id);
    if (canvasId === undefined || next[canvasId] === id) continue;
    if (next === previous) next = { ...previous };
    next[canvasId] = id;
  }
  return next;
}

/**
 * The run shown on the canvas. Socket batches are merged once per animation frame (applying
 * each message as it arrives falls behind on large runs), and `applyRunEvent` replaces only
 * the node states an event touches, so per-node selectors re-render only changed nodes.
 */
export const useRun = create<RunViewState>()((set, get) => ({
  runId: null,
  events: [],
  eventCount: 0,
  state: createRunState(),
  summaries: EMPTY,
  scoped: NO_SCOPED,
  cursor: null,
  error: null,

  open(runId) {
    if (get().runId === runId) return;
    get().close();
    set({ runId, events: [], eventCount: 0, state: createRunState(), summaries: EMPTY, scoped: NO_SCOPED, cursor: null, error: null });
    follower = followRun(runId, 0, enqueue, (message) => set({ error: message }));
  },

  close() {
    follower?.stop();
    follower = undefined;
    pending = [];
    set({ runId: null, events: [], eventCount: 0, state: createRunState(), summaries: EMPTY, scoped: NO_SCOPED, cursor: null, error: null });
  },

  seek(count) {
    const { events, summaries } = get();
    const at = count === null || count >= events.length ? null : Math.max(0, count);
    const state = reduceRun(at === null ? events : events.slice(0, at));
    set({ cursor: at, state, summaries: summarise(state, summaries), scoped: scopedIds(Object.keys(state.nodes), NO_SCOPED) });
  },

  receive(events) {
    const { state, cursor, summaries } = get();
    const all = get().events;
    all.push(...events);
    if (cursor !== null) return set({ eventCount: all.length }); // replaying: keep the shown state where it is
    // A new state object (same node objects for untouched nodes) so subscribers see the change;
    // collections are copied only when this batch changes them.
    const touches = { tasks: false, supervision: false, metrics: false, streams: false };
    for (const event of events) {
      if (event.type.startsWith('task.')) touches.tasks = true;
      else if (event.type === 'supervision.entry') touches.supervision = true;
      else if (event.type === 'metrics') touches.metrics = true;
      else if (event.type === 'llm.delta' || event.type === 'llm.response') touches.streams = true;
      else if (event.type === 'run.finished') touches.tasks = touches.streams = true;
    }
    const next: RunState = {
      ...state,
      nodes: { ...state.nodes },
      llm: { ...state.llm, tokens: { ...state.llm.tokens } },
      ...(touches.tasks ? { tasks: { ...state.tasks } } : {}),
      ...(touches.supervision ? { supervision: state.supervision.slice() } : {}),
      ...(touches.metrics ? { metrics: { ...state.metrics } } : {}),
      ...(touches.streams ? { streams: { ...state.streams } } : {}),
    };
    try {
      for (const event of events) applyRunEvent(next, event);
      const changed = touches.tasks || touches.supervision || touches.streams;
      const inner: string[] = [];
      for (const event of events) if (event.type === 'node.status' && event.nodeId.includes('/')) inner.push(event.nodeId);
      set({ eventCount: all.length, state: next, summaries: changed ? summarise(next, summaries) : summaries, scoped: inner.length ? scopedIds(inner, get().scoped) : get().scoped });
    } catch (error) {
      set({ eventCount: all.length, error: error instanceof Error ? error.message : String(error) });
    }
  },
}));

/** Socket batches wait for the next animation frame, then apply together. */
function enqueue(events: RunEvent[]): void {
  pending.push(...events);
  frame ??= nextFrame(flush);
}

function flush(): void {
  frame = undefined;
  const batch = pending;
  pending = [];
  if (batch.length) useRun.getState().receive(batch);
}

/**
 * How the run itself ended (`null` while it goes on), whatever the cursor shows: scrubbed back
 * into a finished run, the canvas shows it running, but it cannot be cancelled and can be
 * played, forked or resumed. A selector: `useRun(runOutcome)`.
 */
export function runOutcome(s: RunViewState): RunStatus | null {
  const last = s.eventCount > 0 ? s.events[s.eventCount - 1] : undefined;
  return last?.type === 'run.finished' ? last.status : null;
}

/** The input the open run started with (`undefined` before its first event arrives). A selector. */
export function runInput(s: RunViewState): unknown {
  const first = s.eventCount > 0 ? s.events[0] : undefined;
  return first?.type === 'run.started' ? first.input : undefined;
}

/**
 * Each node's task counts, supervisor state and live text in one pass over the state, so a
 * node's selector is a lookup (scanning every task per node per update made a 500-node run
 * with 2,500 tasks take 450 ms per update). Summaries equal to the previous ones are reused.
 */
export function summarise(state: RunState, previous: Record<string, NodeSummary>): Record<string, NodeSummary> {
  const draft = new Map<string, NodeSummary>();
  const of = (nodeId: string) => {
    let summary = draft.get(nodeId);
    if (!summary) draft.set(nodeId, (summary = { tasksDone: 0, tasksTotal: 0, phase: '', streaming: '', wave: '' }));
    return summary;
  };
  const waveAt = new Map<string, { wave: number; waves: number }>();
  for (const task of Object.values(state.tasks)) {
    // The node's own tasks: not those nested under another of its tasks.
    if (task.parentTaskId !== undefined && task.parentTaskId in state.tasks) continue;
    const summary = of(task.nodeId);
    summary.tasksTotal++;
    if (task.status !== 'running') summary.tasksDone++;
    if (task.wave !== undefined && task.waves !== undefined && task.wave >= (waveAt.get(task.nodeId)?.wave ?? 0)) waveAt.set(task.nodeId, { wave: task.wave, waves: task.waves });
  }
  for (const [nodeId, { wave, waves }] of waveAt) of(nodeId).wave = `wave ${wave}/${waves}`;
  for (const entry of state.supervision) of(entry.nodeId).phase = `${entry.state} · step ${entry.step}`;
  for (const stream of Object.values(state.streams)) of(stream.nodeId).streaming = stream.text.slice(-160);
  const result: Record<string, NodeSummary> = {};
  for (const [nodeId, summary] of draft) {
    const old = previous[nodeId];
    result[nodeId] = old && old.tasksDone === summary.tasksDone && old.tasksTotal === summary.tasksTotal && old.phase === summary.phase && old.streaming === summary.streaming && old.wave === summary.wave ? old : summary;
  }
  return result;
}
