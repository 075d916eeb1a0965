/**
 * Targets for the canvas benchmark (issue 7) and its printed table. The figures come from
 * the bench page (apps/web/src/bench/main.tsx); the types below mirror its `MeasureResult`
 * (bench may not import apps/web, see .dependency-cruiser.cjs).
 */

export interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface FrameStats extends Distribution {
  fps: number;
  dropped: number;
}

export interface MeasureResult {
  frames: FrameStats;
  mounted: number;
  batches: number;
  updates: number;
  events: number;
  changed: number;
  renders: number;
  unchangedRenders: number;
  updateMs: Distribution;
  editorNodeUpdates: number;
  tasks: number;
}

export interface SetupResult {
  nodes: number;
  edges: number;
  mounted: number;
  fitZoom: number;
  setupMs: number;
}

export const WORKLOADS = ['idle', 'panzoom', 'panzoom-live', 'live', 'live-naive', 'live-tasks', 'live-still-edges'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** Thread CPU in the window (from a Chromium trace), per frame: comparable across runs on a busy machine, unlike wall frame times. */
export interface CpuPerFrame {
  windowMs: number;
  mainMsPerFrame: number;
  rasterMsPerFrame: number;
  compositorMsPerFrame: number;
  vizMsPerFrame: number;
  /** Share of the window the main thread was on a CPU. */
  mainBusy: number;
}

export interface WorkloadResult extends MeasureResult {
  cpu: CpuPerFrame;
  ratios?: Record<string, number | null>;
}

export interface SizeResult {
  setup: SetupResult;
  workloads: Partial<Record<WorkloadName, WorkloadResult>>;
}

export function cpuPerFrame(cpu: { windowMs: number; mainCpuMs: number; rasterCpuMs: number; compositorCpuMs: number; vizCpuMs: number }, frames: number): CpuPerFrame {
  const per = (ms: number) => (frames > 0 ? round(ms / frames) : 0);
  return {
    windowMs: cpu.windowMs,
    mainMsPerFrame: per(cpu.mainCpuMs),
    rasterMsPerFrame: per(cpu.rasterCpuMs),
    compositorMsPerFrame: per(cpu.compositorCpuMs),
    vizMsPerFrame: per(cpu.vizCpuMs),
    mainBusy: cpu.windowMs > 0 ? round(cpu.mainCpuMs / cpu.windowMs) : 0,
  };
}

/** "Smooth": 95 % of frames within two 60 Hz refreshes (≤ 33.4 ms, i.e. never below 30 fps but for 1 frame in 20). */
export const SMOOTH_P95_MS = 33.4;
/** A live update may re-render the nodes it changed, plus this share for anything else. */
export const RENDER_RATIO_LIMIT = 1.1;
/** The flow size. */
export const TARGET_NODES = 500;

export interface TargetResult {
  id: string;
  description: string;
  value: number | null;
  unit: string;
  comparison: '<=';
  threshold: number;
  /** null: not measured (size or workload missing, or it failed). */
  pass: boolean | null;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Renders per node whose state changed: 1 when only changed nodes re-render. */
export function renderRatio(result: MeasureResult): number | null {
  return result.changed > 0 ? round(result.renders / result.changed, 3) : null;
}

export function perUpdate(result: MeasureResult, value: number): number | null {
  return result.updates > 0 ? round(value / result.updates, 2) : null;
}

function target(id: string, description: string, value: number | null | undefined, unit: string, threshold: number): TargetResult {
  const v = value === undefined || value === null || !Number.isFinite(value) ? null : round(value);
  return { id, description, value: v, unit, comparison: '<=', threshold, pass: v === null ? null : v <= threshold };
}

export function evaluateTargets(sizes: Record<string, SizeResult>): TargetResult[] {
  const at = sizes[String(TARGET_NODES)]?.workloads;
  const n = TARGET_NODES;
  return [
    target(`panzoom.${n}.p95`, `${n} nodes: pan and zoom, p95 frame time`, at?.panzoom?.frames.p95, 'ms', SMOOTH_P95_MS),
    target(`panzoom-live.${n}.p95`, `${n} nodes: pan and zoom during a live run, p95 frame time`, at?.['panzoom-live']?.frames.p95, 'ms', SMOOTH_P95_MS),
    target(`live.${n}.p95`, `${n} nodes: live run (20 % of nodes change per 16 ms batch), p95 frame time`, at?.live?.frames.p95, 'ms', SMOOTH_P95_MS),
    target(`live.${n}.renders`, `${n} nodes: LoomNode renders per changed node in a live run`, at?.live ? renderRatio(at.live) : null, 'renders/changed', RENDER_RATIO_LIMIT),
  ];
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const fmt = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

export function formatTable(sizes: Record<string, SizeResult>): string {
  const head = ['nodes', 'workload', 'p50 ms', 'p95 ms', 'p99 ms', 'fps', 'dropped', 'smooth', 'main CPU ms/frame', 'raster CPU ms/frame', 'updates', 'changed/upd', 'renders/upd', 'renders/changed', 'update p50/p95 ms', 'editor upd/upd', 'tasks'];
  const rows: string[][] = [];
  for (const [n, size] of Object.entries(sizes)) {
    for (const name of WORKLOADS) {
      const r = size.workloads[name];
      if (!r) continue;
      const live = r.updates > 0;
      rows.push([
        n,
        name,
        fmt(r.frames.p50),
        fmt(r.frames.p95),
        fmt(r.frames.p99),
        fmt(r.frames.fps),
        String(r.frames.dropped),
        r.frames.p95 <= SMOOTH_P95_MS ? 'yes' : 'NO',
        fmt(r.cpu.mainMsPerFrame),
        fmt(r.cpu.rasterMsPerFrame),
        live ? String(r.updates) : '-',
        live ? fmt(perUpdate(r, r.changed)) : '-',
        live ? fmt(perUpdate(r, r.renders)) : '-',
        live ? fmt(renderRatio(r), 2) : '-',
        live ? `${fmt(r.updateMs.p50)} / ${fmt(r.updateMs.p95)}` : '-',
        live ? fmt(perUpdate(r, r.editorNodeUpdates), 2) : '-',
        live ? String(r.tasks) : '-',
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? pad(c, widths[i]!) : lpad(c, widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatTargets(targets: TargetResult[]): string {
  return targets
    .map((t) => `${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'MISS'}  ${pad(t.id, 24)} ${fmt(t.value, 2)} ${t.unit} (target ${t.comparison} ${t.threshold})  ${t.description}`)
    .join('\n');
}
