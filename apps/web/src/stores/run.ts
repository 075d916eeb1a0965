import { create } from 'zustand';
import { applyRunEvent, createRunState, reduceRun, type RunEvent, type RunState } from '@loom/shared';
import { followRun, type RunFollower } from '../api/live.js';

export interface RunViewState {
  runId: string | null;
  /** Every event received, in seq order: the timeline, and what replay scrubs through. */
  events: RunEvent[];
  /** The state shown: at the end of `events`, or at `cursor` while replaying. */
  state: RunState;
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

/**
 * The run shown on the canvas. Socket batches are merged once per animation frame (applying
 * each message as it arrives falls behind on large runs), and `applyRunEvent` replaces only
 * the node states an event touches, so per-node selectors re-render only changed nodes.
 */
export const useRun = create<RunViewState>()((set, get) => ({
  runId: null,
  events: [],
  state: createRunState(),
  cursor: null,
  error: null,

  open(runId) {
    if (get().runId === runId) return;
    get().close();
    set({ runId, events: [], state: createRunState(), cursor: null, error: null });
    follower = followRun(
      runId,
      0,
      (events) => {
        pending.push(...events);
        frame ??= nextFrame(flush);
      },
      (message) => set({ error: message }),
    );
  },

  close() {
    follower?.stop();
    follower = undefined;
    pending = [];
    set({ runId: null, events: [], state: createRunState(), cursor: null, error: null });
  },

  seek(count) {
    const { events } = get();
    if (count === null || count >= events.length) {
      set({ cursor: null, state: reduceRun(events) });
      return;
    }
    set({ cursor: Math.max(0, count), state: reduceRun(events.slice(0, Math.max(0, count))) });
  },

  receive(events) {
    const { state, cursor } = get();
    const all = get().events.concat(events);
    if (cursor !== null) return set({ events: all }); // replaying: keep the shown state where it is
    // A new state object (same node objects for untouched nodes) so subscribers see the change.
    const next: RunState = { ...state, nodes: { ...state.nodes }, tasks: { ...state.tasks }, supervision: state.supervision.slice(), metrics: { ...state.metrics } };
    try {
      for (const event of events) applyRunEvent(next, event);
      set({ events: all, state: next });
    } catch (error) {
      set({ events: all, error: error instanceof Error ? error.message : String(error) });
    }
  },
}));

function flush(): void {
  frame = undefined;
  const batch = pending;
  pending = [];
  if (batch.length) useRun.getState().receive(batch);
}
