import { checkFlowGraph, parseFlow, type Flow, type FlowIssue, type FlowNode, type RetryPolicy, RetryPolicy as RetryPolicySchema } from '@loom/shared';
import type { PrepareEnv, PreparedNode } from '../nodes/node-kind.js';
import { INVALID_NODE } from '../nodes/node-kind.js';
import { BUILTIN_NODE_KINDS, type NodeKindRegistry } from '../nodes/registry.js';
import { createBuiltinSkillRegistry, type SkillRegistry } from '../skills/registry.js';
import { flowHash } from './hash.js';
import { initialSchedulerArrays, type InitialSchedulerArrays } from '../scheduler/plan.js';

/**
 * A flow turned into index-based arrays once, so a run does O(1) work per node and
 * edge. Compile a flow once and run it many times.
 */
export interface CompiledFlow {
  flow: Flow;
  hash: string;
  nodes: CompiledNode[];
  edges: CompiledEdge[];
  nodeIds: string[];
  indexOf: ReadonlyMap<string, number>;
  /** Input nodes in file order: the first tasks of every run. */
  inputNodes: number[];
  outputNodes: number[];
  /** Starting arrays for the scheduler, copied by each run. */
  initialState: InitialSchedulerArrays;
}

export interface CompiledNode {
  index: number;
  id: string;
  node: FlowNode;
  prepared: PreparedNode;
  inEdges: number[];
  outEdges: number[];
  retry: RetryPolicy;
  timeoutMs: number | undefined;
  continueOnError: boolean;
  /** Key of this node's value in the run output (output nodes). */
  outputKey: string;
  /**
   * Read on every node of every run, kept here so the run loop need not touch the node's
   * definition or its retry policy (separate objects: at 10,000 nodes, cache misses).
   */
  isOutput: boolean;
  /** One attempt, no timeout (see `AttemptPolicy.singleAttempt`). */
  singleAttempt: boolean;
}

export interface CompiledEdge {
  index: number;
  from: number;
  to: number;
  fromPort: string | undefined;
  /** Name of the value at the target: `toPort`, else the source node's id. */
  key: string;
  hasToPort: boolean;
}

export interface CompileOptions {
  skills?: SkillRegistry;
  kinds?: NodeKindRegistry;
}

export type CompileResult = { ok: true; compiled: CompiledFlow } | { ok: false; issues: FlowIssue[] };

const NO_RETRY: RetryPolicy = RetryPolicySchema.parse({});

/** Validates a parsed flow deeply (skills, parameters, expressions) and prepares it to run. */
export function compileFlow(flow: Flow, options: CompileOptions = {}): CompileResult {
  return compileAt(flow, options.skills ?? defaultSkills(), options.kinds ?? BUILTIN_NODE_KINDS, 0);
}

/** Compiles a flow whose nodes sit `depth` pattern levels deep (sub-flows compile at their parent's depth + 1). */
function compileAt(flow: Flow, skills: SkillRegistry, kinds: NodeKindRegistry, depth: number): CompileResult {
  const issues: FlowIssue[] = [];
  const indexOf = new Map<string, number>();
  flow.nodes.forEach((node, i) => indexOf.set(node.id, i));

  const nodes: CompiledNode[] = flow.nodes.map((node, index) => {
    const issue = (path: (string | number)[], message: string) => issues.push({ path: ['nodes', index, ...path], nodeId: node.id, message });
    const prepared = prepareNode(node, { flow, skills, kinds, issue, depth });
    return {
      index,
      id: node.id,
      node,
      prepared,
      inEdges: [],
      outEdges: [],
      retry: node.retry ?? NO_RETRY,
      timeoutMs: node.timeoutMs,
      continueOnError: node.onError === 'continue',
      outputKey: node.kind === 'output' ? (node.config.key ?? node.id) : node.id,
      isOutput: node.kind === 'output',
      singleAttempt: node.timeoutMs === undefined && (node.retry ?? NO_RETRY).maxAttempts <= 1,
    };
  });

  const edges: CompiledEdge[] = flow.edges.map((edge, index) => {
    const from = indexOf.get(edge.from)!;
    const to = indexOf.get(edge.to)!;
    nodes[from]!.outEdges.push(index);
    nodes[to]!.inEdges.push(index);
    return { index, from, to, fromPort: edge.fromPort, key: edge.toPort ?? edge.from, hasToPort: edge.toPort !== undefined };
  });

  const outputNodes = nodes.filter((n) => n.node.kind === 'output').map((n) => n.index);
  const keys = new Map<string, string>();
  for (const index of outputNodes) {
    const node = nodes[index]!;
    const other = keys.get(node.outputKey);
    if (other !== undefined) issues.push({ path: ['nodes', index, 'config', 'key'], nodeId: node.id, message: `output key "${node.outputKey}" is also used by node "${other}"` });
    keys.set(node.outputKey, node.id);
  }
  if (issues.length > 0) return { ok: false, issues };
  const inputNodes = nodes.filter((n) => n.node.kind === 'input').map((n) => n.index);
  return {
    ok: true,
    compiled: {
      flow,
      hash: flowHash(flow),
      nodes,
      edges,
      nodeIds: nodes.map((n) => n.id),
      indexOf,
      inputNodes,
      outputNodes,
      initialState: initialSchedulerArrays(nodes, inputNodes, edges.length),
    },
  };
}

/** Patterns inside patterns: deeper nesting is refused with an error naming the path. */
export const MAX_NESTING_DEPTH = 8;

interface PrepareScope {
  flow: Flow;
  skills: SkillRegistry;
  kinds: NodeKindRegistry;
  issue(path: (string | number)[], message: string): void;
  depth: number;
}

/** Prepares a node with its kind, giving it a way to prepare the nodes nested in it. */
function prepareNode(node: FlowNode, scope: PrepareScope): PreparedNode {
  const kind = scope.kinds[node.kind] as NodeKindRegistry[typeof node.kind] | undefined;
  if (!kind) {
    scope.issue(['kind'], `node kind "${node.kind}" is not available in this engine`);
    return INVALID_NODE;
  }
  const prepare = kind.prepare as (n: FlowNode, env: PrepareEnv) => PreparedNode;
  return prepare(node, {
    flow: scope.flow,
    skills: scope.skills,
    issue: scope.issue,
    depth: scope.depth,
    prepareChild: (child, path) => {
      const childIssue = (inner: (string | number)[], message: string) => scope.issue([...path, ...inner], message);
      if (scope.depth + 1 > MAX_NESTING_DEPTH) {
        childIssue([], `patterns are nested more than ${MAX_NESTING_DEPTH} levels deep here; flatten the flow or use fewer levels`);
        return undefined;
      }
      let failed = false;
      const prepared = prepareNode(child, {
        ...scope,
        depth: scope.depth + 1,
        issue: (inner, message) => {
          failed = true;
          childIssue(inner, message);
        },
      });
      if (failed) return undefined;
      return { id: child.id, node: child, prepared, policy: { retry: child.retry ?? NO_RETRY, timeoutMs: child.timeoutMs } };
    },
    compileChildFlow: (child, path) => {
      if (scope.depth + 1 > MAX_NESTING_DEPTH) {
        scope.issue(path, `patterns are nested more than ${MAX_NESTING_DEPTH} levels deep here; flatten the flow or use fewer levels`);
        return undefined;
      }
      // The schema checked the nested flow's shape with its parent; its graph is checked here.
      const graphIssues = checkFlowGraph(child);
      const result = graphIssues.length > 0 ? { ok: false as const, issues: graphIssues } : compileAt(child, scope.skills, scope.kinds, scope.depth + 1);
      if (result.ok) return result.compiled;
      for (const issue of result.issues) scope.issue([...path, ...issue.path], issue.nodeId ? `node "${issue.nodeId}": ${issue.message}` : issue.message);
      return undefined;
    },
  });
}

/** Parses, migrates and compiles a flow document: every problem, located. */
export function validateFlow(doc: unknown, options: CompileOptions = {}): CompileResult {
  const parsed = parseFlow(doc);
  if (!parsed.ok) return parsed;
  return compileFlow(parsed.flow, options);
}


let builtinSkills: SkillRegistry | undefined;
function defaultSkills(): SkillRegistry {
  return (builtinSkills ??= createBuiltinSkillRegistry());
}
