import jsonata from 'jsonata';

/**
 * Expressions in flows (router conditions, templates, JSON transforms) are JSONata:
 * a query language with no access to the host, so an imported flow cannot run code
 * through them. Its clock and random functions are replaced so runs stay reproducible.
 */
export interface CompiledExpression {
  readonly source: string;
  evaluate(input: unknown, scope: ExpressionScope): Promise<unknown>;
}

/** What an expression can see besides its input: `$run`, `$node` and the run's clock. */
export interface ExpressionScope {
  runId: string;
  nodeId: string;
  now: number;
}

export class ExpressionSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number | undefined,
  ) {
    super(message);
    this.name = 'ExpressionSyntaxError';
  }
}

export function compileExpression(source: string): CompiledExpression {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source);
  } catch (error) {
    const { message, position } = error as { message?: string; position?: number };
    throw new ExpressionSyntaxError(
      `invalid expression ${JSON.stringify(truncate(source))}: ${message ?? String(error)}${position !== undefined ? ` (at character ${position})` : ''}`,
      position,
    );
  }
  return {
    source,
    async evaluate(input, scope) {
      try {
        return await expression.evaluate(input, {
          run: { id: scope.runId },
          node: { id: scope.nodeId },
          now: () => new Date(scope.now).toISOString(),
          millis: () => scope.now,
          random: () => {
            throw new Error('$random() is not available: runs must be reproducible');
          },
        });
      } catch (error) {
        const { message } = error as { message?: string };
        throw Object.assign(new Error(`expression ${JSON.stringify(truncate(source))} failed: ${message ?? String(error)}`), {
          code: 'expression',
          retryable: false,
        });
      }
    },
  };
}

function truncate(text: string): string {
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}
