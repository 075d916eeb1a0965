import { describe, expect, it } from 'vitest';
import { cpuInWindow, WINDOW_END, WINDOW_START } from './trace.js';

const meta = (pid: number, tid: number, name: string) => ({ name: 'thread_name', ph: 'M', pid, tid, ts: 0, args: { name } });
const task = (pid: number, tid: number, name: string, ts: number, dur: number, tdur: number) => ({ name, ph: 'X', pid, tid, ts, dur, tdur });

describe('cpuInWindow', () => {
  it('sums thread CPU of top-level tasks between the marks, pro rata at the edges', () => {
    const trace = {
      traceEvents: [
        meta(1, 10, 'CrRendererMain'),
        meta(1, 11, 'Compositor'),
        meta(1, 12, 'ThreadPoolForegroundWorker'),
        meta(2, 20, 'VizCompositorThread'),
        { name: WINDOW_START, ph: 'I', pid: 1, tid: 10, ts: 1_000_000 },
        { name: WINDOW_END, ph: 'I', pid: 1, tid: 10, ts: 2_000_000 },
        task(1, 10, 'ThreadControllerImpl::RunTask', 900_000, 200_000, 100_000), // half inside: 50 ms
        task(1, 10, 'ThreadControllerImpl::RunTask', 1_500_000, 10_000, 8_000), // 8 ms
        task(1, 10, 'ThreadControllerImpl::RunTask', 2_500_000, 10_000, 8_000), // after the window
        task(1, 12, 'TaskGraphRunner::RunTask', 1_200_000, 30_000, 20_000), // raster 20 ms
        task(1, 11, 'ThreadControllerImpl::RunTask', 1_300_000, 5_000, 4_000), // compositor 4 ms
        task(2, 20, 'ThreadControllerImpl::RunTask', 1_400_000, 6_000, 3_000), // viz 3 ms
      ],
    };
    expect(cpuInWindow(trace)).toEqual({ windowMs: 1000, mainCpuMs: 58, rasterCpuMs: 20, compositorCpuMs: 4, vizCpuMs: 3 });
  });

  it('says so when the marks are missing', () => {
    expect(() => cpuInWindow({ traceEvents: [] })).toThrow(/no "loom-bench:window-start"/);
  });
});
