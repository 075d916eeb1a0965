import { z } from 'zod';

/**
 * A run is an append-only log of these events. Run state is `reduceRun(events)`,
 * on the server, in the browser and in the CLI alike. Every effect's result is in
 * the log, so a replay needs nothing else.
 *
 * Events carry no durations: those come from `ts` differences, so two runs of the
 * same flow and input give logs that are byte-identical apart from `ts`.
 */
export const RUN_EVENT_VERSION = 1 as const;

export const NodeStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled']);
export type NodeStatus = z.infer<typeof NodeStatus>;

/**
 * How a run ended. `interrupted` is never written by the engine: the server appends it
 * for runs its process was running when it stopped (a crash, kill -9); such a run can
 * be resumed from its last completed nodes.
 */
export const RunStatus = z.enum(['succeeded', 'failed', 'cancelled', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunError = z.object({
  message: z.string(),
  /** Stable machine-readable reason: `timeout`, `cancelled`, `http_status`, `validation`... */
  code: z.string().optional(),
  nodeId: z.string().optional(),
  /** Whether trying again could succeed (used by retry policies). */
  retryable: z.boolean().optional(),
});
export type RunError = z.infer<typeof RunError>;

const base = {
  v: z.literal(RUN_EVENT_VERSION),
  runId: z.string(),
  /** 1, 2, 3, ... per run, without gaps. */
  seq: z.number().int().positive(),
  /** Epoch milliseconds from the run's injected clock. */
  ts: z.number(),
};

export const RunStartedEvent = z.object({
  ...base,
  type: z.literal('run.started'),
  flowId: z.string(),
  /** sha-256 of the flow's canonical JSON: replays check they use the same flow. */
  flowHash: z.string(),
  /** Every node of the flow, in file order; all start `pending`. */
  nodeIds: z.array(z.string()),
  input: z.unknown(),
  parentRunId: z.string().optional(),
});

export const NodeStatusEvent = z.object({
  ...base,
  type: z.literal('node.status'),
  nodeId: z.string(),
  status: NodeStatus,
  attempt: z.number().int().min(0),
  output: z.unknown().optional(),
  error: RunError.optional(),
  /** Set on a failed attempt that will be retried: the wait before the next one. */
  retryInMs: z.number().int().min(0).optional(),
  /** Output ports that received the output (routers, `error`); absent means all. */
  ports: z.array(z.string()).optional(),
  /**
   * Set when the output was not computed by this run but taken from the recorded log of
   * its parent run (`run.started.parentRunId`): a resumed or forked run reusing work.
   */
  reused: z.literal(true).optional(),
});

export const TaskAssignedEvent = z.object({
  ...base,
  type: z.literal('task.assigned'),
  taskId: z.string(),
  nodeId: z.string(),
  parentTaskId: z.string().optional(),
  /** Who runs it: a worker, an agent, a subagent, a skill instance. */
  assignee: z.string(),
  input: z.unknown().optional(),
  /** A coordinator's subtask: the dependency wave it runs in (1-based) and how many waves the plan has. */
  wave: z.number().int().min(1).optional(),
  waves: z.number().int().min(1).optional(),
});

export const TaskSucceededEvent = z.object({
  ...base,
  type: z.literal('task.succeeded'),
  taskId: z.string(),
  nodeId: z.string(),
  output: z.unknown().optional(),
  /** The attempt that succeeded (1 unless retried). */
  attempt: z.number().int().min(1).optional(),
});

export const TaskFailedEvent = z.object({
  ...base,
  type: z.literal('task.failed'),
  taskId: z.string(),
  nodeId: z.string(),
  error: RunError,
  attempt: z.number().int().min(1).optional(),
  /** Set when the task will be tried again after this wait: the task is still going. */
  retryInMs: z.number().int().min(0).optional(),
});

/**
 * A pattern's policy skipped a task that failed for good (a chain step with `skip`) and went
 * on with `output`, the step's default. Follows the task's last `task.failed`.
 */
export const TaskSkippedEvent = z.object({
  ...base,
  type: z.literal('task.skipped'),
  taskId: z.string(),
  nodeId: z.string(),
  /** Why, in words: which policy, and what the pattern went on with. */
  reason: z.string(),
  output: z.unknown().optional(),
});

export const ChatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  /** On assistant messages: the tools the model asked for. */
  toolCalls: z.array(z.object({ id: z.string(), name: z.string(), args: z.unknown() })).optional(),
  /** On tool messages: which call this answers. */
  toolCallId: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const LlmRequestEvent = z.object({
  ...base,
  type: z.literal('llm.request'),
  callId: z.string(),
  nodeId: z.string(),
  provider: z.string(),
  model: z.string(),
  messages: z.array(ChatMessage),
  tools: z.array(z.string()).optional(),
});

export const TokenUsage = z.object({ input: z.number().int().min(0), output: z.number().int().min(0) });
export type TokenUsage = z.infer<typeof TokenUsage>;

export const LlmResponseEvent = z.object({
  ...base,
  type: z.literal('llm.response'),
  callId: z.string(),
  nodeId: z.string(),
  provider: z.string(),
  model: z.string(),
  content: z.string(),
  toolCalls: z.array(z.object({ id: z.string(), name: z.string(), args: z.unknown() })).optional(),
  tokens: TokenUsage,
  costUsd: z.number().min(0).optional(),
  /** Why the model stopped, in the provider's words (`stop`, `length`, `tool_calls`, `end_turn`...). */
  finishReason: z.string().max(64).optional(),
  /** HTTP requests the call took, when the provider retried (429, 5xx, a stalled stream). */
  attempts: z.number().int().min(1).optional(),
  error: RunError.optional(),
});

/**
 * Text of a model's answer as it streams in, before its `llm.response` (which carries the
 * whole answer). Small chunks are coalesced, so a long answer is tens of events, not one
 * per token. A provider that retried mid-stream starts again with a higher `attempt`:
 * the text of earlier attempts is then obsolete.
 */
export const LlmDeltaEvent = z.object({
  ...base,
  type: z.literal('llm.delta'),
  callId: z.string(),
  nodeId: z.string(),
  /** 0, 1, 2, ... per call, in order. */
  index: z.number().int().min(0),
  text: z.string(),
  /** The provider's HTTP attempt this text belongs to; absent means 1. */
  attempt: z.number().int().min(1).optional(),
});

export const ToolCallEvent = z.object({
  ...base,
  type: z.literal('tool.call'),
  callId: z.string(),
  nodeId: z.string(),
  tool: z.string(),
  args: z.unknown(),
  result: z.unknown().optional(),
  error: RunError.optional(),
});

/**
 * One call to a tool of an MCP server (an `mcp` node, or an agent's MCP tool), with the
 * server's answer as received: a replay answers the call from here without the server.
 * `result` is MCP's CallToolResult (`content`, `structuredContent`, `isError`); `error`
 * is set when no answer came (unreachable server, a tool that changed and awaits approval).
 */
export const McpCallEvent = z.object({
  ...base,
  type: z.literal('mcp.call'),
  callId: z.string(),
  nodeId: z.string(),
  server: z.string(),
  tool: z.string(),
  args: z.unknown(),
  result: z
    .object({ content: z.array(z.unknown()), structuredContent: z.unknown().optional(), isError: z.boolean().optional() })
    .optional(),
  error: RunError.optional(),
});

/**
 * The description and input schema of an MCP tool as an agent showed it to its model
 * (its approved, pinned version on the server), so a replay offers the model the same tool.
 */
export const McpToolEvent = z.object({
  ...base,
  type: z.literal('mcp.tool'),
  callId: z.string(),
  nodeId: z.string(),
  server: z.string(),
  tool: z.string(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  error: RunError.optional(),
});

export const SupervisionEntryEvent = z.object({
  ...base,
  type: z.literal('supervision.entry'),
  nodeId: z.string(),
  step: z.number().int().min(0),
  state: z.string(),
  agent: z.string(),
  action: z.string(),
  assessment: z.string(),
  metrics: z.record(z.string(), z.number()),
});

export const MetricsEvent = z.object({
  ...base,
  type: z.literal('metrics'),
  /** Absent for run-wide metrics. */
  nodeId: z.string().optional(),
  values: z.record(z.string(), z.number()),
});

/**
 * The audit trail of a sandbox (code skills, stdio tools): one sandbox per execution,
 * `sandboxId` derived from the task (`<taskId>/code-<n>`), so a replay names it the same.
 * The code's result is the node's or task's output; these record what happened around it.
 */
const sandboxBase = { ...base, nodeId: z.string(), sandboxId: z.string() };

export const SandboxLimitsRecord = z.object({
  memoryMb: z.number(),
  cpus: z.number(),
  pids: z.number(),
  wallClockMs: z.number(),
  scratchMb: z.number(),
  outputBytes: z.number(),
});

export const SandboxCreatedEvent = z.object({
  ...sandboxBase,
  type: z.literal('sandbox.created'),
  /** `gvisor`, `bwrap`. */
  driver: z.string(),
  isolation: z.enum(['strong', 'weak', 'none']),
  /** What runs inside, e.g. `javascript`. */
  runtime: z.string(),
  limits: SandboxLimitsRecord,
  /** Hosts the code may reach through the engine's allow-listed HTTP bridge; the sandbox itself has no network. */
  allowHosts: z.array(z.string()),
});

export const SandboxOutputEvent = z.object({
  ...sandboxBase,
  type: z.literal('sandbox.output'),
  stream: z.enum(['stdout', 'stderr']),
  text: z.string(),
  /** Set when the stream was longer than what the event keeps. */
  truncated: z.literal(true).optional(),
});

export const SandboxViolationEvent = z.object({
  ...sandboxBase,
  type: z.literal('sandbox.violation'),
  /** `memory`, `timeout`, `output_limit`, `network`, ... */
  kind: z.string(),
  detail: z.string(),
});

export const SandboxKilledEvent = z.object({
  ...sandboxBase,
  type: z.literal('sandbox.killed'),
  /** `timeout`, `memory`, `output_limit`, `killed` (cancelled or the code's result arrived). */
  reason: z.string(),
  detail: z.string(),
});

export const SandboxCleanedEvent = z.object({
  ...sandboxBase,
  type: z.literal('sandbox.cleaned'),
  /** True when no process, mount, directory or cgroup of the sandbox was left. */
  ok: z.boolean(),
  leftovers: z.array(z.string()),
  exitCode: z.number().int().nullable(),
});

export const RunFinishedEvent = z.object({
  ...base,
  type: z.literal('run.finished'),
  status: RunStatus,
  output: z.unknown().optional(),
  error: RunError.optional(),
});

export const RunEvent = z.discriminatedUnion('type', [
  RunStartedEvent,
  NodeStatusEvent,
  TaskAssignedEvent,
  TaskSucceededEvent,
  TaskFailedEvent,
  TaskSkippedEvent,
  LlmRequestEvent,
  LlmDeltaEvent,
  LlmResponseEvent,
  ToolCallEvent,
  McpCallEvent,
  McpToolEvent,
  SupervisionEntryEvent,
  MetricsEvent,
  RunFinishedEvent,
  SandboxCreatedEvent,
  SandboxOutputEvent,
  SandboxViolationEvent,
  SandboxKilledEvent,
  SandboxCleanedEvent,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
/** An event before the log gives it `v`, `runId`, `seq` and `ts`. */
export type RunEventBody<T extends RunEventType = RunEventType> = T extends RunEventType
  ? Omit<RunEventOf<T>, 'v' | 'runId' | 'seq' | 'ts'>
  : never;
