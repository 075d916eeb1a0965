import { round } from './measure.js';

/** Targets from the benchmark issue, evaluated on the collected figures, and the printed table. */

type Json = any;

export interface TargetResult {
  id: string;
  description: string;
  /** The figure compared, in `unit`; null when the workload or size was not measured. */
  value: number | null;
  unit: string;
  comparison: '<=' | '>=' | '<';
  threshold: number;
  /** null: not measured in this mode (e.g. 10,000 runs in --quick). */
  pass: boolean | null;
  note?: string;
}

/** Per-node cost may vary this much between the smallest and largest chain and still count as linear. */
export const LINEAR_TOLERANCE = 1.5;

function sizeOf(workload: Json, key: string, value: number): Json | undefined {
  return workload?.sizes?.find((s: Json) => s[key] === value);
}

function target(id: string, description: string, value: number | null | undefined, unit: string, comparison: TargetResult['comparison'], threshold: number, note?: string): TargetResult {
  const v = value === undefined || value === null || !Number.isFinite(value) ? null : round(value, 2);
  const pass = v === null ? null : comparison === '<=' ? v <= threshold : comparison === '>=' ? v >= threshold : v < threshold;
  return { id, description, value: v, unit, comparison, threshold, pass, ...(note ? { note } : {}) };
}

export function evaluateTargets(workloads: Record<string, Json>): TargetResult[] {
  const { W1, W2, W3, W4, W5, W6 } = workloads;
  const w1Sizes: Json[] = W1?.sizes ?? [];
  const w5Sizes: Json[] = W5?.sizes ?? [];
  const w4Sizes: Json[] = W4?.sizes ?? [];
  const perNode = w1Sizes.map((s) => s.perNodeUs as number);
  const spread = perNode.length >= 2 ? Math.max(...perNode) / Math.min(...perNode) : null;
  const w1Range = w1Sizes.length ? `N = ${w1Sizes.map((s) => s.nodes).join(', ')}` : undefined;
  const w3k = sizeOf(W3, 'runs', 1_000);
  const w3k10 = sizeOf(W3, 'runs', 10_000);
  return [
    target('W1.overhead', 'W1 in-memory overhead per node (worst N)', w1Sizes.length ? Math.max(...w1Sizes.map((s) => s.overheadPerNodeUs)) : null, 'µs/node', '<=', 15, w1Range),
    target(
      'W1.linear',
      'W1 per-node cost, largest / smallest across N (same cost at every N = linear)',
      spread,
      'x',
      '<=',
      LINEAR_TOLERANCE,
      w1Range ? `${w1Range}; perNodeUs ${perNode.join(' / ')}` : undefined,
    ),
    target('W5.overhead', 'W5 overhead per node with SQLite event log (worst N)', w5Sizes.length ? Math.max(...w5Sizes.map((s) => s.overheadPerNodeUs)) : null, 'µs/node', '<=', 50, w5Sizes.length ? `N = ${w5Sizes.map((s) => s.nodes).join(', ')}` : undefined),
    target('W2.ratio', `W2 fan-out${W2?.branches ? ` to ${W2.branches}` : ''} vs raw Promise.all`, W2?.ratio, 'x raw', '<=', 2),
    target('W3.1k.ratio', 'W3 1,000 concurrent runs vs raw', w3k?.ratio, 'x raw', '<=', 2),
    target('W3.10k.ratio', 'W3 10,000 concurrent runs vs raw', w3k10?.ratio, 'x raw', '<=', 3),
    target('W3.10k.rss', 'W3 10,000 concurrent runs: peak process RSS', w3k10?.peakRssMb, 'MB', '<', 500),
    target('W4.eventsPerSec', 'W4 events streamed to a JSON-serialising subscriber (worst N)', w4Sizes.length ? Math.min(...w4Sizes.map((s) => s.eventsPerSec)) : null, 'events/s', '>=', 200_000),
    target('W6.ratio', `W6 parallel pattern${W6?.items ? ` (${W6.items} items)` : ''} vs raw Promise.all`, W6?.ratio, 'x raw', '<=', 1.5),
  ];
}

// --- Table --------------------------------------------------------------------------

const fmt = (n: number | undefined | null, digits = 2): string => (n === undefined || n === null || Number.isNaN(n) ? '-' : round(n, digits).toLocaleString('en-US'));
const ms = (n: number | undefined, digits = 2) => `${fmt(n, digits)} ms`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ');
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

export function formatReport(workloads: Record<string, Json>, targets: TargetResult[]): string {
  const rows: string[][] = [['Workload', 'Size', 'Engine', 'Raw baseline', 'Ratio', 'Figures']];
  const chainRows = (name: string, w: Json, extra: (s: Json) => string) => {
    for (const s of w?.sizes ?? []) {
      rows.push([name, `${fmt(s.nodes, 0)} nodes`, ms(s.wallMs, 3), ms(s.baselineWallMs, 4), `${fmt(s.ratio, 1)}x`, `${fmt(s.overheadPerNodeUs)} µs/node overhead; ${extra(s)}`]);
    }
  };
  for (const [name, w] of Object.entries(workloads)) {
    if (w?.error) {
      rows.push([name, '-', 'FAILED', '-', '-', String(w.error).split('\n')[0]!.slice(0, 100)]);
      continue;
    }
    if (name === 'W1') {
      chainRows('W1 noop chain', w, (s) => `${fmt(s.perNodeUs)} µs/node total`);
      const l = w.linearity;
      if (l) rows.push(['W1 linearity', `${fmt(l.fromNodes, 0)} -> ${fmt(l.toNodes, 0)}`, '', '', `${fmt(l.perNodeCostRatio)}x`, `per-node cost ratio (µs/node: ${Object.values(l.perNodeUsByNodes).join(' / ')})`]);
    } else if (name === 'W2') {
      rows.push(['W2 fan-out', `${fmt(w.branches, 0)} branches`, ms(w.wallMs, 1), ms(w.baselineWallMs, 1), `${fmt(w.ratio)}x`, `${fmt(w.overheadPerBranchUs)} µs/branch overhead; peak RSS ${fmt(w.peakRssMb, 0)} / raw ${fmt(w.baselinePeakRssMb, 0)} MB`]);
    } else if (name === 'W3') {
      for (const s of w.sizes ?? []) {
        rows.push([
          'W3 concurrent runs',
          `${fmt(s.runs, 0)} runs`,
          ms(s.wallMs, 1),
          ms(s.baselineWallMs, 1),
          `${fmt(s.ratio)}x`,
          `p50 ${fmt(s.p50Ms, 1)} / raw ${fmt(s.baselineP50Ms, 1)} ms; p99 ${fmt(s.p99Ms, 1)} / raw ${fmt(s.baselineP99Ms, 1)} ms; peak RSS ${fmt(s.peakRssMb, 0)} MB (+${fmt(s.rssDeltaMb, 0)}) / raw ${fmt(s.baselinePeakRssMb, 0)} MB (+${fmt(s.baselineRssDeltaMb, 0)})`,
        ]);
      }
    } else if (name === 'W4') {
      chainRows('W4 streamed events', w, (s) => `${fmt(s.eventsPerSec, 0)} events/s`);
    } else if (name === 'W5') {
      chainRows('W5 SQLite event log', w, (s) => `${fmt(s.rowsPerSec, 0)} rows/s`);
    } else if (name === 'W6') {
      rows.push(['W6 parallel pattern', `${fmt(w.items, 0)} items`, ms(w.wallMs, 1), ms(w.baselineWallMs, 1), `${fmt(w.ratio)}x`, `node metrics: speed-up ${fmt(w.speedUp)}x, efficiency ${fmt(w.efficiency)} over ${fmt(w.instances, 0)} instances`]);
    }
  }
  const targetRows: string[][] = [['Result', 'Target', 'Value', 'Threshold']];
  for (const t of targets) {
    targetRows.push([t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'MISS', t.description, t.value === null ? 'not measured' : `${fmt(t.value)} ${t.unit}`, `${t.comparison} ${fmt(t.threshold)} ${t.unit}`]);
  }
  return `${table(rows)}\n\nTargets\n${table(targetRows)}`;
}
