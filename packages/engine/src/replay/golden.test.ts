import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEventsNdjson, encodeEventsNdjson, reduceRun, type RunEvent } from '@loom/shared';
import { findDivergence } from './divergence.js';
import { GOLDEN_CASES, goldenPath, REPO_ROOT, runGoldenCase } from './golden-cases.js';

const golden = (name: string) => decodeEventsNdjson(readFileSync(goldenPath(name), 'utf8'));

describe('golden run logs', () => {
  for (const testCase of GOLDEN_CASES) {
    it(`${testCase.name}: the engine reproduces the recorded log byte for byte`, async () => {
      const recorded = readFileSync(goldenPath(testCase.name), 'utf8');
      const events = await runGoldenCase(testCase);
      const divergence = findDivergence(decodeEventsNdjson(recorded), events, { ignore: [] });
      // The message names the first differing event and field; `pnpm golden:update` rewrites
      // the files when a change is intended.
      expect(divergence?.message).toBeUndefined();
      expect(encodeEventsNdjson(events)).toBe(recorded);
    });

    it(`${testCase.name}: replaying the log alone gives the recorded outcome`, () => {
      const events = golden(testCase.name);
      const finished = events.at(-1) as Extract<RunEvent, { type: 'run.finished' }>;
      expect(finished.type).toBe('run.finished');
      const state = reduceRun(events);
      expect(state.status).toBe(finished.status);
      expect(Object.values(state.nodes).every((node) => node.status !== 'running')).toBe(true);
      // The run's output must be what its output nodes produced, as the node events recorded it.
      const flow = JSON.parse(readFileSync(REPO_ROOT + testCase.flow, 'utf8')) as { nodes: { id: string; kind: string; config?: { key?: string } }[] };
      const outputs = flow.nodes.filter((n) => n.kind === 'output' && state.nodes[n.id]?.status === 'succeeded');
      if (finished.status !== 'succeeded') expect(state.output).toBeUndefined();
      else if (outputs.length === 1) expect(state.output).toEqual(state.nodes[outputs[0]!.id]!.output);
      else expect(state.output).toEqual(Object.fromEntries(outputs.map((n) => [n.config?.key ?? n.id, state.nodes[n.id]!.output])));
    });
  }

  it('every example flow has golden cases (examples/<flow>.golden.json)', () => {
    const examples = readdirSync(REPO_ROOT + 'examples').filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json'));
    const covered = new Set(GOLDEN_CASES.map((c) => c.flow));
    expect(examples.filter((f) => !covered.has(`examples/${f}`))).toEqual([]);
  });

  it('the goldens cover success, skipped branches, retries, the error port, parallel waits, an agent with a tool, and failure', () => {
    const all = GOLDEN_CASES.flatMap((c) => golden(c.name));
    const statuses = new Set(all.flatMap((e) => (e.type === 'node.status' ? [e.status] : [])));
    expect([...statuses].sort()).toEqual(['failed', 'running', 'skipped', 'succeeded']);
    expect(all.some((e) => e.type === 'node.status' && e.retryInMs !== undefined)).toBe(true);
    expect(all.some((e) => e.type === 'node.status' && e.ports?.includes('error'))).toBe(true);
    expect(all.some((e) => e.type === 'tool.call')).toBe(true);
    expect(new Set(all.flatMap((e) => (e.type === 'run.finished' ? [e.status] : [])))).toEqual(new Set(['succeeded', 'failed']));
  });
});

describe('replay tests catch an engine that stops reproducing its logs', () => {
  const hello = GOLDEN_CASES.find((c) => c.name === 'hello')!;
  const triage = GOLDEN_CASES.find((c) => c.name === 'support-triage-normal')!;

  // A changed flow changes its hash and so the derived run id; set those aside to see
  // where the behaviour itself changed.
  const behaviourOnly = { ignore: ['ts', 'runId', 'flowHash'] };

  it('a changed flow is caught at its first event, and a changed skill output at its node', async () => {
    const flowText = readFileSync(REPO_ROOT + hello.flow, 'utf8').replace('Welcome to Loom.', 'Welcome!');
    const events = await runGoldenCase(hello, flowText);
    expect(findDivergence(golden('hello'), events)?.message).toMatch(/^seq 1 \(run.started\): field runId/);
    expect(findDivergence(golden('hello'), events, behaviourOnly)?.message).toBe(
      'seq 5 (node.status "greet" succeeded): field output: expected "Hello, Ada! Welcome to Loom.", got "Hello, Ada! Welcome!"',
    );
  });

  it('a missing or reordered event is reported', () => {
    const recorded = golden('support-triage-normal');
    const dropped = recorded.filter((e) => e.type !== 'tool.call');
    expect(findDivergence(recorded, dropped)?.seq).toBe(recorded.findIndex((e) => e.type === 'tool.call') + 1);
    const truncated = recorded.slice(0, -1);
    expect(findDivergence(recorded, truncated)?.message).toMatch(/missing event run.finished$/);
    const swapped = [...recorded];
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    expect(findDivergence(recorded, swapped)?.seq).toBe(2);
  });

  it('a different prompt is caught at the llm.request, before any model answer is used', async () => {
    const flowText = readFileSync(REPO_ROOT + triage.flow, 'utf8').replace('Please lookup_order before answering.', 'Please lookup_order first.');
    const events = await runGoldenCase(triage, flowText);
    const divergence = findDivergence(golden('support-triage-normal'), events, behaviourOnly);
    expect(divergence?.message).toMatch(/^seq \d+ \(llm.request "assistant"\): field messages\[1\]\.content/);
    expect(events[divergence!.seq - 1]?.type).toBe('llm.request');
  });

  it('ignoring ts is the default, and ts differences count when asked', () => {
    const recorded = golden('retry-and-fallback');
    const shifted = recorded.map((e) => ({ ...e, ts: e.ts + 1 }));
    expect(findDivergence(recorded, shifted)).toBeUndefined();
    expect(findDivergence(recorded, shifted, { ignore: [] })?.field).toBe('ts');
  });
});
