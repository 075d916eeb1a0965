import type { z } from 'zod';
import type { Decomposition } from '@loom/shared';
import { NodeError } from '../../errors.js';
import type { CompiledExpression } from '../../expressions/jsonata.js';
import { compileOrReport } from './expressions.js';
import type { NodeExecution, PrepareEnv, PreparedChild } from '../../nodes/node-kind.js';

export interface PreparedDecomposition {
  /** The subtasks for `input`: always a list, at most `max` long. */
  decompose(input: unknown, execution: NodeExecution, max: number): Promise<unknown[]>;
}

/**
 * A rule (JSONata over the input) or a node (an agent, usually) that returns the list of
 * subtasks. A node runs as the pattern's `decompose` task, so it is logged like any task.
 */
export function prepareDecomposition(config: z.output<typeof Decomposition>, env: PrepareEnv, path: (string | number)[]): PreparedDecomposition {
  let rule: CompiledExpression | undefined;
  let planner: PreparedChild | undefined;
  if (config.by === 'rule') {
    rule = compileOrReport(config.expression, [...path, 'expression'], env);
  } else {
    planner = env.prepareChild(config.node, [...path, 'node']);
  }
  return {
    async decompose(input, execution, max) {
      let value: unknown;
      if (rule) {
        value = await rule.evaluate(input, execution.scope);
        // JSONata gives nothing for a path that is not there: most often a misspelt field.
        if (value === undefined) throw new NodeError('the decomposition rule gave nothing (does the expression name fields the input has?)', 'decompose_failed', false);
      }
      else {
        const result = await execution.tasks.run({ key: 'decompose', assignee: planner!.id, child: planner!, input });
        if (!result.ok) throw new NodeError(`decomposition by "${planner!.id}" failed: ${result.error.message}`, 'decompose_failed', result.error.retryable ?? true);
        value = result.output;
      }
      const list = toList(value);
      if (list.length > max) throw new NodeError(`decomposition gave ${list.length} subtasks; the limit is ${max} (maxSubtasks)`, 'too_many_subtasks', false);
      return list;
    },
  };
}

/** A list as is; `{ subtasks: [...] }` or `{ steps: [...] }` unwrapped; JSON text parsed; anything else a one-item list. */
export function toList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') {
    try {
      return toList(JSON.parse(value) as unknown);
    } catch {
      return value.trim() === '' ? [] : [value];
    }
  }
  if (typeof value === 'object' && value !== null) {
    for (const key of ['subtasks', 'steps', 'items', 'tasks']) {
      const inner = (value as Record<string, unknown>)[key];
      if (Array.isArray(inner)) return inner;
    }
  }
  return value === undefined || value === null ? [] : [value];
}
