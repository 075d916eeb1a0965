import { describe, expect, it } from 'vitest';
import { matchSubagent } from './matching.js';

const subagents = [
  { id: 'analyst', capabilities: ['research', 'pricing'] },
  { id: 'marketer', capabilities: ['copy', 'pricing'] },
  { id: 'backup', capabilities: ['pricing'] },
];

describe('matchSubagent', () => {
  it('takes the first subagent in declared order with the capability and budget left', () => {
    expect(matchSubagent('pricing', subagents, () => true)).toEqual({ kind: 'matched', subagent: 'analyst' });
    expect(matchSubagent('pricing', subagents, (id) => id !== 'analyst')).toEqual({ kind: 'matched', subagent: 'marketer' });
    expect(matchSubagent('copy', subagents, () => true)).toEqual({ kind: 'matched', subagent: 'marketer' });
  });

  it('says when nobody has the capability, listing what the subagents offer', () => {
    expect(matchSubagent('legal', subagents, () => true)).toEqual({
      kind: 'no_subagent',
      message: 'no subagent has capability "legal" (subagents: analyst [research, pricing]; marketer [copy, pricing]; backup [pricing])',
    });
  });

  it('says which capable subagents had no budget left', () => {
    expect(matchSubagent('pricing', subagents, () => false)).toEqual({ kind: 'no_budget', capable: ['analyst', 'marketer', 'backup'] });
  });
});
