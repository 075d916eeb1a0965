export type { EngineContext, Clock, IdSource, EventSink, HttpClient, HttpRequestInit, HttpResponse, CredentialSource } from './context/context.js';
export { Cancellation, signalOf, type CancelSource } from './context/cancellation.js';
export { systemClock, createVirtualClock, derivedIds, noNetwork, fetchHttpClient, MemorySink, FanoutSink, envCredentials, credentialEnvName } from './context/defaults.js';
export { NodeError, toRunError } from './errors.js';
export { compileFlow, validateFlow, type CompiledFlow, type CompiledNode, type CompiledEdge, type CompileOptions, type CompileResult } from './graph/compile.js';
export { checkRunInput, inputJsonSchema } from './graph/input.js';
export { flowHash, canonicalJson } from './graph/hash.js';
export { runFlow, RunInputError, type RunOptions, type RunResult, type ReusedOutcome } from './scheduler/loop.js';
export { retryDelay } from './scheduler/plan.js';
export type { NodeKindDefinition, PreparedNode, NodeExecution, NodeResult, PrepareEnv, IncomingValue } from './nodes/node-kind.js';
export { BUILTIN_NODE_KINDS, type NodeKindRegistry } from './nodes/registry.js';
export { SkillRegistry, BUILTIN_SKILLS, createBuiltinSkillRegistry } from './skills/registry.js';
export { defineSkill, SkillParamError, type SkillDefinition, type SkillInstance, type SkillExecution } from './skills/skill.js';
export { hostAllowed } from './skills/io.js';
export { describeSkills, type SkillDescription } from './skills/describe.js';
export type { LlmProvider, LlmRequest, LlmResult, LlmToolCall, LlmToolSpec, LlmCallOptions, LlmDelta } from './llm/provider.js';
export { createLocalProvider, LOCAL_PROVIDER_NOTICE } from './llm/local.js';
export { createOpenAiProvider, type OpenAiProviderConfig } from './llm/openai.js';
export { createAnthropicProvider, type AnthropicProviderConfig } from './llm/anthropic.js';
export { createReplayProviders } from './llm/replay.js';
export { createStandardProviders, type StandardProviderOptions } from './llm/providers.js';
export { LlmError, parseRetryAfter, DEFAULT_RETRY, type LlmRetrySettings } from './llm/http-retry.js';
export type { ModelPricing } from './llm/transport.js';
export { SseParser, type SseEvent } from './llm/sse.js';
export { compileJsonSchema, type CompiledJsonSchema } from './llm/json-schema.js';
export { compileExpression, type CompiledExpression, type ExpressionScope } from './expressions/jsonata.js';
export { compileTemplate } from './expressions/template.js';
export { TaskPool, TaskScope, type TaskSpec, type TaskResult } from './scheduler/tasks.js';
export { MAX_NESTING_DEPTH } from './graph/compile.js';
export type { PreparedChild } from './nodes/node-kind.js';
export { findDivergence, type Divergence, type CompareOptions } from './replay/divergence.js';
export { planReuse, ReusePlanError, type ReusePlan, type ReusePlanInput } from './replay/reuse.js';
export type { McpToolSource, McpToolResult, McpToolDescription, McpCallOptions } from './mcp/source.js';
export { mcpResultText, mcpResultValue } from './mcp/source.js';
export { createReplayMcp } from './mcp/replay.js';
export { createFlowToolServer, FlowToolRefusal, runResources, FLOW_RUN_META_KEY, type FlowTool, type FlowToolCatalog, type FlowToolRun, type FlowToolResources } from './mcp/serve.js';
export {
  DEFAULT_SANDBOX_LIMITS,
  SandboxError,
  resolveSandboxLimits,
  type SandboxDriver,
  type SandboxIsolation,
  type SandboxSpawnSpec,
  type SandboxMount,
  type SandboxLimits,
  type SandboxProcess,
  type SandboxExit,
  type SandboxEndReason,
  type SandboxCleanup,
  type SandboxAudit,
  type SandboxViolationKind,
} from './sandbox/driver.js';
export { codeSkill } from './skills/code.js';
export { runCodeInSandbox, codeRuntime, type CodeCall, type CodeLanguage } from './sandbox/code-call.js';
