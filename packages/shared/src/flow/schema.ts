import { z } from 'zod';

/**
 * The flow file format, version 1.
 *
 * A flow is a directed acyclic graph of nodes joined by edges. Loops and repetition
 * belong inside node kinds (retries, patterns), never in the graph itself, so every
 * run has a finite, replayable plan.
 */

export const FLOW_FORMAT_VERSION = 1 as const;

/** Ids appear in event logs, expressions and URLs: keep them plain. */
export const NodeId = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must start with a letter or "_" and use only letters, digits, "_", "-" or "."')
  .refine((id) => id !== '__proto__' && id !== 'constructor' && id !== 'prototype', 'is a reserved name');

export const Position = z.object({ x: z.number(), y: z.number() }).strict();

export const RetryPolicy = z
  .object({
    /** Total attempts including the first; 1 means no retry. */
    maxAttempts: z.number().int().min(1).max(100).default(1),
    /** Wait before the second attempt; later waits grow by `factor`. */
    backoffMs: z.number().int().min(0).max(3_600_000).default(200),
    factor: z.number().min(1).max(10).default(2),
    maxBackoffMs: z.number().int().min(0).max(3_600_000).default(30_000),
    /** Spread of each wait, 0..1, derived from the task id so replays wait the same. */
    jitter: z.number().min(0).max(1).default(0),
  })
  .strict();
export type RetryPolicy = z.infer<typeof RetryPolicy>;

/** What a node's failure (after its retries) does to the run. */
export const OnError = z.enum(['fail', 'continue']);
export type OnError = z.infer<typeof OnError>;

const nodeBase = {
  id: NodeId,
  name: z.string().max(200).optional(),
  description: z.string().max(5_000).optional(),
  position: Position.optional(),
  retry: RetryPolicy.optional(),
  /** Wall-clock limit per attempt. */
  timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
  /**
   * `fail` (default) fails the run. `continue` marks the node failed and sends
   * `{ error }` out of its `error` port instead, so a flow can handle it.
   */
  onError: OnError.optional(),
};

export const InputField = z
  .object({
    type: z.enum(['string', 'number', 'integer', 'boolean', 'object', 'array', 'any']).default('any'),
    required: z.boolean().default(false),
    default: z.unknown().optional(),
    description: z.string().max(2_000).optional(),
  })
  .strict();
export type InputField = z.infer<typeof InputField>;

export const InputNode = z
  .object({
    ...nodeBase,
    kind: z.literal('input'),
    config: z
      .object({ fields: z.record(z.string(), InputField).default({}) })
      .strict()
      .default({ fields: {} }),
  })
  .strict();

export const OutputNode = z
  .object({
    ...nodeBase,
    kind: z.literal('output'),
    config: z
      .object({
        /** Key of this value in the run output when a flow has several output nodes. */
        key: z.string().min(1).max(128).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const SkillNode = z
  .object({
    ...nodeBase,
    kind: z.literal('skill'),
    config: z
      .object({
        /** Id of a skill in the engine's registry, e.g. `template`, `http.request`. */
        skill: z.string().min(1).max(128),
        params: z.record(z.string(), z.unknown()).default({}),
      })
      .strict(),
  })
  .strict();

export const RouterRoute = z
  .object({
    /** Name of the output port this route sends to. */
    port: z.string().min(1).max(64),
    /** JSONata expression evaluated against the node's input; truthy selects the route. */
    when: z.string().min(1).max(10_000),
  })
  .strict();

export const RouterNode = z
  .object({
    ...nodeBase,
    kind: z.literal('router'),
    config: z
      .object({
        routes: z.array(RouterRoute).min(1).max(100),
        /** Port used when no route matches. */
        defaultPort: z.string().min(1).max(64).default('default'),
        /** `first`: the first matching route; `all`: every matching route. */
        mode: z.enum(['first', 'all']).default('first'),
      })
      .strict(),
  })
  .strict();

export const MergeNode = z
  .object({
    ...nodeBase,
    kind: z.literal('merge'),
    config: z
      .object({
        /**
         * `object`: `{ [port or source node id]: value }`; `array`: values in edge order;
         * `first`: the first value in edge order. Inputs from skipped branches are left out.
         */
        mode: z.enum(['object', 'array', 'first']).default('object'),
      })
      .strict()
      .default({ mode: 'object' }),
  })
  .strict();

export const AgentTool = z
  .object({
    /** Name the model sees; letters, digits, `_` and `-` as LLM APIs require. */
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"'),
    description: z.string().max(2_000).optional(),
    skill: z.string().min(1).max(128),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const AgentNode = z
  .object({
    ...nodeBase,
    kind: z.literal('agent'),
    config: z
      .object({
        /** `provider/model`, e.g. `local/echo`; the provider comes from the run's context. */
        model: z.string().min(1).max(200).default('local/echo'),
        systemPrompt: z.string().max(100_000).optional(),
        /** Template for the user message; `{{ $ }}` is the node's input. */
        prompt: z.string().max(100_000).default('{{ $ }}'),
        temperature: z.number().min(0).max(2).default(0),
        maxTokens: z.number().int().min(1).max(1_000_000).optional(),
        tools: z.array(AgentTool).max(128).default([]),
        /** Model turns before the agent gives up with an error. */
        maxIterations: z.number().int().min(1).max(100).default(6),
        /** `json` parses the final answer as JSON. */
        outputFormat: z.enum(['text', 'json']).default('text'),
      })
      .strict(),
  })
  .strict();

export const FlowNode = z.discriminatedUnion('kind', [InputNode, OutputNode, SkillNode, RouterNode, MergeNode, AgentNode]);
export type FlowNode = z.infer<typeof FlowNode>;
export type NodeKind = FlowNode['kind'];
export const NODE_KINDS = ['input', 'output', 'skill', 'router', 'merge', 'agent'] as const satisfies readonly NodeKind[];
export type NodeOf<K extends NodeKind> = Extract<FlowNode, { kind: K }>;

export const FlowEdge = z
  .object({
    id: z.string().min(1).max(256).optional(),
    from: NodeId,
    to: NodeId,
    /** Output port of `from`: a router's route, or `error` for nodes with `onError: continue`. */
    fromPort: z.string().min(1).max(64).optional(),
    /** Input port of `to`: names this value in a merge or in a node's input object. */
    toPort: z.string().min(1).max(64).optional(),
  })
  .strict();
export type FlowEdge = z.infer<typeof FlowEdge>;

export const FlowSettings = z
  .object({
    /** Most node executions running at once in one run. */
    concurrency: z.number().int().min(1).max(100_000).default(64),
    /** Wall-clock limit for the whole run. */
    timeoutMs: z.number().int().min(1).max(7 * 86_400_000).optional(),
    /** Hosts that `http.request` skills may call (exact names or `*.example.com`). */
    allowHosts: z.array(z.string().min(1).max(253)).max(1_000).default([]),
  })
  .strict();
export type FlowSettings = z.infer<typeof FlowSettings>;

export const FlowV1 = z
  .object({
    version: z.literal(1),
    id: NodeId,
    name: z.string().min(1).max(200),
    description: z.string().max(20_000).optional(),
    settings: FlowSettings.default({ concurrency: 64, allowHosts: [] }),
    nodes: z.array(FlowNode).max(100_000),
    edges: z.array(FlowEdge).max(1_000_000),
  })
  .strict();

/** The current flow format; `parseFlow` migrates older versions into it. */
export const Flow = FlowV1;
export type Flow = z.infer<typeof Flow>;
/** A flow as written by a person: defaults may be left out. */
export type FlowInput = z.input<typeof Flow>;
