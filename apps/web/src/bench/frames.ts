/** One display refresh at 60 Hz, the rate headless Chromium produces frames at. */
export const VSYNC_MS = 1000 / 60;

export interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface FrameStats extends Distribution {
  /** Frames per second over the measured window: frames / (last − first timestamp). */
  fps: number;
  /** Refreshes that produced no frame: Σ max(0, round(delta / VSYNC_MS) − 1). */
  dropped: number;
}

/** Nearest-rank percentile (`p` in 0..100) of sorted values; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    mean: round2(sorted.length ? sum / sorted.length : 0),
    p50: round2(percentile(sorted, 50)),
    p95: round2(percentile(sorted, 95)),
    p99: round2(percentile(sorted, 99)),
    max: round2(sorted[sorted.length - 1] ?? 0),
  };
}

/** Frame-time statistics from successive `requestAnimationFrame` timestamps. */
export function frameStats(timestamps: readonly number[]): FrameStats {
  const deltas: number[] = [];
  let dropped = 0;
  for (let i = 1; i < timestamps.length; i++) {
    const delta = timestamps[i]! - timestamps[i - 1]!;
    deltas.push(delta);
    dropped += Math.max(0, Math.round(delta / VSYNC_MS) - 1);
  }
  const span = timestamps.length > 1 ? timestamps[timestamps.length - 1]! - timestamps[0]! : 0;
  return { ...distribution(deltas), fps: round2(span > 0 ? (deltas.length * 1000) / span : 0), dropped };
}
