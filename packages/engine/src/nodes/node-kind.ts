import type { Flow, FlowNode, FlowSettings, NodeKind, NodeOf, RunEventBody } from '@loom/shared';
import type { AttemptPolicy } from '../scheduler/attempts.js';
import type { CompiledFlow } from '../graph/compile.js';
import type { TaskScope } from '../scheduler/tasks.js';
import type { EngineContext } from '../context/context.js';
import type { ExpressionScope } from '../expressions/jsonata.js';
import type { SkillRegistry } from '../skills/registry.js';

/**
 * How one kind of node behaves. Every kind, from a pass-through skill to an
 * orchestration pattern, runs on the same scheduler through this interface.
 */
export interface NodeKindDefinition<K extends NodeKind = NodeKind> {
  kind: K;
  /**
   * Checks what the schema cannot (a skill exists, its parameters, expressions compile)
   * and prepares the node once per flow. Problems go to `env.issue`, not exceptions.
   */
  prepare(node: NodeOf<K>, env: PrepareEnv): PreparedNode;
}

export interface PrepareEnv {
  flow: Flow;
  skills: SkillRegistry;
  /** Reports a problem at `path` inside the node (e.g. `['config', 'params', 'url']`). */
  issue(path: (string | number)[], message: string): void;
  /**
   * Prepares a node nested at `path` inside this one (a pattern's worker, agent or
   * subagent), with its problems reported at their full path. Undefined when invalid.
   */
  prepareChild(node: FlowNode, path: (string | number)[]): PreparedChild | undefined;
  /** Checks and compiles a flow nested at `path` (a sub-flow), one nesting level deeper. */
  compileChildFlow(flow: Flow, path: (string | number)[]): CompiledFlow | undefined;
  /** How deep this node is nested in patterns: 0 for a flow's own node. */
  depth: number;
}

/**
 * What `prepare` returns for a node whose configuration it reported as invalid: compiling
 * fails on the reported issues, so this is never run.
 */
export const INVALID_NODE: PreparedNode = { effect: 'pure', inputMode: 'value', execute: () => ({ output: null }) };

/** A nested node, ready to be run as a task. */
export interface PreparedChild {
  id: string;
  node: FlowNode;
  prepared: PreparedNode;
  policy: AttemptPolicy;
}

export interface PreparedNode {
  /** `io` nodes reach outside the engine (network, models, time); pure ones depend on their input only. */
  effect: 'pure' | 'io';
  /** `list` gives the node every incoming value as `{ key, value }` in edge order (merge). */
  inputMode: 'value' | 'list';
  execute(execution: NodeExecution): NodeResult | Promise<NodeResult>;
  /**
   * For nodes that only produce a value (skills): returns the output itself, sparing an
   * object and a promise per execution. When present the loop calls it instead of `execute`.
   */
  produce?(execution: NodeExecution): unknown;
}

export interface NodeExecution {
  runId: string;
  nodeId: string;
  /** `<nodeId>/<attempt>`, unique within the run and the same in every replay of it. */
  taskId: string;
  attempt: number;
  input: unknown;
  signal: AbortSignal;
  /** Sleeps on the run's clock; rejects when the execution is cancelled first. Cheaper than `clock.sleep(ms, signal)`, which makes the run's signal. */
  sleep(ms: number): Promise<void>;
  context: EngineContext;
  settings: FlowSettings;
  scope: ExpressionScope;
  /** Appends an event to the run's log (`v`, `runId`, `seq` and `ts` are added). */
  emit(body: RunEventBody): void;
  /** 0 for a flow's node, one more for each level of pattern tasks. */
  depth: number;
  /** Hands out work as tasks of this execution (patterns). */
  tasks: TaskScope;
}

export interface NodeResult {
  output: unknown;
  /** Output ports that get the output; absent sends it to every edge without a port. */
  ports?: string[];
}

/** A value arriving at a `list`-mode node: `key` is the edge's `toPort` or the source node's id. */
export interface IncomingValue {
  key: string;
  value: unknown;
}
