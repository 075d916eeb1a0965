import { describe, expect, it } from 'vitest';
import { describeCycle, findCycle, planWaves } from './graph.js';

const node = (id: string, dependsOn: string[] = [], priority = 0) => ({ id, dependsOn, priority });
const indexed = (nodes: { id: string; dependsOn: string[]; priority: number }[]) => nodes.map((n, index) => ({ ...n, index }));

describe('planWaves', () => {
  it('puts each subtask in the wave after its latest dependency', () => {
    const plan = planWaves(indexed([node('launch', ['copy', 'forecast']), node('copy', ['audience']), node('forecast', ['audience', 'price']), node('audience'), node('price')]));
    expect(plan).toEqual({ ok: true, waves: [['audience', 'price'], ['copy', 'forecast'], ['launch']] });
  });

  it('orders a wave by priority, then declared order', () => {
    const plan = planWaves(indexed([node('a', [], 1), node('b', [], 5), node('c', [], 1), node('d', [], 5), node('e', [], -1)]));
    expect(plan).toEqual({ ok: true, waves: [['b', 'd', 'a', 'c', 'e']] });
  });

  it('gives no waves for no subtasks', () => {
    expect(planWaves([])).toEqual({ ok: true, waves: [] });
  });

  it('handles a chain as long as maxSubtasks allows (10 000) without recursion', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) => node(`s${i}`, i === 0 ? [] : [`s${i - 1}`]));
    const plan = planWaves(indexed(chain));
    expect(plan.ok && plan.waves.length).toBe(10_000);
  });
});

describe('findCycle', () => {
  it('names the cycle in order, closing on its first subtask', () => {
    const nodes = indexed([node('a', ['b']), node('b', ['c']), node('c', ['a']), node('d', ['a'])]);
    expect(findCycle(nodes)).toEqual(['a', 'b', 'c', 'a']);
    expect(planWaves(nodes)).toEqual({ ok: false, cycle: ['a', 'b', 'c', 'a'] });
    expect(describeCycle(['a', 'b', 'c', 'a'])).toBe('dependency cycle: a -> b -> c -> a (each subtask depends on the next)');
  });

  it('finds a cycle reached through an acyclic part, and a subtask depending on itself', () => {
    expect(findCycle(indexed([node('start', ['x']), node('x', ['y']), node('y', ['z']), node('z', ['x'])]))).toEqual(['x', 'y', 'z', 'x']);
    expect(findCycle(indexed([node('ok'), node('self', ['self'])]))).toEqual(['self', 'self']);
  });

  it('finds none in a diamond', () => {
    expect(findCycle(indexed([node('top', ['l', 'r']), node('l', ['base']), node('r', ['base']), node('base')]))).toBeUndefined();
  });
});
