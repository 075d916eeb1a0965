import { describe, expect, it } from 'vitest';
import { parseSubtasks } from './subtasks.js';

const problemsOf = (list: unknown[]) => {
  const parsed = parseSubtasks(list);
  if (parsed.ok) throw new Error('expected problems');
  return parsed.problems;
};

describe('parseSubtasks', () => {
  it('fills defaults, keeps declared order as the index and drops repeated dependencies', () => {
    const parsed = parseSubtasks([
      { id: 'a', capability: 'research' },
      { id: 'b', capability: 'write', dependsOn: ['a', 'a'], priority: 2, tokens: 10, timeMs: 50, resources: ['db'], resultKey: 'k', input: { x: 1 } },
    ]);
    expect(parsed).toEqual({
      ok: true,
      subtasks: [
        { id: 'a', capability: 'research', dependsOn: [], priority: 0, resources: [], index: 0 },
        { id: 'b', capability: 'write', dependsOn: ['a'], priority: 2, tokens: 10, timeMs: 50, resources: ['db'], resultKey: 'k', input: { x: 1 }, index: 1 },
      ],
    });
  });

  it('names the subtask and the field of each problem', () => {
    expect(
      problemsOf([
        { id: 'a', capability: 'research', priority: 'high' },
        { id: 'b' },
        { capability: 'x' },
        { id: 'c', capability: 'x', depends_on: ['a'] },
        { id: 'd', capability: 'x', tokens: -5 },
      ]),
    ).toEqual([
      'subtask "a" priority: Invalid input: expected number, received string',
      'subtask "b" capability: is required',
      'subtask #3 id: is required',
      'subtask "c" has unknown field "depends_on"',
      'subtask "d" tokens: Too small: expected number to be >=0',
    ]);
  });

  it('rejects items that are not objects, repeated ids and unknown dependencies', () => {
    expect(problemsOf(['write the copy'])).toEqual(['subtask #1 must be an object like { "id": "...", "capability": "..." }, got the text "write the copy"']);
    expect(
      problemsOf([
        { id: 'a', capability: 'x' },
        { id: 'b', capability: 'x', dependsOn: ['z'] },
        { id: 'a', capability: 'y' },
      ]),
    ).toEqual(['subtask #3 repeats id "a" (first used by subtask #1)', 'subtask "b" dependsOn unknown subtask "z"']);
  });

  it('accepts an empty plan', () => {
    expect(parseSubtasks([])).toEqual({ ok: true, subtasks: [] });
  });
});
