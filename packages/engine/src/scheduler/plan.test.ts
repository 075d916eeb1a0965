import { describe, expect, it } from 'vitest';
import type { CompiledFlow } from '../graph/compile.js';
import { compile, flowDoc } from '../test-harness.js';
import { applyOutcome, collectInput, createSchedulerState, hasReady, NodePhase, retryDelay, takeReady, type SchedulerState } from './plan.js';

const noop = (id: string) => ({ id, kind: 'skill', config: { skill: 'noop' } });

/** Node ids for indexes, so failures read as names. */
function ids(compiled: CompiledFlow, indexes: number[]): string[] {
  return indexes.map((i) => compiled.nodeIds[i]!);
}

function phaseOf(compiled: CompiledFlow, state: SchedulerState, id: string): number {
  return state.phase[compiled.indexOf.get(id)!]!;
}

/** Takes `id` off the ready queue (it must be next) and folds a success into the state. */
function succeed(compiled: CompiledFlow, state: SchedulerState, id: string, output: unknown = id, ports?: string[]): string[] {
  expect(ids(compiled, takeReady(state, 1))).toEqual([id]);
  return ids(compiled, applyOutcome(compiled, state, compiled.indexOf.get(id)!, { kind: 'succeeded', output, ports }));
}

describe('takeReady', () => {
  const compiled = compile(
    flowDoc(
      [
        { id: 'i1', kind: 'input' },
        { id: 'i2', kind: 'input' },
        { id: 'i3', kind: 'input' },
        noop('a'),
        noop('b'),
        noop('c'),
      ],
      [
        { from: 'i1', to: 'a' },
        { from: 'i2', to: 'b' },
        { from: 'i3', to: 'c' },
      ],
    ),
  );

  it('hands out at most `capacity` nodes, in file order for the inputs, and marks them running', () => {
    const state = createSchedulerState(compiled);
    expect(ids(compiled, takeReady(state, 2))).toEqual(['i1', 'i2']);
    expect(phaseOf(compiled, state, 'i1')).toBe(NodePhase.running);
    expect(phaseOf(compiled, state, 'i3')).toBe(NodePhase.ready);
    expect(takeReady(state, 0)).toEqual([]);
    expect(ids(compiled, takeReady(state, 10))).toEqual(['i3']);
    expect(hasReady(state)).toBe(false);
    expect(takeReady(state, 10)).toEqual([]);
  });

  it('queues nodes in the order they became ready, not in file order', () => {
    const state = createSchedulerState(compiled);
    takeReady(state, 3);
    for (const id of ['i3', 'i1', 'i2']) applyOutcome(compiled, state, compiled.indexOf.get(id)!, { kind: 'succeeded', output: null, ports: undefined });
    expect(ids(compiled, takeReady(state, 2))).toEqual(['c', 'a']);
    expect(ids(compiled, takeReady(state, 2))).toEqual(['b']);
  });
});

describe('applyOutcome', () => {
  // in -> route; route:yes -> a -> a2 -> join; route:no -> b -> b2 -> join; join -> out
  const diamond = compile(
    flowDoc(
      [
        { id: 'in', kind: 'input' },
        { id: 'route', kind: 'router', config: { routes: [{ port: 'yes', when: 'ok' }], defaultPort: 'no' } },
        noop('a'),
        noop('a2'),
        noop('b'),
        noop('b2'),
        { id: 'join', kind: 'merge' },
        { id: 'out', kind: 'output' },
      ],
      [
        { from: 'in', to: 'route' },
        { from: 'route', fromPort: 'yes', to: 'a' },
        { from: 'route', fromPort: 'no', to: 'b' },
        { from: 'a', to: 'a2' },
        { from: 'b', to: 'b2' },
        { from: 'a2', to: 'join' },
        { from: 'b2', to: 'join' },
        { from: 'join', to: 'out' },
      ],
    ),
  );

  it('activates only the router ports taken and skips the other branch up to, not including, the merge', () => {
    const state = createSchedulerState(diamond);
    expect(succeed(diamond, state, 'in', { ok: true })).toEqual([]);
    expect(succeed(diamond, state, 'route', { ok: true }, ['yes'])).toEqual(['b', 'b2']);
    expect(phaseOf(diamond, state, 'b')).toBe(NodePhase.skipped);
    expect(phaseOf(diamond, state, 'b2')).toBe(NodePhase.skipped);
    // The merge still waits for the live branch.
    expect(phaseOf(diamond, state, 'join')).toBe(NodePhase.pending);
    expect(succeed(diamond, state, 'a')).toEqual([]);
    expect(phaseOf(diamond, state, 'join')).toBe(NodePhase.pending);
    expect(succeed(diamond, state, 'a2', 'from a')).toEqual([]);
    expect(phaseOf(diamond, state, 'join')).toBe(NodePhase.ready);
    expect(collectInput(diamond, state, diamond.indexOf.get('join')!, {})).toEqual([{ key: 'a2', value: 'from a' }]);
  });

  it('sends a handled failure out of the error port only', () => {
    const compiled = compile(
      flowDoc(
        [{ id: 'in', kind: 'input' }, { ...noop('risky'), onError: 'continue' }, noop('normal'), noop('handler')],
        [
          { from: 'in', to: 'risky' },
          { from: 'risky', to: 'normal' },
          { from: 'risky', fromPort: 'error', to: 'handler' },
        ],
      ),
    );
    const state = createSchedulerState(compiled);
    succeed(compiled, state, 'in');
    takeReady(state, 1);
    const error = { message: 'boom', code: 'x' };
    const skipped = applyOutcome(compiled, state, compiled.indexOf.get('risky')!, { kind: 'failed', error });
    expect(ids(compiled, skipped)).toEqual(['normal']);
    expect(phaseOf(compiled, state, 'risky')).toBe(NodePhase.failed);
    expect(ids(compiled, takeReady(state, 5))).toEqual(['handler']);
    expect(collectInput(compiled, state, compiled.indexOf.get('handler')!, {})).toEqual({ error });
  });

  // route:x -> c -> m; route:y -> d -> m; m -> after; route:x -> c -> j; route:z -> e -> j
  const threeWay = compile(
    flowDoc(
      [
        { id: 'in', kind: 'input' },
        {
          id: 'route',
          kind: 'router',
          config: {
            routes: [
              { port: 'x', when: 'p = "x"' },
              { port: 'y', when: 'p = "y"' },
              { port: 'z', when: 'p = "z"' },
            ],
          },
        },
        noop('c'),
        noop('d'),
        noop('e'),
        { id: 'm', kind: 'merge' },
        noop('after'),
        noop('j'),
      ],
      [
        { from: 'in', to: 'route' },
        { from: 'route', fromPort: 'x', to: 'c' },
        { from: 'route', fromPort: 'y', to: 'd' },
        { from: 'route', fromPort: 'z', to: 'e' },
        { from: 'c', to: 'm' },
        { from: 'd', to: 'm' },
        { from: 'm', to: 'after' },
        { from: 'c', to: 'j', toPort: 'left' },
        { from: 'e', to: 'j', toPort: 'right' },
      ],
    ),
  );

  it('skips a merge whose inputs are all dead, and what follows it', () => {
    const state = createSchedulerState(threeWay);
    succeed(threeWay, state, 'in', { p: 'z' });
    const skipped = succeed(threeWay, state, 'route', { p: 'z' }, ['z']);
    expect(new Set(skipped)).toEqual(new Set(['c', 'd', 'm', 'after']));
    expect(phaseOf(threeWay, state, 'm')).toBe(NodePhase.skipped);
    expect(phaseOf(threeWay, state, 'after')).toBe(NodePhase.skipped);
    expect(phaseOf(threeWay, state, 'e')).toBe(NodePhase.ready);
  });

  it('skips a regular node when one of its inputs is dead, even if the others carry values', () => {
    const state = createSchedulerState(threeWay);
    succeed(threeWay, state, 'in', { p: 'z' });
    succeed(threeWay, state, 'route', { p: 'z' }, ['z']);
    expect(phaseOf(threeWay, state, 'j')).toBe(NodePhase.pending);
    expect(succeed(threeWay, state, 'e')).toEqual(['j']);
    expect(phaseOf(threeWay, state, 'j')).toBe(NodePhase.skipped);
    expect(hasReady(state)).toBe(false);
  });
});

describe('collectInput', () => {
  const compiled = compile(
    flowDoc(
      [
        { id: 'in', kind: 'input' },
        noop('p'),
        noop('q'),
        noop('single'),
        noop('named'),
        noop('both'),
        { id: 'm', kind: 'merge' },
      ],
      [
        { from: 'in', to: 'p' },
        { from: 'in', to: 'q' },
        { from: 'p', to: 'single' },
        { from: 'p', to: 'named', toPort: 'text' },
        { from: 'p', to: 'both', toPort: 'left' },
        { from: 'q', to: 'both' },
        { from: 'q', to: 'm', toPort: 'second' },
        { from: 'p', to: 'm' },
      ],
    ),
  );
  const state = createSchedulerState(compiled);
  succeed(compiled, state, 'in', 'run input');
  succeed(compiled, state, 'p', 'P');
  succeed(compiled, state, 'q', 'Q');
  const at = (id: string) => collectInput(compiled, state, compiled.indexOf.get(id)!, { the: 'run input' });

  it('gives an input node the run input', () => {
    expect(at('in')).toEqual({ the: 'run input' });
  });

  it('gives a node with one plain incoming edge that value', () => {
    expect(at('single')).toBe('P');
  });

  it('names a single value by its toPort', () => {
    expect(at('named')).toEqual({ text: 'P' });
  });

  it('gives several inputs as an object keyed by toPort, else by source node id', () => {
    expect(at('both')).toEqual({ left: 'P', q: 'Q' });
  });

  it('gives a merge {key, value} pairs in edge order', () => {
    expect(at('m')).toEqual([
      { key: 'second', value: 'Q' },
      { key: 'p', value: 'P' },
    ]);
  });
});

describe('retryDelay', () => {
  const policy = { backoffMs: 100, factor: 2, maxBackoffMs: 1000, jitter: 0 };

  it('grows exponentially from backoffMs and stops at maxBackoffMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelay(policy, attempt, 'task'))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('with factor 1 waits the same each time', () => {
    expect([1, 2, 3].map((attempt) => retryDelay({ ...policy, factor: 1 }, attempt, 'task'))).toEqual([100, 100, 100]);
  });

  it('jitters deterministically per task id, within [base * (1 - jitter), base]', () => {
    const jittered = { ...policy, jitter: 0.5 };
    const taskIds = Array.from({ length: 50 }, (_, i) => `run-1/node/${i}`);
    const waits = taskIds.map((id) => retryDelay(jittered, 3, id));
    for (const [i, wait] of waits.entries()) {
      expect(wait).toBeGreaterThanOrEqual(200);
      expect(wait).toBeLessThanOrEqual(400);
      expect(retryDelay(jittered, 3, taskIds[i]!)).toBe(wait);
    }
    // Spread out, not one value for every task.
    expect(new Set(waits).size).toBeGreaterThan(10);
  });

  it('keeps a jittered wait under the cap', () => {
    const waits = Array.from({ length: 20 }, (_, i) => retryDelay({ ...policy, jitter: 1 }, 10, `t${i}`));
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(1000);
    }
  });
});
