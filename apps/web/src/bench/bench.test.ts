import { describe, expect, it } from 'vitest';
import { reduceRun, type RunEvent } from '@loom/shared';
import { toCanvas } from '../flow/model.js';
import { SyntheticRun } from './events.js';
import { benchFlow } from './flow.js';
import { frameStats, percentile } from './frames.js';

describe('benchFlow', () => {
  it.each([4, 100, 500, 1000, 1001])('builds a valid flow of exactly %i nodes', (n) => {
    const flow = benchFlow(n);
    expect(flow.nodes).toHaveLength(n);
    expect(new Set(flow.nodes.map((node) => node.id)).size).toBe(n);
  });

  it('lays out about as wide as tall on a 16:10 screen, so fitView shows every node', () => {
    const { nodes } = toCanvas(benchFlow(500));
    const xs = nodes.map((node) => node.position.x);
    const ys = nodes.map((node) => node.position.y);
    const aspect = (Math.max(...xs) - Math.min(...xs)) / (Math.max(...ys) - Math.min(...ys));
    expect(aspect).toBeGreaterThan(1.2);
    expect(aspect).toBeLessThan(2.2);
  });

  it('refuses sizes it cannot build', () => {
    expect(() => benchFlow(3)).toThrow(/n must be an integer ≥ 4, got 3/);
  });
});

describe('SyntheticRun', () => {
  const nodeIds = Array.from({ length: 50 }, (_, i) => `n${i}`);

  it('makes a valid run log in which each batch changes share × nodes distinct nodes', () => {
    const run = new SyntheticRun({ runId: 'r', nodeIds, share: 0.2, tasks: false });
    const events: RunEvent[] = [run.started(0)];
    for (let i = 1; i <= 12; i++) {
      const batch = run.batch(i);
      expect(new Set(batch.changed).size).toBe(10);
      expect(batch.events).toHaveLength(10);
      events.push(...batch.events);
    }
    const state = reduceRun(events);
    expect(state.status).toBe('running');
    // 12 batches of 10 over 50 nodes: n0..n19 moved three times (running), the others twice (succeeded).
    expect(state.nodes['n0']!.status).toBe('running');
    expect(state.nodes['n49']!.status).toBe('succeeded');
  });

  it('gives every execution a task when asked, and preloads finished tasks', () => {
    const run = new SyntheticRun({ runId: 'r', nodeIds, share: 1, tasks: true });
    const events: RunEvent[] = [run.started(0), ...run.finishedTasks(120, 1)];
    for (let i = 0; i < 3; i++) events.push(...run.batch(2 + i).events);
    const state = reduceRun(events);
    const tasks = Object.values(state.tasks);
    expect(tasks).toHaveLength(120 + 2 * 50);
    expect(tasks.filter((task) => task.status === 'running')).toHaveLength(50);
  });

  it('refuses a share outside (0, 1]', () => {
    expect(() => new SyntheticRun({ runId: 'r', nodeIds, share: 0, tasks: false })).toThrow(/share must be in \(0, 1\], got 0/);
  });
});

describe('frameStats', () => {
  it('reports frame-time percentiles, fps and refreshes without a frame', () => {
    // 10 frames on time, then one two refreshes late (50 ms).
    const timestamps = [0];
    for (let i = 1; i <= 10; i++) timestamps.push((i * 1000) / 60);
    timestamps.push(timestamps[10]! + 50);
    const stats = frameStats(timestamps);
    expect(stats.count).toBe(11);
    expect(stats.p50).toBeCloseTo(16.67, 1);
    expect(stats.max).toBe(50);
    expect(stats.dropped).toBe(2);
    expect(stats.fps).toBeCloseTo((11 * 1000) / (1000 / 6 + 50), 1);
  });

  it('uses nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(percentile([], 95)).toBe(0);
  });
});
