import type { FlowNode } from '@loom/shared';
import { errorMessage } from '../../errors.js';
import { compileOrReport } from '../shared/expressions.js';
import type { NodeExecution, PrepareEnv, PreparedChild } from '../../nodes/node-kind.js';
import type { Subtask } from './assign.js';

export type Verdict = { valid: true } | { valid: false; code: 'invalid_result' | 'validation_error' | 'judge_failed'; message: string };

export interface PreparedValidation {
  judge: PreparedChild | undefined;
  /** Checks one successful result: the expression first (cheap), then the judge. */
  check(subtask: Subtask, result: unknown, execution: NodeExecution): Promise<Verdict>;
}

interface ValidateConfig {
  expression?: string | undefined;
  judge?: FlowNode | undefined;
}

const VALID: Verdict = { valid: true };

/** Compiles `validate`; problems are reported at `path`. Without a config every result is valid. */
export function prepareValidation(config: ValidateConfig | undefined, env: PrepareEnv, path: (string | number)[]): PreparedValidation {
  if (!config) return { judge: undefined, check: async () => VALID };
  if (config.expression === undefined && config.judge === undefined) {
    env.issue(path, 'give "expression", "judge" or both, or leave "validate" out');
  }
  const expression = compileOrReport(config.expression, [...path, 'expression'], env);
  const judge = config.judge ? env.prepareChild(config.judge, [...path, 'judge']) : undefined;

  return {
    judge,
    async check(subtask, result, execution) {
      const context = { subtask, result };
      if (expression) {
        let value: unknown;
        try {
          value = await expression.evaluate(context, execution.scope);
        } catch (error) {
          return { valid: false, code: 'validation_error', message: `validate.expression could not check the result: ${errorMessage(error)}` };
        }
        if (!truthy(value)) return { valid: false, code: 'invalid_result', message: `the result fails validate.expression ${JSON.stringify(shorten(expression.source))}` };
      }
      if (judge) {
        const verdict = await execution.tasks.run({ key: `validate-${subtask.index}`, assignee: judge.id, child: judge, input: context });
        if (!verdict.ok) return { valid: false, code: 'judge_failed', message: `judge "${judge.id}" could not check the result: ${verdict.error.message}` };
        const rejection = judgeRejection(verdict.output);
        if (rejection !== undefined) {
          return { valid: false, code: 'invalid_result', message: `judge "${judge.id}" rejected the result${rejection ? `: ${rejection}` : ''}` };
        }
      }
      return VALID;
    },
  };
}

/**
 * Reads a judge's answer. Valid: anything truthy that is not `{ valid: false }` and not the
 * text "false" or "invalid". Returns undefined when valid, else the judge's reason ('' if it
 * gave none). A JSON object in text form (an agent's answer) is read as that object.
 */
export function judgeRejection(output: unknown): string | undefined {
  if (typeof output === 'string') {
    const text = output.trim();
    if (text.startsWith('{')) {
      try {
        return judgeRejection(JSON.parse(text) as unknown);
      } catch {
        // Not JSON after all: judged as text below.
      }
    }
    const word = text.toLowerCase().replace(/[.!]+$/, '');
    return word === '' || word === 'false' || word === 'invalid' ? '' : undefined;
  }
  if (typeof output === 'object' && output !== null && !Array.isArray(output)) {
    const { valid, reason } = output as { valid?: unknown; reason?: unknown };
    if (valid === false || valid === 'false') return typeof reason === 'string' ? reason : reason === undefined ? '' : JSON.stringify(reason);
    return undefined;
  }
  return output ? undefined : '';
}

/** JSONata truthiness, with empty lists and objects false as a person would expect. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
