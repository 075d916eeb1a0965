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

/**
 * Limits on one evaluation, so a flow cannot freeze the process with a runaway
 * expression (`($f := function($n) { $f($n + 1) }; $f(0))`): JSONata work never yields
 * to the event loop, so node timeouts and cancellation could not stop it.
 */
export const EXPRESSION_LIMITS = { timeout: 2_000, stack: 500 } as const;

export function compileExpression(source: string): CompiledExpression {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source, EXPRESSION_LIMITS);
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
          now: (picture?: string, timezone?: string) => (picture === undefined ? new Date(scope.now).toISOString() : fromMillis(scope.now, picture, timezone)),
          millis: () => scope.now,
          random: () => {
            throw new Error('$random() is not available: runs must be reproducible');
          },
          shuffle: () => {
            throw new Error('$shuffle() is not available: runs must be reproducible');
          },
        }));
      } catch (error) {
        const { message, code } = error as { message?: string; code?: string };
        // `$error("...")` is the flow author's own message: pass it on as is.
        if (code === 'D3137') throw Object.assign(new Error(message ?? 'error'), { code: 'user_error', retryable: false });
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

const formatter = jsonata('$fromMillis(ms, picture, timezone)');

/** `$now(picture, timezone)` formats the run's clock the way JSONata's own `$now` would. */
function fromMillis(ms: number, picture: string, timezone: string | undefined): Promise<string> {
  return formatter.evaluate({ ms, picture, timezone });
}
