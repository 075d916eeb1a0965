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

/** Port, route and key names become object keys in node inputs and run outputs: the same rules as ids. */
export const PortName = NodeId;

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
      .object({ fields: z.record(PortName, InputField).default({}) })
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
        key: PortName.optional(),
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
    port: PortName,
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
        defaultPort: PortName.default('default'),
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

/**
 * A registered MCP server, by the name an admin gave it on the server. A flow names servers
 * only: their URL, headers and (for stdio servers) command live on the server, so an
 * imported flow can never bring a command to run.
 */
export const McpServerName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'MCP server names start with a letter or digit and contain only letters, digits, "_", "." and "-"');

/** A tool of a registered MCP server. MCP tool names are 1-128 of letters, digits, "_", "-", "." and "/". */
export const McpToolRef = z
  .object({
    server: McpServerName,
    tool: z.string().regex(/^[A-Za-z0-9_./-]{1,128}$/, 'MCP tool names are 1-128 letters, digits, "_", "-", "." or "/"'),
  })
  .strict();
export type McpToolRef = z.infer<typeof McpToolRef>;

/**
 * A tool an agent may call: a built-in skill (`skill` + `params`), or a whole sub-flow
 * (`flow`) whose run input is the call's arguments and whose output is the tool's result.
 */
export const AgentTool = z
  .object({
    /** Name the model sees; letters, digits, `_` and `-` as LLM APIs require. */
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"'),
    description: z.string().max(2_000).optional(),
    /** Id of a skill in the engine's registry; give one of this, `flow` or `mcp`. */
    skill: z.string().min(1).max(128).optional(),
    /**
     * A tool of a registered MCP server. Without `parameters`, the model is shown the tool's
     * approved input schema, as the server pinned it.
     */
    mcp: McpToolRef.optional(),
    /** The skill's parameters (skill tools only; a sub-flow's nodes carry their own). */
    params: z.record(z.string(), z.unknown()).default({}),
    /**
     * A whole flow run for each call, its nodes logged under the call's task id; give either
     * this or `skill`. The arguments are its run input, checked against its input fields.
     */
    get flow() {
      return FlowV1.optional();
    },
    /**
     * JSON Schema of the arguments the model must give; they are checked before the tool
     * runs. Absent: for a skill, an object, usually `{ "text": "..." }`; for a sub-flow,
     * the schema of its input fields.
     */
    parameters: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((tool, ctx) => {
    const hasSkill = tool.skill !== undefined;
    const hasFlow = tool.flow !== undefined;
    const hasMcp = tool.mcp !== undefined;
    const given = Number(hasSkill) + Number(hasFlow) + Number(hasMcp);
    if (given > 1) ctx.addIssue({ code: 'custom', path: [], message: 'a tool needs one of skill (a built-in skill), flow (a sub-flow) or mcp (an MCP server\'s tool), not several' });
    else if (given === 0) ctx.addIssue({ code: 'custom', path: [], message: 'a tool needs one of skill (a built-in skill), flow (a sub-flow) or mcp (an MCP server\'s tool)' });
    // `params` defaults to {} for every tool (a default only for skills would need a union,
    // whose errors cannot point inside the sub-flow); only a non-empty one is a mistake.
    else if (hasFlow && Object.keys(tool.params).length > 0) {
      ctx.addIssue({ code: 'custom', path: ['params'], message: 'params belong to skill tools; the nodes of a sub-flow tool carry their own params' });
    } else if (hasMcp && Object.keys(tool.params).length > 0) {
      ctx.addIssue({ code: 'custom', path: ['params'], message: 'params belong to skill tools; an MCP tool takes only the arguments the model gives' });
    }
  });
export type AgentTool = z.infer<typeof AgentTool>;

/** Names a credential: in flows (an agent's `credential`, `http.request`'s `auth.credential`) and in the server's store. */
export const CredentialName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'credential names start with a letter or digit and contain only letters, digits, "_", "." and "-"');

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
        // The fields below have no schema defaults on purpose: a default would be written
        // into every parsed flow and change the hash (and run ids) of existing flows.
        /**
         * JSON Schema the final answer must match (implies JSON output). An answer that does
         * not is sent back to the model with the errors, `repairAttempts` times at most.
         */
        outputSchema: z.record(z.string(), z.unknown()).optional(),
        /** Model turns spent asking for a corrected answer (invalid JSON or schema errors); default 1. */
        repairAttempts: z.number().int().min(0).max(5).optional(),
        /**
         * Messages (after the system prompt and the first user message) sent with each
         * request; earlier ones are left out. A tool call and its results stay together.
         * Absent: the whole conversation.
         */
        memoryWindow: z.number().int().min(1).max(10_000).optional(),
        /** Credential holding the API key; absent: the provider's own default (e.g. `openai`). */
        credential: CredentialName.optional(),
        /** Limit for one request to the model, first byte to last; a request over it is retried. */
        requestTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
        /** Stream the answer as it is written (`llm.delta` events) when the provider can; default true. */
        stream: z.boolean().optional(),
      })
      .strict(),
  })
  .strict();

/**
 * Calls one tool of a registered MCP server. Its arguments are the node's input (an object),
 * or what `arguments` (JSONata over the input) gives; its output is the tool's structured
 * result, else its text, else its content list. A tool that answers with an error fails the node.
 */
export const McpNode = z
  .object({
    ...nodeBase,
    kind: z.literal('mcp'),
    config: McpToolRef.extend({
      /** JSONata over the node's input giving the arguments object; default: the input itself. */
      arguments: z.string().min(1).max(100_000).optional(),
    }).strict(),
  })
  .strict();

// ---------------------------------------------------------------------------------------
// Orchestration patterns. Each is a node kind whose workers, agents and subagents are
// themselves nodes (a skill, an agent, a sub-flow or another pattern), run as tasks on
// the engine's one scheduler. Expressions are JSONata over the context each one names.
// ---------------------------------------------------------------------------------------

/** A JSONata expression. */
export const Expression = z.string().min(1).max(100_000);

/** How a pattern turns its input into subtasks: a JSONata rule, or a node (an agent, usually). */
export const Decomposition = z.discriminatedUnion('by', [
  z.object({ by: z.literal('rule'), expression: Expression }).strict(),
  z
    .object({
      by: z.literal('node'),
      get node() {
        return FlowNode;
      },
    })
    .strict(),
]);

export const Aggregation = z
  .object({
    /**
     * `all`: every result, failures included, in order; `merge`: successful object results
     * merged left to right; `vote`: the most common successful result (ties: the earliest);
     * `first_success`: the first successful result in order; `expression`: JSONata over
     * `{ results, input }`.
     */
    strategy: z.enum(['all', 'merge', 'vote', 'first_success', 'expression']).default('all'),
    expression: Expression.optional(),
  })
  .strict();

export const ChainStep = z
  .object({
    id: NodeId,
    skill: z.string().min(1).max(128),
    params: z.record(z.string(), z.unknown()).default({}),
    /** JSONata over `{ input, previous, steps }` giving this step's input; default: the previous step's output. */
    input: Expression.optional(),
    /** `fail_chain` stops the chain; `retry` tries again per `retry`, then `afterRetries`; `skip` uses `default`. */
    onError: z.enum(['fail_chain', 'retry', 'skip']).default('fail_chain'),
    retry: RetryPolicy.optional(),
    afterRetries: z.enum(['fail_chain', 'skip']).default('fail_chain'),
    /** Output of a skipped step. */
    default: z.unknown().optional(),
  })
  .strict();

export const ChainNode = z
  .object({
    ...nodeBase,
    kind: z.literal('chain'),
    config: z
      .object({
        steps: z.array(ChainStep).min(1).max(100),
        /** JSONata over `{ input, steps }` for the chain's output; default: the last step's output. */
        output: Expression.optional(),
      })
      .strict(),
  })
  .strict();

export const SkillInstance = z
  .object({
    id: NodeId,
    /** Share of the work under `weighted` balancing. */
    weight: z.number().int().min(1).max(1_000).default(1),
    /** Items this instance works on at once. */
    capacity: z.number().int().min(1).max(1_000).default(1),
    /** Overrides of the skill's parameters for this instance. */
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const ParallelNode = z
  .object({
    ...nodeBase,
    kind: z.literal('parallel'),
    config: z
      .object({
        skill: z.string().min(1).max(128),
        params: z.record(z.string(), z.unknown()).default({}),
        instances: z.array(SkillInstance).min(1).max(1_000),
        balancer: z.enum(['round_robin', 'least_busy', 'weighted']).default('round_robin'),
        /** `map`: each item to one instance; `replicate`: the whole input to every instance (for votes). */
        mode: z.enum(['map', 'replicate']).default('map'),
        /** JSONata over the input giving the items (map mode); default: the input if it is a list, else [input]. */
        items: Expression.optional(),
        /** Items allowed in one execution (map mode); more is an error naming the count. */
        maxItems: z.number().int().min(1).max(100_000).default(1_000),
        /** Synchroniser: stop waiting once this many items succeeded; the rest are cancelled. */
        quorum: z.number().int().min(1).optional(),
        /** Synchroniser: stop waiting after this long; unfinished items become timed-out results. */
        waitTimeoutMs: z.number().int().min(1).max(86_400_000).optional(),
        itemRetry: RetryPolicy.optional(),
        itemTimeoutMs: z.number().int().min(1).max(86_400_000).optional(),
        aggregate: Aggregation.default({ strategy: 'all' }),
      })
      .strict(),
  })
  .strict();

export const Worker = z
  .object({
    id: NodeId,
    /** What this worker can do; a subtask with a capability goes to a worker that has it. */
    capabilities: z.array(z.string().min(1).max(64)).max(64).default([]),
    /** Subtasks this worker takes at once. */
    capacity: z.number().int().min(1).max(1_000).default(1),
    get node() {
      return FlowNode;
    },
  })
  .strict();

export const MasterWorkerNode = z
  .object({
    ...nodeBase,
    kind: z.literal('master_worker'),
    config: z
      .object({
        /** Gives the subtasks: a list whose items are inputs, or `{ input, capability }`. */
        decompose: Decomposition,
        workers: z.array(Worker).min(1).max(1_000),
        /** Subtasks running at once across all workers. */
        concurrency: z.number().int().min(1).max(10_000).default(4),
        maxSubtasks: z.number().int().min(1).max(10_000).default(100),
        validate: z
          .object({
            /** JSONata over `{ subtask, result }`: truthy means valid. */
            expression: Expression.optional(),
            /** A judge (an agent, usually) given `{ subtask, result }`; its output must be truthy or `{ valid: true }`. */
            get judge() {
              return FlowNode.optional();
            },
          })
          .strict()
          .optional(),
        aggregate: Aggregation.default({ strategy: 'all' }),
      })
      .strict(),
  })
  .strict();

export const SupervisorNode = z
  .object({
    ...nodeBase,
    kind: z.literal('supervisor'),
    config: z
      .object({
        /** What the supervisor works towards (template over the input); given to every agent. */
        goal: z.string().max(100_000).optional(),
        agents: z
          .object({
            /** Turns `{ goal, input }` into a plan: a list of steps. After a "replan" it also gets `previous: { plan, results, error }`. */
            get planning() {
              return FlowNode;
            },
            /** Carries out one step, given `{ goal, step, index, attempt, results }`. */
            get execution() {
              return FlowNode;
            },
            /** Judges a step's result, given `{ goal, step, result }`: truthy or `{ ok: true }` passes. Default: every result passes. */
            get monitoring() {
              return FlowNode.optional();
            },
            /**
             * Decides after a failure, given `{ goal, step, index, error, attempt, failedIn }`: "retry", "skip", "replan"
             * or "abort", as text or `{ decision }`. Default: retry.
             */
            get recovery() {
              return FlowNode.optional();
            },
          })
          .strict(),
        /** Transitions allowed before the supervisor gives up: its step budget. */
        maxSteps: z.number().int().min(1).max(10_000).default(50),
        /** Recoveries allowed before the supervisor fails. */
        maxRecoveries: z.number().int().min(0).max(1_000).default(3),
      })
      .strict(),
  })
  .strict();

export const Subagent = z
  .object({
    id: NodeId,
    capabilities: z.array(z.string().min(1).max(64)).min(1).max(64),
    /** What this subagent may use; a subtask's request is granted from it and from the coordinator's budget. */
    budget: z
      .object({
        tokens: z.number().int().min(0).optional(),
        timeMs: z.number().int().min(1).optional(),
        concurrency: z.number().int().min(1).default(1),
      })
      .strict()
      .default({ concurrency: 1 }),
    get node() {
      return FlowNode;
    },
  })
  .strict();

export const CoordinatorNode = z
  .object({
    ...nodeBase,
    kind: z.literal('coordinator'),
    config: z
      .object({
        /**
         * Gives the subtasks: a list of `{ id, capability, input?, dependsOn?, priority?,
         * tokens?, timeMs?, resources?, resultKey?, description? }`, checked when the node
         * runs. A subtask without `input` is given the coordinator's input; one with
         * dependencies also gets their outputs as `dependencies`.
         */
        decompose: Decomposition,
        subagents: z.array(Subagent).min(1).max(1_000),
        budget: z
          .object({
            tokens: z.number().int().min(0).optional(),
            timeMs: z.number().int().min(1).optional(),
            concurrency: z.number().int().min(1).max(10_000).default(4),
          })
          .strict()
          .default({ concurrency: 4 }),
        /**
         * When subtasks sharing a `resultKey` disagree, or want the same exclusive resource:
         * `priority` (higher wins, then earlier), `majority` (most common result), `first` (declared order).
         */
        conflictPolicy: z.enum(['priority', 'majority', 'first']).default('priority'),
        maxSubtasks: z.number().int().min(1).max(10_000).default(100),
      })
      .strict(),
  })
  .strict();

export const SubflowNode = z
  .object({
    ...nodeBase,
    kind: z.literal('subflow'),
    config: z
      .object({
        /** A whole flow run inside this node, its nodes shown as a group. */
        get flow() {
          return FlowV1;
        },
      })
      .strict(),
  })
  .strict();

export const FlowNode = z.discriminatedUnion('kind', [
  InputNode,
  OutputNode,
  SkillNode,
  RouterNode,
  MergeNode,
  AgentNode,
  ChainNode,
  ParallelNode,
  MasterWorkerNode,
  SupervisorNode,
  CoordinatorNode,
  SubflowNode,
  McpNode,
]).meta({ id: 'FlowNode', title: 'Node', description: 'One node of a flow; pattern nodes contain nodes of their own.' });
export type FlowNode = z.infer<typeof FlowNode>;
export type NodeKind = FlowNode['kind'];
export const NODE_KINDS = [
  'input',
  'output',
  'skill',
  'router',
  'merge',
  'agent',
  'chain',
  'parallel',
  'master_worker',
  'supervisor',
  'coordinator',
  'subflow',
  'mcp',
] as const satisfies readonly NodeKind[];
/** Kinds that run other nodes as tasks. */
export const PATTERN_KINDS = ['chain', 'parallel', 'master_worker', 'supervisor', 'coordinator', 'subflow'] as const satisfies readonly NodeKind[];
export type NodeOf<K extends NodeKind> = Extract<FlowNode, { kind: K }>;

export const FlowEdge = z
  .object({
    id: z.string().min(1).max(256).optional(),
    from: NodeId,
    to: NodeId,
    /** Output port of `from`: a router's route, or `error` for nodes with `onError: continue`. */
    fromPort: PortName.optional(),
    /** Input port of `to`: names this value in a merge or in a node's input object. */
    toPort: PortName.optional(),
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

/**
 * A sticky note on the canvas: text for people, never run. Notes are not part of the flow's
 * behaviour, so the engine leaves them out of the flow hash, like node positions.
 */
export const FlowNote = z
  .object({
    id: NodeId,
    text: z.string().max(20_000),
    position: Position,
    size: z.object({ width: z.number().min(1).max(100_000), height: z.number().min(1).max(100_000) }).strict().optional(),
    /** One of a few named colours the canvas offers; absent: the default (yellow). */
    color: z.enum(['yellow', 'blue', 'green', 'pink', 'grey']).optional(),
  })
  .strict();
export type FlowNote = z.infer<typeof FlowNote>;

export const FlowV1 = z
  .object({
    version: z.literal(1),
    id: NodeId,
    name: z.string().min(1).max(200),
    description: z.string().max(20_000).optional(),
    settings: FlowSettings.default({ concurrency: 64, allowHosts: [] }),
    nodes: z.array(FlowNode).max(100_000),
    edges: z.array(FlowEdge).max(1_000_000),
    /** Sticky notes on the canvas (optional: files without them stay valid). */
    notes: z.array(FlowNote).max(10_000).optional(),
  })
  .strict();

/** The current flow format; `parseFlow` migrates older versions into it. */
export const Flow = FlowV1;
export type Flow = z.infer<typeof Flow>;
/** A flow as written by a person: defaults may be left out. */
export type FlowInput = z.input<typeof Flow>;
