import { describe, expect, it } from 'vitest';
import { cpuPerFrame, evaluateTargets, formatTable, renderRatio, type WorkloadResult, type SizeResult } from './report.js';

const dist = (p50: number, p95: number) => ({ count: 10, mean: p50, p50, p95, p99: p95, max: p95 });

function result(p95: number, updates = 0, changed = 0, renders = 0): WorkloadResult {
  const cpu = cpuPerFrame({ windowMs: 1000, mainCpuMs: 300, rasterCpuMs: 120, compositorCpuMs: 10, vizCpuMs: 20 }, 60);
  return { frames: { ...dist(16.7, p95), fps: 60, dropped: 0 }, mounted: 500, batches: updates, updates, events: changed, changed, renders, unchangedRenders: 0, updateMs: dist(2, 4), editorNodeUpdates: 0, tasks: 0, cpu };
}

function size(live: WorkloadResult, panzoom: WorkloadResult): SizeResult {
  return { setup: { nodes: 500, edges: 520, mounted: 500, fitZoom: 0.2, setupMs: 900 }, workloads: { idle: result(16.7), panzoom, 'panzoom-live': panzoom, live, 'live-naive': result(90, 10, 1000, 5000) } };
}

describe('canvas bench targets', () => {
  it('passes a smooth 500-node canvas that re-renders only changed nodes', () => {
    const targets = evaluateTargets({ '500': size(result(33.3, 10, 1000, 1020), result(20)) });
    expect(targets.map((t) => [t.id, t.pass])).toEqual([
      ['panzoom.500.p95', true],
      ['panzoom-live.500.p95', true],
      ['live.500.p95', true],
      ['live.500.renders', true],
    ]);
  });

  it('misses when frames are slow or every node re-renders, and is n/a when 500 was not measured', () => {
    const missed = evaluateTargets({ '500': size(result(50, 10, 1000, 5000), result(40)) });
    expect(missed.every((t) => t.pass === false)).toBe(true);
    expect(evaluateTargets({ '100': size(result(10), result(10)) }).every((t) => t.pass === null)).toBe(true);
  });

  it('turns window CPU into per-frame figures', () => {
    expect(result(20).cpu).toEqual({ windowMs: 1000, mainMsPerFrame: 5, rasterMsPerFrame: 2, compositorMsPerFrame: 0.17, vizMsPerFrame: 0.33, mainBusy: 0.3 });
  });

  it('prints one row per measured workload, with renders per changed node', () => {
    const live = result(20, 10, 1000, 1500);
    expect(renderRatio(live)).toBe(1.5);
    const table = formatTable({ '500': size(live, result(20)) });
    expect(table.split('\n')).toHaveLength(2 + 5);
    expect(table).toMatch(/500\s+live\s+.*1\.50/);
  });
});
