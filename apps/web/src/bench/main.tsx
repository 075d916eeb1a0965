/**
 * The canvas benchmark page (bench.html; not part of the app bundle). It mounts the real
 * FlowCanvas on the real editor and run stores, and exposes `window.loomBench`, which
 * `bench/web/canvas.ts` drives from headless Chromium. No server: flows are loaded with
 * `useEditor.getState().load` and run events fed to `useRun.getState().receive`.
 */
import '@xyflow/react/dist/style.css';
import '../styles.css';
import { ReactFlowProvider, useReactFlow, type ReactFlowInstance } from '@xyflow/react';
import { createRoot } from 'react-dom/client';
import { FlowCanvas } from '../canvas/FlowCanvas.js';
import { takeNodeRenders, trackNodeRenders } from '../canvas/render-count.js';
import type { CanvasEdge, CanvasNode } from '../flow/model.js';
import { useEditor } from '../stores/editor.js';
import { useRun } from '../stores/run.js';
import { SyntheticRun } from './events.js';
import { benchFlow } from './flow.js';
import { distribution, frameStats, type Distribution, type FrameStats } from './frames.js';

export interface SetupResult {
  nodes: number;
  edges: number;
  /** LoomNodes in the DOM once the view fits the flow. */
  mounted: number;
  /** Zoom after `fitView`. */
  fitZoom: number;
  /** From `load` to every node measured and the view fitted. */
  setupMs: number;
}

export interface MeasureOptions {
  /** Length of the measured window. */
  ms: number;
  /** Pan and zoom every frame (`setViewport`), between the fitted view and zoom 1 (2× the fitted zoom if that is more). */
  motion: boolean;
  /**
   * `none`: no run. `app`: run events go through the app's stores only. `naive`: the same,
   * and every canvas node object is recreated per update (status kept in node data, as a
   * naive store would): the baseline that re-renders all nodes.
   */
  run: 'none' | 'app' | 'naive';
  /** Every node execution also has a task (pattern nodes): the run state's task count grows. */
  tasks: boolean;
  /** Finished tasks already in the run state when the window starts (a long run of pattern nodes). */
  preloadTasks: number;
  /** A stylesheet applied during the window only (diagnostics, e.g. edge animation off). */
  css: string;
  /** Share of the nodes whose status changes per socket batch. */
  share: number;
  /** Interval between socket batches. */
  batchEveryMs: number;
}

export interface MeasureResult {
  frames: FrameStats;
  /** LoomNodes in the DOM when the window started. */
  mounted: number;
  /** Socket batches generated, run-store updates (batches merged per animation frame) and events. */
  batches: number;
  updates: number;
  events: number;
  /** Distinct nodes whose state changed, summed over updates, and LoomNode renders. */
  changed: number;
  renders: number;
  /** Renders of nodes the update they followed did not change (mounts while panning count here). */
  unchangedRenders: number;
  /** Time from `receive(batch)` to React having committed it (store work + selectors + render). */
  updateMs: Distribution;
  /** Times the editor's node array was replaced by something other than the benchmark (ReactFlow measuring node sizes). */
  editorNodeUpdates: number;
  /** Tasks in the run state at the end. */
  tasks: number;
}

export interface LoomBench {
  setup(n: number): Promise<SetupResult>;
  measure(options: MeasureOptions): Promise<MeasureResult>;
}

declare global {
  interface Window {
    loomBench?: LoomBench;
  }
}

/** User-timing marks around each measured window. */
export const WINDOW_START = 'loom-bench:window-start';
export const WINDOW_END = 'loom-bench:window-end';

const nextFrame = () => new Promise<number>((resolve) => requestAnimationFrame(resolve));
const frames = async (count: number) => {
  for (let i = 0; i < count; i++) await nextFrame();
};
const mountedNodes = () => document.querySelectorAll('.loom-node').length;

let instance: ReactFlowInstance<CanvasNode, CanvasEdge> | null = null;

/** Hands the ReactFlow instance (for setViewport, fitView) to the benchmark. */
function GrabInstance() {
  instance = useReactFlow<CanvasNode, CanvasEdge>();
  return null;
}

const root = createRoot(document.getElementById('root')!);

async function setup(n: number): Promise<SetupResult> {
  const started = performance.now();
  const flow = benchFlow(n);
  useRun.getState().close();
  useEditor.getState().load(flow, flow.id, 1);
  root.render(
    <ReactFlowProvider key={n}>
      <div style={{ width: '100vw', height: '100vh' }}>
        <FlowCanvas />
      </div>
      <GrabInstance />
    </ReactFlowProvider>,
  );
  // Wait for ReactFlow to measure every node (and so fit the view), 10 s at most.
  const deadline = performance.now() + 10_000;
  for (;;) {
    await nextFrame();
    const nodes = instance?.getNodes() ?? [];
    if (nodes.length === n && nodes.every((node) => node.measured?.width)) break;
    if (performance.now() > deadline) {
      throw new Error(`setup(${n}): ${nodes.filter((node) => node.measured?.width).length} of ${n} nodes measured after 10 s`);
    }
  }
  await fit();
  return {
    nodes: n,
    edges: useEditor.getState().edges.length,
    mounted: mountedNodes(),
    fitZoom: Math.round(instance!.getViewport().zoom * 1000) / 1000,
    setupMs: Math.round(performance.now() - started),
  };
}

/** Back to the whole flow in view, then a few quiet frames (few: on a busy machine a frame can take 300 ms). */
async function fit(): Promise<void> {
  await instance!.fitView({ maxZoom: 1 });
  await frames(3);
}

async function measure(options: MeasureOptions): Promise<MeasureResult> {
  const rf = instance;
  if (!rf) throw new Error('measure: call setup(n) first');
  const { ms, motion, run, tasks, preloadTasks, css, share, batchEveryMs } = options;

  // Start from the same place every time: whole flow in view, no run shown.
  useRun.getState().close();
  const originalNodes = useEditor.getState().nodes;
  await fit();

  const nodeIds = originalNodes.map((node) => node.id);
  const synthetic = run === 'none' ? null : new SyntheticRun({ runId: 'bench-run', nodeIds, share, tasks });
  if (synthetic) {
    useRun.getState().receive([synthetic.started(Date.now())]);
    if (preloadTasks > 0) useRun.getState().receive(synthetic.finishedTasks(preloadTasks, Date.now()));
    await frames(3); // every node re-renders once for `pending`: not part of the window
  }
  const style = css ? document.head.appendChild(Object.assign(document.createElement('style'), { textContent: css })) : null;
  if (style) await frames(2);

  // The viewport path: around the flow's centre, zooming from the fitted view (every node
  // visible) to the zoom people edit at (1: nodes readable, a fraction of a large flow visible).
  const fitted = rf.getViewport();
  const bounds = rf.getNodesBounds(originalNodes);
  const pane = document.querySelector('.react-flow')!.getBoundingClientRect();
  const zoomTop = Math.max(1, Math.min(2, 2 * fitted.zoom));
  const period = 2000;
  const viewportAt = (t: number) => {
    const phase = (2 * Math.PI * t) / period;
    const zoom = fitted.zoom + ((zoomTop - fitted.zoom) * (1 - Math.cos(phase))) / 2;
    const cx = bounds.x + bounds.width / 2 + (bounds.width / 4) * Math.sin(phase);
    const cy = bounds.y + bounds.height / 2 + (bounds.height / 4) * (1 - Math.cos(phase));
    return { x: pane.width / 2 - cx * zoom, y: pane.height / 2 - cy * zoom, zoom };
  };

  // Editor node updates not made here: ReactFlow reporting measured sizes after a render.
  let ownEditorUpdate = false;
  let editorNodeUpdates = 0;
  const unsubscribe = useEditor.subscribe((state, previous) => {
    if (state.nodes !== previous.nodes && !ownEditorUpdate) editorNodeUpdates++;
  });

  // Socket batches every `batchEveryMs`, merged once per animation frame as stores/run.ts does.
  let pending: ReturnType<SyntheticRun['batch']>['events'] = [];
  let pendingChanged = new Set<string>();
  let flushFrame: number | undefined;
  let lastChanged: Set<string> | null = null;
  let batches = 0;
  let updates = 0;
  let events = 0;
  let changed = 0;
  let renders = 0;
  let unchangedRenders = 0;
  const updateMs: number[] = [];

  /** Books the renders since the previous update against the nodes that update changed. */
  const countRenders = () => {
    for (const [id, count] of takeNodeRenders()) {
      renders += count;
      if (!lastChanged?.has(id)) unchangedRenders += count;
    }
  };
  const flush = () => {
    flushFrame = undefined;
    countRenders();
    const batch = pending;
    lastChanged = pendingChanged;
    pending = [];
    pendingChanged = new Set();
    if (batch.length === 0) return;
    updates++;
    events += batch.length;
    changed += lastChanged.size;
    const t0 = performance.now();
    useRun.getState().receive(batch);
    if (run === 'naive') {
      ownEditorUpdate = true;
      useEditor.setState({ nodes: useEditor.getState().nodes.map((node) => ({ ...node, data: { ...node.data } }) as typeof node) });
      ownEditorUpdate = false;
    }
    // React renders a store change in a microtask queued during `receive`; this one runs after it.
    queueMicrotask(() => updateMs.push(performance.now() - t0));
  };

  const mounted = mountedNodes();
  trackNodeRenders(true);
  const timestamps: number[] = [];
  let generator: ReturnType<typeof setInterval> | undefined;
  await new Promise<void>((resolve) => {
    let start: number | undefined;
    const tick = (now: number) => {
      if (start === undefined) {
        start = now;
        performance.mark(WINDOW_START); // a trace of the page (bench/web/canvas.ts) counts CPU time between the marks
      }
      timestamps.push(now);
      if (motion) void rf.setViewport(viewportAt(now - start));
      if (now - start < ms) requestAnimationFrame(tick);
      else {
        performance.mark(WINDOW_END);
        resolve();
      }
    };
    requestAnimationFrame(tick);
    if (synthetic) {
      // The server sends a batch every `batchEveryMs` however busy this page is: a late timer
      // receives every batch sent since the last one (as queued socket messages would arrive).
      const sendStart = performance.now();
      generator = setInterval(() => {
        const due = Math.floor((performance.now() - sendStart) / batchEveryMs);
        while (batches < due) {
          const batch = synthetic.batch(Date.now());
          batches++;
          pending.push(...batch.events);
          for (const id of batch.changed) pendingChanged.add(id);
        }
        if (pending.length) flushFrame ??= requestAnimationFrame(flush);
      }, batchEveryMs);
    }
  });
  clearInterval(generator);
  // Let the last update render, then book its renders.
  await frames(3);
  if (flushFrame !== undefined) {
    cancelAnimationFrame(flushFrame);
    flush();
    await frames(2);
  }
  countRenders();
  trackNodeRenders(false);
  unsubscribe();
  style?.remove();

  const result: MeasureResult = {
    frames: frameStats(timestamps),
    mounted,
    batches,
    updates,
    events,
    changed,
    renders,
    unchangedRenders,
    updateMs: distribution(updateMs),
    editorNodeUpdates,
    tasks: Object.keys(useRun.getState().state.tasks).length,
  };
  if (run === 'naive') useEditor.setState({ nodes: originalNodes });
  useRun.getState().close();
  return result;
}

window.loomBench = { setup, measure };
