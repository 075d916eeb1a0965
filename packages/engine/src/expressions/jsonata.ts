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
        return plainJson(await expression.evaluate(input, {
          run: { id: scope.runId },
          node: { id: scope.nodeId },
          now: () => new Date(scope.now).toISOString(),
          millis: () => scope.now,
          random: () => {
            throw new Error('$random() is not available: runs must be reproducible');
          },
        }));
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

/**
 * JSONata marks the arrays it builds with enumerable flags (`sequence`, `keepSingleton`)
 * and builds objects without a prototype. Results become node outputs and so run events,
 * which must be plain JSON: a log must read the same after a write and a read back.
 */
function plainJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainJson);
  if (typeof value === 'object' && value !== null && isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plainJson(item)]));
  }
  return value;
}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

function truncate(text: string): string {
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}
