import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunEvent } from '@loom/shared';
import type { Db } from '../db/open.js';
import { RUN_ROW_STATUSES } from '../db/schema.js';
import type { RunService } from '../runs/run-service.js';

/**
 * Prometheus metrics for `/metrics`, in a registry of their own (several servers can live
 * in one test process). Fed from committed events, so they count what the log holds.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly nodeStarted = new Map<string, number>();
  /** Flow of each run in progress, for the orchestration metrics' labels. */
  private readonly runFlow = new Map<string, string>();
  private readonly nodeDuration: Histogram<'status'>;
  private readonly appendSeconds: Histogram;
  private readonly batchSize: Histogram;
  private readonly batchWait: Histogram;
  private readonly eventsTotal: Counter<'type'>;
  private readonly runsFinished: Counter<'status'>;
  private readonly tokens: Counter<'direction'>;
  private readonly orchestration: Gauge<'flow' | 'node' | 'metric'>;
  readonly commitFailures: Counter;
  private readonly liveMessages: Counter;
  private readonly liveDelay: Histogram;

  constructor(db: Db, runs: () => RunService) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'loom_process_' });
    const countByStatus = db.$client.prepare<[], { status: string; n: number }>('SELECT status, count(*) AS n FROM runs GROUP BY status');
    new Gauge({
      name: 'loom_runs',
      help: 'Runs in the database by status',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = new Map(countByStatus.all().map((r) => [r.status, r.n]));
        for (const status of RUN_ROW_STATUSES) this.set({ status }, counts.get(status) ?? 0);
      },
    });
    new Gauge({ name: 'loom_run_queue_depth', help: 'Runs waiting for a free run slot', registers, collect() { this.set(runs().queueDepth); } });
    new Gauge({ name: 'loom_runs_active', help: 'Runs executing now', registers, collect() { this.set(runs().activeRuns); } });
    this.liveMessages = new Counter({ name: 'loom_live_messages_total', help: 'run:events messages sent to run rooms (live events, one per run per commit; catch-ups not counted)', registers });
    this.liveDelay = new Histogram({
      name: 'loom_live_send_delay_seconds',
      help: 'From the oldest event of a live message being written by the engine to the message being sent to its room',
      buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
      registers,
    });
    this.runsFinished = new Counter({ name: 'loom_runs_finished_total', help: 'Runs finished since start, by status', labelNames: ['status'], registers });
    this.nodeDuration = new Histogram({
      name: 'loom_node_duration_seconds',
      help: 'Node latency from running to its final status',
      labelNames: ['status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    this.appendSeconds = new Histogram({ name: 'loom_event_append_seconds', help: 'Time to commit one batch of run events', buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5], registers });
    this.batchWait = new Histogram({ name: 'loom_event_commit_delay_seconds', help: 'From an event being written by the engine to its commit (oldest of the batch)', buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers });
    this.batchSize = new Histogram({ name: 'loom_event_batch_size', help: 'Events per committed batch', buckets: [1, 10, 100, 1_000, 10_000], registers });
    this.eventsTotal = new Counter({ name: 'loom_events_total', help: 'Run events committed, by type', labelNames: ['type'], registers });
    this.tokens = new Counter({ name: 'loom_llm_tokens_total', help: 'LLM tokens recorded in llm.response events', labelNames: ['direction'], registers });
    this.orchestration = new Gauge({
      name: 'loom_orchestration_metric',
      help: 'Latest value of each pattern metric (completion rate, utilization, speed-up…) by flow and node',
      labelNames: ['flow', 'node', 'metric'],
      registers,
    });
    this.commitFailures = new Counter({ name: 'loom_event_commit_failures_total', help: 'Event batches that failed to commit', registers });
  }

  committed(stats: { events: number; ms: number; oldestWaitMs: number }): void {
    this.appendSeconds.observe(stats.ms / 1000);
    this.batchSize.observe(stats.events);
    this.batchWait.observe(stats.oldestWaitMs / 1000);
  }

  /** A live message went to a run's room, `delayMs` after its oldest event was written. */
  liveSent(delayMs: number): void {
    this.liveMessages.inc();
    this.liveDelay.observe(delayMs / 1000);
  }

  /** Folds one run's committed events into the metrics. */
  observe(events: readonly RunEvent[]): void {
    // Counted per batch: a labelled inc per event costs more than the rest of this method.
    const byType = new Map<string, number>();
    for (const event of events) {
      byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
      switch (event.type) {
        case 'run.started':
          this.runFlow.set(event.runId, event.flowId);
          break;
        case 'node.status': {
          const key = `${event.runId}\u0000${event.nodeId}`;
          if (event.status === 'running') this.nodeStarted.set(key, event.ts);
          else if (event.status !== 'pending' && !(event.status === 'failed' && event.retryInMs !== undefined)) {
            const started = this.nodeStarted.get(key);
            this.nodeStarted.delete(key);
            if (started !== undefined) this.nodeDuration.observe({ status: event.status }, (event.ts - started) / 1000);
          }
          break;
        }
        case 'llm.response':
          this.tokens.inc({ direction: 'input' }, event.tokens.input);
          this.tokens.inc({ direction: 'output' }, event.tokens.output);
          break;
        case 'metrics':
          for (const [metric, value] of Object.entries(event.values)) this.orchestration.set({ flow: this.runFlow.get(event.runId) ?? 'unknown', node: event.nodeId ?? 'run', metric }, value);
          break;
        case 'run.finished':
          this.runsFinished.inc({ status: event.status });
          this.runFlow.delete(event.runId);
          // Nodes cut short by a cancel never report: forget them with their run.
          for (const key of this.nodeStarted.keys()) if (key.startsWith(`${event.runId}\u0000`)) this.nodeStarted.delete(key);
          break;
        default:
          break;
      }
    }
    for (const [type, n] of byType) this.eventsTotal.inc({ type }, n);
  }
}
