import { NodeError } from '../errors.js';
import { compileExpression } from '../expressions/jsonata.js';
import type { IncomingValue, NodeKindDefinition } from './node-kind.js';

export const inputKind: NodeKindDefinition<'input'> = {
  kind: 'input',
  // The run input is checked against the fields before the run starts (`checkRunInput`);
  // here it only gains the declared defaults.
  prepare: (node) => {
    const defaults = Object.entries(node.config.fields).filter(([, field]) => field.default !== undefined);
    return {
      effect: 'pure',
      inputMode: 'value',
      execute: ({ input }) => {
        if (defaults.length === 0 || typeof input !== 'object' || input === null || Array.isArray(input)) return { output: input };
        const output: Record<string, unknown> = { ...(input as Record<string, unknown>) };
        for (const [name, field] of defaults) if (!Object.hasOwn(output, name) || output[name] === undefined) output[name] = field.default;
        return { output };
      },
    };
  },
};

export const outputKind: NodeKindDefinition<'output'> = {
  kind: 'output',
  prepare: () => ({ effect: 'pure', inputMode: 'value', execute: ({ input }) => ({ output: input }) }),
};

export const routerKind: NodeKindDefinition<'router'> = {
  kind: 'router',
  prepare: (node, env) => {
    const routes = node.config.routes.flatMap((route, i) => {
      try {
        return [{ port: route.port, when: compileExpression(route.when) }];
      } catch (error) {
        env.issue(['config', 'routes', i, 'when'], (error as Error).message);
        return [];
      }
    });
    const { mode, defaultPort } = node.config;
    return {
      effect: 'pure',
      inputMode: 'value',
      execute: async ({ input, scope }) => {
        const ports: string[] = [];
        for (const route of routes) {
          if (ports.includes(route.port)) continue;
          if (truthy(await route.when.evaluate(input, scope))) {
            ports.push(route.port);
            if (mode === 'first') break;
          }
        }
        if (ports.length === 0) ports.push(defaultPort);
        return { output: input, ports };
      },
    };
  },
};

export const mergeKind: NodeKindDefinition<'merge'> = {
  kind: 'merge',
  prepare: (node) => {
    const { mode } = node.config;
    return {
      effect: 'pure',
      inputMode: 'list',
      execute: ({ input }) => {
        const values = input as IncomingValue[];
        if (mode === 'array') return { output: values.map((v) => v.value) };
        if (mode === 'first') return { output: values[0]?.value ?? null };
        const output: Record<string, unknown> = {};
        for (const { key, value } of values) {
          if (Object.hasOwn(output, key)) throw new NodeError(`two inputs named "${key}": give the edges distinct "toPort" names`, 'duplicate_key', false);
          output[key] = value;
        }
        return { output };
      },
    };
  },
};

/** JSONata truthiness plus: empty arrays and objects are false, as a person would expect. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}
