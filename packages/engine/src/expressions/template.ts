import { compileExpression, ExpressionSyntaxError, type CompiledExpression, type ExpressionScope } from './jsonata.js';

/**
 * Text with `{{ expression }}` placeholders, each a JSONata expression over the input:
 * `Hello {{ user.name }}`, `{{ $ }}` for the whole input. Objects render as JSON.
 */
export interface CompiledTemplate {
  readonly constant: boolean;
  render(input: unknown, scope: ExpressionScope): Promise<string>;
}

type Part = string | CompiledExpression;

export function compileTemplate(text: string): CompiledTemplate {
  const parts: Part[] = [];
  let rest = text;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) throw new ExpressionSyntaxError(`unclosed "{{" at character ${text.length - rest.length + open}`, text.length - rest.length + open);
    if (open > 0) parts.push(rest.slice(0, open));
    parts.push(compileExpression(rest.slice(open + 2, close).trim()));
    rest = rest.slice(close + 2);
  }
  if (rest) parts.push(rest);
  const constant = parts.every((p) => typeof p === 'string');
  return {
    constant,
    async render(input, scope) {
      if (constant) return text;
      const values = await Promise.all(parts.map((p) => (typeof p === 'string' ? p : p.evaluate(input, scope).then(stringify))));
      return values.join('');
    },
  };
}

export function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
