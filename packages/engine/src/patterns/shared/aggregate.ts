import type { z } from 'zod';
import type { Aggregation } from '@loom/shared';
import { NodeError } from '../../errors.js';
import type { CompiledExpression, ExpressionScope } from '../../expressions/jsonata.js';
import { compileOrReport } from './expressions.js';
import { canonicalJson } from '../../graph/hash.js';
import type { PrepareEnv } from '../../nodes/node-kind.js';

/** One subtask's result as patterns report it: a failure is a result too. */
export type SubtaskResult =
  | { index: number; assignee: string; ok: true; output: unknown }
  | { index: number; assignee: string; ok: false; error: { message: string; code?: string } };

export interface PreparedAggregation {
  strategy: z.output<typeof Aggregation>['strategy'];
  aggregate(results: readonly SubtaskResult[], input: unknown, scope: ExpressionScope): Promise<unknown>;
}

/** Compiles an aggregation config; problems are reported at `path`. */
export function prepareAggregation(config: z.output<typeof Aggregation>, env: PrepareEnv, path: (string | number)[]): PreparedAggregation {
  let expression: CompiledExpression | undefined;
  if (config.strategy === 'expression') {
    if (!config.expression) env.issue([...path, 'expression'], 'the "expression" strategy needs an expression');
    else expression = compileOrReport(config.expression, [...path, 'expression'], env);
  }
  return {
    strategy: config.strategy,
    aggregate: async (results, input, scope) => {
      const succeeded = results.filter((r): r is Extract<SubtaskResult, { ok: true }> => r.ok);
      switch (config.strategy) {
        case 'all':
          return results.map((r) => (r.ok ? { ok: true, assignee: r.assignee, output: r.output } : { ok: false, assignee: r.assignee, error: r.error }));
        case 'first_success':
          if (results.length === 0) throw new NodeError('there were no subtasks, so none succeeded', 'no_success', false);
          if (succeeded.length === 0) throw new NodeError(`no subtask succeeded (${results.length} failed)`, 'no_success', false);
          return succeeded[0]!.output;
        case 'merge': {
          const merged: Record<string, unknown> = {};
          for (const r of succeeded) {
            if (typeof r.output !== 'object' || r.output === null || Array.isArray(r.output)) {
              throw new NodeError(`"merge" needs object results; ${r.assignee} returned ${Array.isArray(r.output) ? 'a list' : typeof r.output}`, 'invalid_result', false);
            }
            Object.assign(merged, r.output);
          }
          return merged;
        }
        case 'vote':
          return vote(succeeded.map((r) => r.output), results.length);
        case 'expression':
          return (await expression!.evaluate({ results, input }, scope)) ?? null;
      }
    },
  };
}

/** The most common result by value (ties go to the one seen first), with its count. */
export function vote(outputs: readonly unknown[], total: number): { winner: unknown; votes: number; of: number } {
  if (total === 0) throw new NodeError('there were no subtasks, so there is nothing to vote on', 'no_success', false);
  if (outputs.length === 0) throw new NodeError(`no subtask succeeded, so there is nothing to vote on (${total} failed)`, 'no_success', false);
  const counts = new Map<string, { value: unknown; votes: number; first: number }>();
  outputs.forEach((value, i) => {
    const key = canonicalJson(value ?? null);
    const entry = counts.get(key);
    if (entry) entry.votes++;
    else counts.set(key, { value, votes: 1, first: i });
  });
  const best = [...counts.values()].sort((a, b) => b.votes - a.votes || a.first - b.first)[0]!;
  return { winner: best.value, votes: best.votes, of: total };
}
