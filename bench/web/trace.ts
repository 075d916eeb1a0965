/**
 * CPU time spent by Chromium's threads during a measured window, from a trace recorded with
 * categories `toplevel` and `blink.user_timing`. Thread CPU time (`tdur`) is what the work
 * costs whatever else the machine is running; wall frame times are not (a busy machine
 * deschedules the renderer), so these figures are the ones to compare across runs.
 */

/** The user-timing marks the bench page sets around each window (apps/web/src/bench/main.tsx). */
export const WINDOW_START = 'loom-bench:window-start';
export const WINDOW_END = 'loom-bench:window-end';

/** The categories `cpuInWindow` needs. */
export const TRACE_CATEGORIES = ['toplevel', 'blink.user_timing'];

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

export interface WindowCpu {
  /** Window length (between the marks), ms. */
  windowMs: number;
  /** The page's main thread: JS, style, layout, paint recording. */
  mainCpuMs: number;
  /** Raster workers of the page's renderer (software raster with --disable-gpu). */
  rasterCpuMs: number;
  /** The renderer's compositor thread. */
  compositorCpuMs: number;
  /** The display compositor (VizCompositorThread, in the GPU process). */
  vizCpuMs: number;
}

const TOP_TASK = 'ThreadControllerImpl::RunTask';
const RASTER_TASK = 'TaskGraphRunner::RunTask';

/** Sums thread CPU of top-level tasks inside the window (a task crossing an edge counts pro rata). */
export function cpuInWindow(trace: unknown): WindowCpu {
  const events: TraceEvent[] = Array.isArray(trace) ? trace : ((trace as { traceEvents?: TraceEvent[] }).traceEvents ?? []);
  const start = events.find((e) => e.name === WINDOW_START);
  const end = events.find((e) => e.name === WINDOW_END);
  if (!start || !end) throw new Error(`trace: no "${WINDOW_START}" / "${WINDOW_END}" marks (was blink.user_timing recorded?)`);
  const threadNames = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name) threadNames.set(`${e.pid}:${e.tid}`, e.args.name);

  const inWindow = (e: TraceEvent) => {
    const dur = e.dur ?? 0;
    const overlap = Math.min(e.ts + dur, end.ts) - Math.max(e.ts, start.ts);
    if (overlap <= 0 || dur <= 0) return 0;
    return ((e.tdur ?? dur) * Math.min(1, overlap / dur)) / 1000;
  };
  const cpu: WindowCpu = { windowMs: (end.ts - start.ts) / 1000, mainCpuMs: 0, rasterCpuMs: 0, compositorCpuMs: 0, vizCpuMs: 0 };
  for (const e of events) {
    if (e.ph !== 'X') continue;
    const thread = threadNames.get(`${e.pid}:${e.tid}`) ?? '';
    if (e.pid === start.pid && e.tid === start.tid && e.name === TOP_TASK) cpu.mainCpuMs += inWindow(e);
    else if (e.pid === start.pid && e.name === RASTER_TASK) cpu.rasterCpuMs += inWindow(e);
    else if (e.pid === start.pid && thread === 'Compositor' && e.name === TOP_TASK) cpu.compositorCpuMs += inWindow(e);
    else if (thread === 'VizCompositorThread' && e.name === TOP_TASK) cpu.vizCpuMs += inWindow(e);
  }
  for (const key of ['mainCpuMs', 'rasterCpuMs', 'compositorCpuMs', 'vizCpuMs', 'windowMs'] as const) cpu[key] = Math.round(cpu[key] * 10) / 10;
  return cpu;
}
