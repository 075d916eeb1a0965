import { describe, expect, it } from 'vitest';
import { parseFlow } from '@loom/shared';
import { compileFlow } from '../graph/compile.js';
import { runFlow } from '../scheduler/loop.js';
import { createVirtualClock, derivedIds, MemorySink, noNetwork } from '../context/defaults.js';

function codeFlow(params: Record<string, unknown>) {
  const parsed = parseFlow({
    version: 1,
    id: 'code',
    name: 'code',
    nodes: [
      { id: 'in', kind: 'input' },
      { id: 'run', kind: 'skill', config: { skill: 'code', params } },
      { id: 'out', kind: 'output' },
    ],
    edges: [
      { from: 'in', to: 'run' },
      { from: 'run', to: 'out' },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return compileFlow(parsed.flow);
}

describe('code skill', () => {
  it('refuses to run without a sandbox driver, saying why, and never runs the code in-process', async () => {
    const compiled = codeFlow({ code: 'globalThis.ranInProcess = true; return 1' });
    if (!compiled.ok) throw new Error('flow should compile');
    const sink = new MemorySink();
    const result = await runFlow(compiled.compiled, { clock: createVirtualClock(0), ids: derivedIds, llm: new Map(), http: noNetwork, log: sink });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'sandbox_unavailable', retryable: false });
    expect(result.error?.message).toMatch(/no sandbox driver/);
    expect((globalThis as { ranInProcess?: boolean }).ranInProcess).toBeUndefined();
  });

  it('reports bad parameters at their path when the flow is checked', () => {
    const compiled = codeFlow({ code: '', language: 'ruby', timeoutMs: 10 });
    expect(compiled.ok).toBe(false);
    if (compiled.ok) return;
    const paths = compiled.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['nodes.1.config.params.code', 'nodes.1.config.params.language', 'nodes.1.config.params.timeoutMs']));
  });

  it('refuses an outputSchema it cannot check', () => {
    const compiled = codeFlow({ code: 'return 1', outputSchema: { type: 'object', not: { type: 'string' } } });
    expect(compiled.ok).toBe(false);
  });
});
