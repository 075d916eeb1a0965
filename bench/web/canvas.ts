import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg, platform, tmpdir, totalmem } from 'node:os';
import { dirname, extname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from '@playwright/test';
import { cpuInWindow, TRACE_CATEGORIES } from './trace.js';
import { cpuPerFrame, evaluateTargets, formatTable, formatTargets, perUpdate, renderRatio, SMOOTH_P95_MS, WORKLOADS, type MeasureResult, type SetupResult, type SizeResult, type WorkloadName } from './report.js';

/**
 * `pnpm exec tsx bench/web/canvas.ts [--quick] [--strict] [--sizes=100,500]`
 *
 * The canvas benchmark (issue 7). Builds apps/web's bench page (bench.html, a production
 * build of the real FlowCanvas, editor and run stores) into a temp dir, serves it on
 * 127.0.0.1, and drives it in headless Chromium: for each flow size, frame times
 * (requestAnimationFrame deltas) while panning and zooming, during a synthetic live run, and
 * the LoomNode renders per run update, beside baselines measured in the same page: the idle
 * canvas (frame floor) and a naive store that recreates every node object per update.
 * Prints a table and writes bench/results/web-latest.json (--quick: web-quick.json).
 *
 * Exits non-zero when a measurement fails; missed targets fail the process only with --strict.
 * @playwright/test (from e2e) and vite (from apps/web) are loaded from those packages.
 */

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const webDir = join(repoRoot, 'apps/web');
const resultsDir = join(repoRoot, 'bench/results');
const CHROMIUM = '/usr/lib/chromium/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1440, height: 900 };

const args = process.argv.slice(2).filter((a) => a !== '--');
const quick = args.includes('--quick');
const strict = args.includes('--strict');
const sizesArg = args.find((a) => a.startsWith('--sizes='));
const unknown = args.filter((a) => a !== '--quick' && a !== '--strict' && a !== sizesArg);
if (unknown.length > 0) {
  console.error(`unknown option(s): ${unknown.join(' ')}\nusage: pnpm exec tsx bench/web/canvas.ts [--quick] [--strict] [--sizes=100,500,1000]`);
  process.exit(2);
}
const sizes = sizesArg ? sizesArg.slice('--sizes='.length).split(',').map(Number) : quick ? [100, 500] : [100, 500, 1000];
if (sizes.some((n) => !Number.isInteger(n) || n < 4 || n > 20_000)) {
  console.error(`--sizes: expected integers between 4 and 20000, got "${sizesArg}"`);
  process.exit(2);
}

/** Measured windows (ms). The live run: 20 % of the nodes change per socket batch, a batch every 16 ms. */
const plan = quick
  ? { warmUpMs: 300, idleMs: 400, panZoomMs: 1_000, liveMs: 1_200, share: 0.2, batchEveryMs: 16 }
  : { warmUpMs: 800, idleMs: 1_000, panZoomMs: 2_000, liveMs: 3_000, share: 0.2, batchEveryMs: 16 };

interface MeasureOptions {
  ms: number;
  motion: boolean;
  run: 'none' | 'app' | 'naive';
  tasks: boolean;
  preloadTasks: number;
  css: string;
  share: number;
  batchEveryMs: number;
}

/** Stops the dash animation of edges into running nodes (FlowCanvas's RunningEdges stylesheet; xyflow's `animated` edges too). */
const STILL_EDGES_CSS = '.react-flow__edge path.react-flow__edge-path { animation: none !important; }';
/** Finished tasks in the run state before live-tasks starts, per node of the flow. */
const PRELOADED_TASKS_PER_NODE = 5;

function workloadOptions(name: WorkloadName, n: number): MeasureOptions {
  const base: MeasureOptions = { ms: plan.liveMs, motion: false, run: 'app', tasks: false, preloadTasks: 0, css: '', share: plan.share, batchEveryMs: plan.batchEveryMs };
  switch (name) {
    case 'idle':
      return { ...base, ms: plan.idleMs, run: 'none' };
    case 'panzoom':
      return { ...base, ms: plan.panZoomMs, motion: true, run: 'none' };
    case 'panzoom-live':
      return { ...base, ms: plan.panZoomMs, motion: true };
    case 'live':
      return base;
    case 'live-naive':
      return { ...base, run: 'naive' };
    case 'live-tasks':
      // A fixed task count (no new tasks in the window), so the figure does not depend on how many batches a busy machine got through.
      return { ...base, preloadTasks: PRELOADED_TASKS_PER_NODE * n };
    case 'live-still-edges':
      return { ...base, css: STILL_EDGES_CSS };
  }
}

/** What the page exposes (apps/web/src/bench/main.tsx). */
interface PageGlobals {
  loomBench: { setup(n: number): Promise<SetupResult>; measure(options: MeasureOptions): Promise<MeasureResult> };
}

/** The page's modules, loaded from the packages that depend on them. */
async function loadTools() {
  const fromE2e = createRequire(join(repoRoot, 'e2e/package.json'));
  const fromWeb = createRequire(join(webDir, 'package.json'));
  const playwright = fromE2e('@playwright/test') as typeof import('@playwright/test');
  const vite = (await import(pathToFileURL(fromWeb.resolve('vite')).href)) as typeof import('vite');
  return { chromium: playwright.chromium, vite };
}

/** A production build of bench.html only (the app's vite.config.ts, another input and outDir). */
async function buildPage(vite: typeof import('vite'), outDir: string): Promise<void> {
  await vite.build({
    root: webDir,
    configFile: join(webDir, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, sourcemap: false, rolldownOptions: { input: join(webDir, 'bench.html') } },
  });
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json' };

/** Serves `dir` on 127.0.0.1 (a random port); resolves to its base URL. */
function serveStatic(dir: string): Promise<{ server: Server; baseUrl: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(dir, path);
    let ok = file.startsWith(dir + sep);
    try {
      ok &&= statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (!ok) {
      res.writeHead(404).end(`no file ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('static server: no port'));
      resolvePromise({ server, baseUrl: `http://127.0.0.1:${address.port}` });
    });
  });
}

const pageApi = (page: Page) => ({
  setup: (n: number) => page.evaluate((size) => (globalThis as unknown as PageGlobals).loomBench.setup(size), n),
  measure: (options: MeasureOptions) => page.evaluate((o) => (globalThis as unknown as PageGlobals).loomBench.measure(o), options),
});

/** Every workload at one flow size, in a fresh page (its own heap, nothing left from other sizes). */
async function measureSize(browser: Browser, baseUrl: string, n: number): Promise<SizeResult> {
  const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  try {
    await page.goto(`${baseUrl}/bench.html`);
    await page.waitForFunction(() => 'loomBench' in globalThis);
    const api = pageApi(page);
    const setup = await api.setup(n);
    // Warm-up (JIT, first mounts of off-screen nodes): pan and zoom during a live run, not recorded.
    await api.measure({ ...workloadOptions('panzoom-live', n), ms: plan.warmUpMs });
    const workloads: SizeResult['workloads'] = {};
    for (const name of WORKLOADS) {
      await browser.startTracing(page, { categories: TRACE_CATEGORIES });
      let measured: MeasureResult;
      let trace: Buffer;
      try {
        measured = await api.measure(workloadOptions(name, n));
      } finally {
        trace = await browser.stopTracing();
      }
      if (errors.length) throw new Error(`page error during ${name}: ${errors.join('; ')}`);
      const result = { ...measured, cpu: cpuPerFrame(cpuInWindow(JSON.parse(trace.toString('utf8'))), measured.frames.count) };
      workloads[name] = result;
      console.log(
        `  ${String(n).padStart(5)} ${name.padEnd(16)} p50 ${result.frames.p50.toFixed(1)} ms, p95 ${result.frames.p95.toFixed(1)} ms, ${result.frames.fps.toFixed(1)} fps, main thread ${result.cpu.mainMsPerFrame} ms CPU/frame` +
          (result.updates ? `, ${perUpdate(result, result.renders)} renders / ${perUpdate(result, result.changed)} changed per update, update p95 ${result.updateMs.p95} ms` : ''),
      );
    }
    // Ratios against the baselines measured in the same page.
    const { idle, panzoom, live } = workloads;
    const naive = workloads['live-naive'];
    const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? Math.round((a / b) * 100) / 100 : null);
    if (panzoom) panzoom.ratios = { p95VsIdle: ratio(panzoom.frames.p95, idle?.frames.p95) };
    if (workloads['panzoom-live']) workloads['panzoom-live'].ratios = { p95VsPanzoom: ratio(workloads['panzoom-live'].frames.p95, panzoom?.frames.p95) };
    if (live && naive) {
      live.ratios = {
        p95VsNaive: ratio(live.frames.p95, naive.frames.p95),
        rendersVsNaive: ratio(live.renders / Math.max(1, live.updates), naive.renders / Math.max(1, naive.updates)),
        updateP95VsNaive: ratio(live.updateMs.p95, naive.updateMs.p95),
      };
    }
    const tasks = workloads['live-tasks'];
    if (live && tasks) tasks.ratios = { updateP50VsLive: ratio(tasks.updateMs.p50, live.updateMs.p50), p95VsLive: ratio(tasks.frames.p95, live.frames.p95) };
    const still = workloads['live-still-edges'];
    if (live && still) still.ratios = { p50VsLive: ratio(still.frames.p50, live.frames.p50), p95VsLive: ratio(still.frames.p95, live.frames.p95) };
    return { setup, workloads };
  } finally {
    await page.close();
  }
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadAvgStart = loadavg()[0]!;
  console.log(`loom canvas bench${quick ? ' --quick' : ''}: sizes ${sizes.join(', ')}; node ${process.version}, ${cpus().length} cpu(s)\n`);
  const { chromium, vite } = await loadTools();

  const outDir = mkdtempSync(join(tmpdir(), 'loom-canvas-bench-'));
  let server: Server | undefined;
  let browser: Browser | undefined;
  const results: Record<string, SizeResult> = {};
  const failures: { size: number; error: string }[] = [];
  let chromiumVersion = '';
  try {
    const buildStart = performance.now();
    await buildPage(vite, outDir);
    console.log(`> built bench.html in ${((performance.now() - buildStart) / 1000).toFixed(1)} s`);
    const served = await serveStatic(outDir);
    server = served.server;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    chromiumVersion = browser.version();
    for (const n of sizes) {
      console.log(`> ${n} nodes`);
      try {
        results[String(n)] = await measureSize(browser, served.baseUrl, n);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        console.log(`  FAILED: ${message}`);
        failures.push({ size: n, error: message });
      }
    }
  } finally {
    await browser?.close();
    server?.close();
    rmSync(outDir, { recursive: true, force: true });
  }

  const targets = evaluateTargets(results);
  const durationSec = Math.round((performance.now() - t0) / 100) / 10;
  console.log(`\n${formatTable(results)}\n`);
  console.log(`Targets (smooth = p95 frame ≤ ${SMOOTH_P95_MS} ms; renders/changed ≈ 1 means only changed nodes re-render):\n${formatTargets(targets)}\n`);
  for (const [n, size] of Object.entries(results)) {
    const live = size.workloads.live;
    const naive = size.workloads['live-naive'];
    if (live && naive) {
      console.log(`${n} nodes: live run ${renderRatio(live)} renders per changed node (naive store: ${renderRatio(naive)}); p95 frame ${live.frames.p95} ms vs naive ${naive.frames.p95} ms; editor node-array updates per run update ${perUpdate(live, live.editorNodeUpdates)}`);
    }
  }

  const report = {
    machine: { platform: platform(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memGb: Math.round(totalmem() / 2 ** 30), node: process.version, chromium: chromiumVersion, loadAvgStart, loadAvgEnd: loadavg()[0]! },
    date: startedAt.toISOString(),
    quick,
    durationSec,
    notes: {
      viewport: `${VIEWPORT.width}×${VIEWPORT.height}, deviceScaleFactor 1, ${CHROMIUM} ${CHROMIUM_ARGS.join(' ')}`,
      plan,
      smooth: `p95 of requestAnimationFrame deltas ≤ ${SMOOTH_P95_MS} ms (95 % of frames within two 60 Hz refreshes)`,
      motion: 'setViewport every frame: zoom from the fitted view (every node visible) to zoom 1 (or 2× the fitted zoom if more) and back while the centre circles a quarter of the flow, one cycle per 2 s',
      run: `synthetic run.started, then a batch every ${plan.batchEveryMs} ms of wall time (a late timer catches up, as queued socket messages would) in which ${plan.share * 100} % of the nodes (a rotating window) go pending/succeeded → running or running → succeeded; batches merged once per animation frame before useRun.receive, as stores/run.ts does`,
      naive: 'live-naive also replaces every canvas node object (new data) per update, as a store keeping status in node data would',
      tasks: `live-tasks is live with ${PRELOADED_TASKS_PER_NODE} finished tasks per node in the run state (what pattern nodes leave behind); LoomNode's per-node task selector scans them all on every update`,
      stillEdges: `live-still-edges is live with the edge dash animation stopped (${STILL_EDGES_CSS}): a diagnostic of what animating edges into running nodes costs`,
    },
    sizes: results,
    targets,
    targetsMet: targets.every((t) => t.pass !== false),
    failures,
  };
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, quick ? 'web-quick.json' : 'web-latest.json');
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwrote ${relative(process.cwd(), file)} in ${durationSec} s`);
  if (failures.length) return 1;
  if (strict && targets.some((t) => t.pass === false)) return 1;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
