import { round } from '../measure.js';
import type { TargetResult } from '../report.js';

/** Targets of the server issue, evaluated on the collected figures, and the printed table. */

type Json = any;

function target(id: string, description: string, value: number | null | undefined, unit: string, comparison: TargetResult['comparison'], threshold: number, note?: string): TargetResult {
  const v = value === undefined || value === null || !Number.isFinite(value) ? null : round(value, 2);
  const pass = v === null ? null : comparison === '<=' ? v <= threshold : comparison === '>=' ? v >= threshold : v < threshold;
  return { id, description, value: v, unit, comparison, threshold, pass, ...(note ? { note } : {}) };
}

export function evaluateServerTargets(results: Record<string, Json>): TargetResult[] {
  const { startup, idleRss, trivialRun, concurrentRuns, liveLatency } = results;
  return [
    target('S1.coldStart', 'S1 cold start to /healthz 200 (fresh database), p50', startup?.coldP50Ms, 'ms', '<=', 1_500, startup ? `bare node:http ${startup.baselineP50Ms} ms` : undefined),
    target('S2.idleRss', 'S2 idle RSS of the server process', idleRss?.serverRssMb, 'MB', '<=', 150, idleRss ? `bare node:http ${idleRss.baselineRssMb} MB` : undefined),
    target('S3.trivialRun', 'S3 trivial run start-to-finish through the API, median', trivialRun?.p50Ms, 'ms', '<=', 3, trivialRun ? `system.info ${trivialRun.baselineP50Ms} ms` : undefined),
    target('S4.concurrentRuns', `S4 ${concurrentRuns?.runs ?? 100} concurrent ${concurrentRuns?.nodesPerRun ?? 10}-node runs through the API, wall`, concurrentRuns?.wallMs, 'ms', '<=', 300),
    target('S5.liveP99', 'S5 event commit-to-socket latency with 100 concurrent runs, p99', liveLatency?.p99Ms, 'ms', '<', 50),
  ];
}

// --- Table --------------------------------------------------------------------------

const fmt = (n: number | undefined | null, digits = 2): string => (n === undefined || n === null || Number.isNaN(n) ? '-' : round(n, digits).toLocaleString('en-US'));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

export function formatServerReport(results: Record<string, Json>, targets: TargetResult[]): string {
  const rows: string[][] = [['Measurement', 'Server', 'Baseline', 'Ratio', 'Figures']];
  const failed = (name: string, w: Json) => rows.push([name, 'FAILED', '-', '-', String(w.error).split('\n')[0]!.slice(0, 100)]);
  const { startup: s1, idleRss: s2, trivialRun: s3, concurrentRuns: s4, liveLatency: s5, longRun: s6 } = results;
  if (s1?.error) failed('S1 cold start', s1);
  else if (s1) {
    rows.push(['S1 cold start (p50)', `${fmt(s1.coldP50Ms, 0)} ms`, `${fmt(s1.baselineP50Ms, 0)} ms`, `${fmt(s1.coldRatio)}x`, `${s1.starts} starts; listening at ${fmt(s1.coldListeningP50Ms, 0)} ms; server process alone ${fmt(s1.coldServerProcessP50Ms, 0)} ms (rest: Node start-up)`]);
    rows.push(['S1 warm start (p50)', `${fmt(s1.warmP50Ms, 0)} ms`, `${fmt(s1.baselineP50Ms, 0)} ms`, `${fmt(s1.warmRatio)}x`, 'existing database']);
  }
  if (s2?.error) failed('S2 idle RSS', s2);
  else if (s2) rows.push(['S2 idle RSS', `${fmt(s2.serverRssMb, 1)} MB`, `${fmt(s2.baselineRssMb, 1)} MB`, `+${fmt(s2.overBaselineMb, 1)} MB`, `after ${fmt(s2.idleMs / 1000, 1)} s idle`]);
  if (s3?.error) failed('S3 trivial run', s3);
  else if (s3) rows.push(['S3 trivial run (p50)', `${fmt(s3.p50Ms, 3)} ms`, `${fmt(s3.baselineP50Ms, 3)} ms`, `${fmt(s3.ratio)}x`, `${s3.runs} sequential after ${fmt(s3.warmUp, 0)}; p99 ${fmt(s3.p99Ms, 2)} / system.info ${fmt(s3.baselineP99Ms, 2)} ms; a fresh server's first ${s3.firstRuns} runs: p50 ${fmt(s3.firstRunsP50Ms, 2)} ms`]);
  if (s4?.error) failed('S4 concurrent runs', s4);
  else if (s4) rows.push([`S4 ${s4.runs} concurrent runs`, `${fmt(s4.wallMs, 1)} ms`, `${fmt(s4.baselineWallMs, 1)} ms`, `${fmt(s4.ratio)}x`, `${s4.nodesPerRun} nodes each, median of ${s4.repetitions}; per run p50 ${fmt(s4.runP50Ms, 1)} / p99 ${fmt(s4.runP99Ms, 1)} ms; CPU server ${fmt(s4.serverCpuMs, 0)} / client ${fmt(s4.clientCpuMs, 0)} ms`]);
  if (s5?.error) failed('S5 live latency', s5);
  else if (s5) {
    const append = s5.server?.loom_event_append_seconds;
    const delay = s5.server?.loom_event_commit_delay_seconds;
    const sent = s5.server?.loom_live_send_delay_seconds;
    rows.push([
      'S5 commit-to-socket (p99)',
      `${fmt(s5.p99Ms, 1)} ms`,
      '-',
      '-',
      `p50 ${fmt(s5.p50Ms, 1)} ms, max ${fmt(s5.maxMs, 1)} ms over ${fmt(s5.liveEvents, 0)} live events (during the starts and joins: p99 ${fmt(s5.burstP99Ms, 1)} ms; after: ${fmt(s5.steadyP99Ms, 1)} ms); ${fmt(s5.eventsPerSec, 0)} events/s; round ${fmt(s5.roundWallMs, 0)} ms (delays ${fmt(s5.delaysPerRunMs, 0)} ms), ${fmt(s5.messagesPerRound, 0)} messages, CPU server ${fmt(s5.serverCpuMs, 0)} / client ${fmt(s5.clientCpuMs, 0)} ms, client loop delay p99 ${fmt(s5.clientLoopDelayP99Ms, 1)} ms` +
        (append ? `; server commit mean ${fmt(append.mean, 3)} ms (p99 <= ${fmt(append.p99AtMost, 1)})` : '') +
        (delay ? `, event-to-commit mean ${fmt(delay.mean, 2)} ms (p99 <= ${fmt(delay.p99AtMost, 1)})` : '') +
        (sent ? `, event-to-send mean ${fmt(sent.mean, 2)} ms (p99 <= ${fmt(sent.p99AtMost, 1)})` : ''),
    ]);
  }
  if (s6?.error) failed('S6 long run', s6);
  else if (s6) rows.push([`S6 ${fmt(s6.nodes, 0)}-node run`, `${fmt(s6.eventsPerSec, 0)} ev/s`, `${fmt(s6.baselineEventsPerSec, 0)} ev/s`, `${fmt(s6.ratio)}x time`, `${fmt(s6.events, 0)} events in ${fmt(s6.wallMs, 1)} ms, server CPU ${fmt(s6.serverCpuMs, 0)} ms (in-process SQLite sink ${fmt(s6.baselineWallMs, 1)} ms)`]);

  const targetRows: string[][] = [['Result', 'Target', 'Value', 'Threshold', 'Baseline']];
  for (const t of targets) {
    targetRows.push([t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'MISS', t.description, t.value === null ? 'not measured' : `${fmt(t.value)} ${t.unit}`, `${t.comparison} ${fmt(t.threshold)} ${t.unit}`, t.note ?? '']);
  }
  return `${table(rows)}\n\nTargets\n${table(targetRows)}`;
}
