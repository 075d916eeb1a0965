import { z } from 'zod';
import { NodeError } from '../errors.js';
import { compileExpression, ExpressionSyntaxError } from '../expressions/jsonata.js';
import { compileTemplate } from '../expressions/template.js';
import { defineSkill, SkillParamError } from './skill.js';

export const noopSkill = defineSkill({
  id: 'noop',
  title: 'Pass through',
  description: 'Outputs its input unchanged.',
  category: 'control',
  effect: 'pure',
  params: z.object({}).strict(),
  prepare: () => ({ run: (input) => input }),
});

export const constantSkill = defineSkill({
  id: 'constant',
  title: 'Constant',
  description: 'Outputs a fixed value, whatever its input.',
  category: 'data',
  effect: 'pure',
  params: z.object({ value: z.unknown() }).strict(),
  prepare: ({ value }) => ({ run: () => value }),
});

export const templateSkill = defineSkill({
  id: 'template',
  title: 'Template',
  description: 'Renders text with {{ expression }} placeholders over the input (JSONata), e.g. "Hello {{ user.name }}".',
  category: 'text',
  effect: 'pure',
  params: z.object({ template: z.string().max(1_000_000) }).strict(),
  prepare: ({ template }) => {
    const compiled = compileOrThrow(() => compileTemplate(template), ['template']);
    return { run: (input, { scope }) => compiled.render(input, scope) };
  },
});

export const jsonTransformSkill = defineSkill({
  id: 'json.transform',
  title: 'JSON transform',
  description: 'Reshapes the input with a JSONata expression, e.g. { "total": $sum(items.price) }.',
  category: 'data',
  effect: 'pure',
  params: z.object({ expression: z.string().min(1).max(100_000) }).strict(),
  prepare: ({ expression }) => {
    const compiled = compileOrThrow(() => compileExpression(expression), ['expression']);
    return { run: async (input, { scope }) => (await compiled.evaluate(input, scope)) ?? null };
  },
});

export const jsonExtractSkill = defineSkill({
  id: 'json.extract',
  title: 'JSON extract',
  description: 'Picks one value out of the input by path (e.g. "order.items[0].sku"); fails when it is missing unless a default is given.',
  category: 'data',
  effect: 'pure',
  params: z
    .object({
      path: z.string().min(1).max(10_000),
      default: z.unknown().optional(),
    })
    .strict(),
  prepare: (params) => {
    const compiled = compileOrThrow(() => compileExpression(params.path), ['path']);
    const hasDefault = 'default' in params;
    return {
      run: async (input, { scope }) => {
        const value = await compiled.evaluate(input, scope);
        if (value !== undefined) return value;
        if (hasDefault) return params.default;
        throw new NodeError(`nothing at path "${params.path}" in the input`, 'missing_value', false);
      },
    };
  },
});

export const jsonParseSkill = defineSkill({
  id: 'json.parse',
  title: 'Parse JSON',
  description: 'Parses a JSON string (the input, or the input field named by "field").',
  category: 'data',
  effect: 'pure',
  params: z.object({ field: z.string().min(1).optional() }).strict(),
  prepare: ({ field }) => ({
    run: (input) => {
      const text = field === undefined ? input : (input as Record<string, unknown> | null)?.[field];
      if (typeof text !== 'string') {
        throw new NodeError(`expected a JSON string${field ? ` in field "${field}"` : ''}, got ${describeType(text)}`, 'invalid_input', false);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new NodeError(`not valid JSON: ${(error as Error).message}`, 'invalid_input', false);
      }
    },
  }),
});

export const jsonStringifySkill = defineSkill({
  id: 'json.stringify',
  title: 'Stringify JSON',
  description: 'Turns the input into JSON text.',
  category: 'data',
  effect: 'pure',
  params: z.object({ indent: z.number().int().min(0).max(8).default(0) }).strict(),
  prepare: ({ indent }) => ({ run: (input) => JSON.stringify(input ?? null, null, indent || undefined) }),
});

export const textSplitSkill = defineSkill({
  id: 'text.split',
  title: 'Split text',
  description: 'Splits the input text into a list by a separator.',
  category: 'text',
  effect: 'pure',
  input: z.string({ error: 'expected text' }),
  params: z
    .object({
      separator: z.string().default('\n'),
      trim: z.boolean().default(true),
      removeEmpty: z.boolean().default(true),
    })
    .strict(),
  prepare: ({ separator, trim, removeEmpty }) => ({
    run: (input) => {
      if (typeof input !== 'string') throw new NodeError(`expected text, got ${describeType(input)}`, 'invalid_input', false);
      let parts = input.split(separator);
      if (trim) parts = parts.map((p) => p.trim());
      return removeEmpty ? parts.filter((p) => p !== '') : parts;
    },
  }),
});

export const textJoinSkill = defineSkill({
  id: 'text.join',
  title: 'Join text',
  description: 'Joins the input list into text with a separator.',
  category: 'text',
  effect: 'pure',
  input: z.array(z.unknown(), { error: 'expected a list' }),
  params: z.object({ separator: z.string().default('\n') }).strict(),
  prepare: ({ separator }) => ({
    run: (input) => {
      if (!Array.isArray(input)) throw new NodeError(`expected a list, got ${describeType(input)}`, 'invalid_input', false);
      return input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(separator);
    },
  }),
});

export const throwErrorSkill = defineSkill({
  id: 'error.throw',
  title: 'Stop with error',
  description: 'Fails with a message (a template over the input), e.g. to reject bad data on a router branch.',
  category: 'control',
  effect: 'pure',
  params: z
    .object({
      message: z.string().min(1).max(10_000),
      code: z.string().min(1).max(64).default('user_error'),
      /** Whether the node's retry policy should try again. */
      retryable: z.boolean().default(false),
    })
    .strict(),
  prepare: ({ message, code, retryable }) => {
    const compiled = compileOrThrow(() => compileTemplate(message), ['message']);
    return {
      run: async (input, { scope }) => {
        throw new NodeError(await compiled.render(input, scope), code, retryable);
      },
    };
  },
});

export function compileOrThrow<T>(compile: () => T, path: (string | number)[]): T {
  try {
    return compile();
  } catch (error) {
    // Syntax errors are parameter problems; anything else is a bug and surfaces as one.
    if (error instanceof ExpressionSyntaxError) throw new SkillParamError(error.message, path);
    throw error;
  }
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : typeof value;
}
