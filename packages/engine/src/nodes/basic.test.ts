import { validateFlow } from '../graph/compile.js';
import { describe, expect, it } from 'vitest';
import { flowDoc, nodeStatuses, nodeStatusEvents, run } from '../test-harness.js';

const input = { id: 'in', kind: 'input' };
const constant = (id: string, value: unknown) => ({ id, kind: 'skill', config: { skill: 'constant', params: { value } } });

describe('router', () => {
  const routed = (mode: 'first' | 'all') =>
    flowDoc(
      [
        input,
        {
          id: 'route',
          kind: 'router',
          config: {
            mode,
            routes: [
              { port: 'big', when: 'n > 10' },
              { port: 'even', when: 'n % 2 = 0' },
            ],
            defaultPort: 'other',
          },
        },
        { id: 'bigOut', kind: 'output' },
        { id: 'evenOut', kind: 'output' },
        { id: 'otherOut', kind: 'output' },
      ],
      [
        { from: 'in', to: 'route' },
        { from: 'route', fromPort: 'big', to: 'bigOut' },
        { from: 'route', fromPort: 'even', to: 'evenOut' },
        { from: 'route', fromPort: 'other', to: 'otherOut' },
      ],
    );

  const portsOf = (events: Awaited<ReturnType<typeof run>>['events']) => nodeStatusEvents(events).find((e) => e.nodeId === 'route' && e.status === 'succeeded')!.ports;

  it('in "first" mode takes only the first matching route', async () => {
    const { result, events, state } = await run(routed('first'), { input: { n: 12 } });
    expect(portsOf(events)).toEqual(['big']);
    expect(result.output).toEqual({ bigOut: { n: 12 } });
    expect(nodeStatuses(state)).toMatchObject({ bigOut: 'succeeded', evenOut: 'skipped', otherOut: 'skipped' });
  });

  it('in "all" mode takes every matching route', async () => {
    const { result, events } = await run(routed('all'), { input: { n: 12 } });
    expect(portsOf(events)).toEqual(['big', 'even']);
    expect(result.output).toEqual({ bigOut: { n: 12 }, evenOut: { n: 12 } });
  });

  it('uses defaultPort when nothing matches', async () => {
    for (const mode of ['first', 'all'] as const) {
      const { result, events } = await run(routed(mode), { input: { n: 3 } });
      expect(portsOf(events)).toEqual(['other']);
      expect(result.output).toEqual({ otherOut: { n: 3 } });
    }
  });

  it('treats empty lists and objects as false', async () => {
    const doc = flowDoc(
      [input, { id: 'route', kind: 'router', config: { routes: [{ port: 'has', when: 'items' }] } }, { id: 'hasOut', kind: 'output' }, { id: 'none', kind: 'output' }],
      [
        { from: 'in', to: 'route' },
        { from: 'route', fromPort: 'has', to: 'hasOut' },
        { from: 'route', fromPort: 'default', to: 'none' },
      ],
    );
    expect((await run(doc, { input: { items: [] } })).result.output).toEqual({ none: { items: [] } });
    expect((await run(doc, { input: { items: [1] } })).result.output).toEqual({ hasOut: { items: [1] } });
  });
});

describe('merge', () => {
  /** `slow` finishes after `fast`, but comes first in edge order. */
  const merged = (config: Record<string, unknown>, toPorts: [string | undefined, string | undefined] = [undefined, 'second']) =>
    flowDoc(
      [
        input,
        { id: 'slow', kind: 'skill', config: { skill: 'delay', params: { ms: 50 } } },
        constant('fast', 'F'),
        { id: 'join', kind: 'merge', config },
        { id: 'out', kind: 'output' },
      ],
      [
        { from: 'in', to: 'slow' },
        { from: 'in', to: 'fast' },
        { from: 'slow', to: 'join', ...(toPorts[0] ? { toPort: toPorts[0] } : {}) },
        { from: 'fast', to: 'join', ...(toPorts[1] ? { toPort: toPorts[1] } : {}) },
        { from: 'join', to: 'out' },
      ],
    );

  it('"object" keys values by toPort, else by source node id', async () => {
    const { result } = await run(merged({ mode: 'object' }), { input: 'S' });
    expect(result.output).toEqual({ slow: 'S', second: 'F' });
  });

  it('"array" lists values in edge order, not finishing order', async () => {
    const { result, events } = await run(merged({ mode: 'array' }), { input: 'S' });
    const finished = nodeStatusEvents(events).filter((e) => e.status === 'succeeded').map((e) => e.nodeId);
    expect(finished.indexOf('fast')).toBeLessThan(finished.indexOf('slow'));
    expect(result.output).toEqual(['S', 'F']);
  });

  it('"first" gives the first value in edge order', async () => {
    const { result } = await run(merged({ mode: 'first' }), { input: 'S' });
    expect(result.output).toBe('S');
  });

  it('"first" gives the live branch when the others were skipped', async () => {
    const doc = flowDoc(
      [
        input,
        { id: 'route', kind: 'router', config: { routes: [{ port: 'a', when: 'pick = "a"' }], defaultPort: 'b' } },
        constant('a', 'from a'),
        constant('b', 'from b'),
        { id: 'join', kind: 'merge', config: { mode: 'first' } },
        { id: 'out', kind: 'output' },
      ],
      [
        { from: 'in', to: 'route' },
        { from: 'route', fromPort: 'a', to: 'a' },
        { from: 'route', fromPort: 'b', to: 'b' },
        { from: 'a', to: 'join' },
        { from: 'b', to: 'join' },
        { from: 'join', to: 'out' },
      ],
    );
    expect((await run(doc, { input: { pick: 'a' } })).result.output).toBe('from a');
    const other = await run(doc, { input: { pick: 'b' } });
    expect(other.result.output).toBe('from b');
    expect(nodeStatuses(other.state)).toMatchObject({ a: 'skipped', b: 'succeeded', join: 'succeeded' });
  });

  it('two inputs sharing a key are refused before the run', () => {
    const result = validateFlow(merged({ mode: 'object' }, ['same', 'same']));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((i) => i.message)).toEqual([expect.stringContaining('already delivers a value named "same" to "join"')]);
  });
});
