import { describe, expect, it } from 'vitest';
import { BudgetLedger, negotiateWave } from './budget.js';

const subagents = [
  { id: 'analyst', capabilities: ['research'] },
  { id: 'spare', capabilities: ['research'] },
  { id: 'writer', capabilities: ['copy'] },
];
const ledgerOf = (coordinator: { tokens?: number; timeMs?: number } = {}) =>
  new BudgetLedger(coordinator, [
    { id: 'analyst', budget: { tokens: 500 } },
    { id: 'spare', budget: { tokens: 100, timeMs: 1_000 } },
    { id: 'writer', budget: {} },
  ]);

describe('negotiateWave', () => {
  it('grants requests in the order given, moving to the next capable subagent when one runs out', () => {
    const ledger = ledgerOf();
    const decisions = negotiateWave(
      [
        { subtaskId: 'big', capability: 'research', tokens: 450 },
        { subtaskId: 'small', capability: 'research', tokens: 80, timeMs: 300 },
        { subtaskId: 'free', capability: 'research' },
      ],
      subagents,
      ledger,
    );
    expect(decisions).toEqual([
      { ok: true, subtaskId: 'big', subagent: 'analyst', tokens: 450, timeMs: undefined },
      { ok: true, subtaskId: 'small', subagent: 'spare', tokens: 80, timeMs: 300 },
      { ok: true, subtaskId: 'free', subagent: 'analyst', tokens: 0, timeMs: undefined },
    ]);
    expect(ledger.tokensGranted).toBe(530);
    expect(ledger.timeGrantedMs).toBe(300);
    expect(ledger.remaining()).toEqual({ coordinator: {}, analyst: { tokens: 50 }, spare: { tokens: 20, timeMs: 700 }, writer: {} });
  });

  it('denies a request no capable subagent can take, with each one\'s numbers', () => {
    const decisions = negotiateWave(
      [
        { subtaskId: 'first', capability: 'research', tokens: 480 },
        { subtaskId: 'second', capability: 'research', tokens: 200, timeMs: 2_000 },
      ],
      subagents,
      ledgerOf(),
    );
    expect(decisions[1]).toEqual({
      ok: false,
      subtaskId: 'second',
      code: 'budget_denied',
      message: 'budget denied: subtask "second" asked for 200 tokens and 2000 ms, but analyst has 20 of its 500 tokens left; spare has 100 of its 100 tokens and 1000 of its 1000 ms left',
    });
  });

  it('denies what the coordinator cannot grant, even when a subagent could', () => {
    const ledger = ledgerOf({ tokens: 300 });
    const decisions = negotiateWave(
      [
        { subtaskId: 'a', capability: 'copy', tokens: 200 },
        { subtaskId: 'b', capability: 'copy', tokens: 200 },
        { subtaskId: 'c', capability: 'copy', tokens: 100 },
      ],
      subagents,
      ledger,
    );
    expect(decisions.map((d) => d.ok)).toEqual([true, false, true]);
    expect(decisions[1]).toMatchObject({ message: 'budget denied: subtask "b" asked for 200 tokens, but the coordinator has 100 of its 300 tokens left' });
    expect(ledger.remaining().coordinator).toEqual({ tokens: 0 });
  });

  it('reports a missing capability before any budget', () => {
    const [decision] = negotiateWave([{ subtaskId: 'x', capability: 'legal', tokens: 10_000 }], subagents, ledgerOf({ tokens: 1 }));
    expect(decision).toMatchObject({ ok: false, code: 'no_subagent', message: expect.stringContaining('no subagent has capability "legal"') });
  });
});
