import { describe, expect, it } from 'vitest';
import { resolveResults, scheduleResources } from './conflicts.js';

const task = (id: string, index: number, priority: number, resources: string[] = []) => ({ id, index, priority, resources });

describe('scheduleResources', () => {
  const wave = [task('low', 0, 1, ['db']), task('high', 1, 5, ['db', 'gpu']), task('other', 2, 3, ['gpu']), task('free', 3, 9)];

  it('makes subtasks sharing a resource take turns, higher priority first', () => {
    const { waitsFor, conflicts } = scheduleResources(wave, 2, 'priority');
    expect(conflicts).toEqual([
      { resource: 'db', wave: 2, policy: 'priority', order: ['high', 'low'] },
      { resource: 'gpu', wave: 2, policy: 'priority', order: ['high', 'other'] },
    ]);
    expect(Object.fromEntries(waitsFor)).toEqual({ low: ['high'], other: ['high'] });
  });

  it('uses declared order under "first", and priority under "majority"', () => {
    expect(scheduleResources(wave, 1, 'first').conflicts.map((c) => c.order)).toEqual([
      ['low', 'high'],
      ['high', 'other'],
    ]);
    expect(scheduleResources(wave, 1, 'majority').conflicts.map((c) => c.order)).toEqual([
      ['high', 'low'],
      ['high', 'other'],
    ]);
  });

  it('chains three contenders one after another', () => {
    const { waitsFor } = scheduleResources([task('a', 0, 0, ['db']), task('b', 1, 0, ['db']), task('c', 2, 0, ['db'])], 1, 'priority');
    expect(Object.fromEntries(waitsFor)).toEqual({ b: ['a'], c: ['b'] });
  });
});

describe('resolveResults', () => {
  const answer = (id: string, index: number, priority: number, output: unknown, resultKey = 'price') => ({ id, index, priority, resultKey, output });
  const answers = [answer('market', 0, 1, { amount: 44 }), answer('value', 1, 3, { amount: 50 }), answer('survey', 2, 1, { amount: 44 }), answer('name', 3, 0, 'Aurora', 'title')];

  it('keeps the highest priority answer under "priority" and lists the conflict', () => {
    const { resolved, conflicts } = resolveResults(answers, 'priority');
    expect(resolved).toEqual({ price: { amount: 50 }, title: 'Aurora' });
    expect(conflicts).toEqual([
      {
        key: 'price',
        candidates: [
          { subtask: 'market', output: { amount: 44 } },
          { subtask: 'value', output: { amount: 50 } },
          { subtask: 'survey', output: { amount: 44 } },
        ],
        chosen: { amount: 50 },
        chosenFrom: 'value',
        policy: 'priority',
        reason: 'highest priority (3)',
      },
    ]);
  });

  it('keeps the most common answer under "majority", and the declared first under "first"', () => {
    expect(resolveResults(answers, 'majority').conflicts[0]).toMatchObject({ chosen: { amount: 44 }, chosenFrom: 'market', reason: '2 of 3 votes' });
    expect(resolveResults(answers, 'first').conflicts[0]).toMatchObject({ chosen: { amount: 44 }, chosenFrom: 'market', reason: 'declared first' });
  });

  it('breaks ties by declared order', () => {
    const tied = [answer('b', 1, 2, 'B'), answer('a', 0, 2, 'A')];
    expect(resolveResults(tied, 'priority').conflicts[0]).toMatchObject({ chosenFrom: 'a', reason: 'highest priority (2), declared first of 2 tied' });
    expect(resolveResults(tied, 'majority').conflicts[0]).toMatchObject({ chosenFrom: 'a', reason: '1 of 2 votes, tie broken by declared order' });
  });

  it('sees equal answers (keys in any order) as agreement, not a conflict', () => {
    const { resolved, conflicts } = resolveResults([answer('a', 0, 0, { x: 1, y: 2 }), answer('b', 1, 5, { y: 2, x: 1 })], 'priority');
    expect(conflicts).toEqual([]);
    expect(resolved).toEqual({ price: { x: 1, y: 2 } });
  });
});
