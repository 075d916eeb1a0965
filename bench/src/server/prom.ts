import { round } from '../measure.js';

/** Reading an unlabelled Prometheus histogram out of /metrics text, and summarising it. */

export interface Histogram {
  /** Cumulative counts by upper bound (`le`), ascending; the last bound is +Inf. */
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/;

/** The histogram `name` (without labels other than `le`), or undefined when /metrics has none. */
export function parseHistogram(text: string, name: string): Histogram | undefined {
  const buckets: Histogram['buckets'] = [];
  let sum: number | undefined;
  let count: number | undefined;
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, metric, labels, value] = match;
    if (metric === `${name}_bucket`) {
      const le = /le="([^"]+)"/.exec(labels ?? '')?.[1];
      if (le === undefined) continue;
      buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: Number(value) });
    } else if (metric === `${name}_sum`) sum = Number(value);
    else if (metric === `${name}_count`) count = Number(value);
  }
  if (sum === undefined || count === undefined || buckets.length === 0) return undefined;
  buckets.sort((a, b) => a.le - b.le);
  return { buckets, sum, count };
}

/** The value of the unlabelled counter or gauge `name`, or undefined when /metrics has none. */
export function parseValue(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (match && match[1] === name && match[2] === undefined) return Number(match[3]);
  }
  return undefined;
}

/** What `after` recorded since `before` (both from the same server). */
export function histogramDelta(after: Histogram, before: Histogram | undefined): Histogram {
  if (!before) return after;
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (before.buckets.find((x) => x.le === b.le)?.count ?? 0) })),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/** The upper bound of the bucket holding quantile `q` (0..1): "at most this much". */
export function bucketQuantile(h: Histogram, q: number): number {
  if (h.count === 0) return NaN;
  const rank = q * h.count;
  for (const b of h.buckets) if (b.count >= rank) return b.le;
  return Infinity;
}

export interface HistogramSummary {
  count: number;
  mean: number;
  /** Upper bounds of the buckets holding the median and the 99th percentile. */
  p50AtMost: number;
  p99AtMost: number;
  unit: string;
}

/** A histogram in seconds summarised in ms (`scale` 1000), or in its own unit (`scale` 1). */
export function summarise(h: Histogram, unit: string, scale: number): HistogramSummary {
  const s = (v: number) => (Number.isFinite(v) ? round(v * scale, 3) : v);
  return { count: h.count, mean: h.count ? s(h.sum / h.count) : NaN, p50AtMost: s(bucketQuantile(h, 0.5)), p99AtMost: s(bucketQuantile(h, 0.99)), unit };
}
