import type { RunError } from '@loom/shared';
import type { CompiledFlow } from '../graph/compile.js';
import type { IncomingValue } from '../nodes/node-kind.js';

/**
 * The scheduler's pure half: which nodes are ready (`takeReady`) and how a finished
 * node changes that (`applyOutcome`). No I/O, no clock, no promises: given the same
 * outcomes in the same order it makes the same decisions, which is what lets a log
 * replay exactly. State is updated in place: an immutable copy per step would make
 * a 10,000-node chain quadratic.
 */

export const NodePhase = {
  pending: 0,
  ready: 1,
  running: 2,
  succeeded: 3,
  failed: 4,
  skipped: 5,
  cancelled: 6,
} as const;
export type NodePhase = (typeof NodePhase)[keyof typeof NodePhase];

// Edge states: 0 until its source finishes, then active (carries a value) or dead.
const EDGE_ACTIVE = 1;
const EDGE_DEAD = 2;

/**
 * Per-node and per-edge arrays. Plain arrays of small integers, not typed arrays: a
 * typed array costs a few hundred bytes before its first element, which adds up over
 * 10,000 concurrent small runs.
 */
export interface SchedulerState {
  phase: NodePhase[];
  /** Latest attempt per node. */
  attempt: number[];
  /** Incoming edges not yet resolved, per node. */
  unresolved: number[];
  edgeState: number[];
  /** Values waiting on edges for their consumer to start. */
  edgeValue: unknown[];
  /** Values of output nodes, for the run's output. */
  output: unknown[];
  /** FIFO of ready nodes; `readyHead` is the next to start. */
  ready: number[];
  readyHead: number;
}

export type Outcome =
  | { kind: 'succeeded'; output: unknown; ports: string[] | undefined }
  /** A failure the flow handles: the node sends `{ error }` out of its `error` port. */
  | { kind: 'failed'; error: RunError };

export function createSchedulerState(compiled: CompiledFlow): SchedulerState {
  const initial = compiled.initialState;
  // Copies of arrays prepared at compile time: much cheaper than building them per run.
  return {
    phase: initial.phase.slice(),
    attempt: initial.nodeZeros.slice(),
    unresolved: initial.unresolved.slice(),
    edgeState: initial.edgeZeros.slice(),
    edgeValue: new Array<unknown>(compiled.edges.length),
    output: new Array<unknown>(compiled.nodes.length),
    ready: compiled.inputNodes.slice(),
    readyHead: 0,
  };
}

/** The arrays every run of a flow starts from, built once by `compileFlow`. */
export interface InitialSchedulerArrays {
  phase: NodePhase[];
  unresolved: number[];
  nodeZeros: number[];
  edgeZeros: number[];
}

export function initialSchedulerArrays(nodes: readonly { index: number; inEdges: readonly number[] }[], inputNodes: readonly number[], edgeCount: number): InitialSchedulerArrays {
  const phase: NodePhase[] = nodes.map(() => NodePhase.pending);
  for (const index of inputNodes) phase[index] = NodePhase.ready;
  return {
    phase,
    unresolved: nodes.map((node) => node.inEdges.length),
    nodeZeros: nodes.map(() => 0),
    edgeZeros: Array.from({ length: edgeCount }, () => 0),
  };
}

/** The next ready nodes, at most `capacity`, in the order they became ready; marks them running. */
export function takeReady(state: SchedulerState, capacity: number): number[] {
  // Sized up front: an empty array reserves room for 17 elements on its first push.
  const taken = new Array<number>(Math.max(0, Math.min(capacity, state.ready.length - state.readyHead)));
  for (let i = 0; i < taken.length; i++) {
    const index = state.ready[state.readyHead++]!;
    state.phase[index] = NodePhase.running;
    taken[i] = index;
  }
  if (state.readyHead === state.ready.length && state.readyHead > 1024) {
    state.ready = [];
    state.readyHead = 0;
  }
  return taken;
}

export function hasReady(state: SchedulerState): boolean {
  return state.readyHead < state.ready.length;
}

/**
 * What a node receives: the run input, its one upstream value, or values by key. Takes
 * the values off their edges: each edge has one consumer, and holding every value until
 * the run ends would make a long chain's memory, and so its GC cost per node, grow.
 */
export function collectInput(compiled: CompiledFlow, state: SchedulerState, index: number, runInput: unknown): unknown {
  const node = compiled.nodes[index]!;
  const inEdges = node.inEdges;
  if (node.prepared.inputMode === 'list') {
    const values: IncomingValue[] = [];
    for (const e of inEdges) if (state.edgeState[e] === EDGE_ACTIVE) values.push({ key: compiled.edges[e]!.key, value: takeEdgeValue(state, e) });
    return values;
  }
  if (inEdges.length === 0) return runInput;
  if (inEdges.length === 1 && !compiled.edges[inEdges[0]!]!.hasToPort) return takeEdgeValue(state, inEdges[0]!);
  const values: Record<string, unknown> = {};
  for (const e of inEdges) values[compiled.edges[e]!.key] = takeEdgeValue(state, e);
  return values;
}

function takeEdgeValue(state: SchedulerState, edge: number): unknown {
  const value = state.edgeValue[edge];
  state.edgeValue[edge] = undefined;
  return value;
}

/**
 * Folds a finished node into the state: resolves its outgoing edges (a value on the
 * ports it chose, nothing on the others), queues nodes whose inputs are all resolved,
 * and skips nodes that can no longer run. Returns the skipped nodes, in order.
 *
 * A node runs when every incoming edge carries a value; a `list`-mode node (merge)
 * runs when at least one does. A node that cannot run is skipped, and so, in turn, are
 * nodes that depended on it: a router's untaken branch is skipped up to the merge.
 */
export function applyOutcome(compiled: CompiledFlow, state: SchedulerState, index: number, outcome: Outcome): number[] {
  const skipped: number[] = [];
  let ports: string[] | undefined;
  let value: unknown;
  if (outcome.kind === 'succeeded') {
    state.phase[index] = NodePhase.succeeded;
    // Only output nodes' values are read again (for the run's output); the log has the rest.
    if (compiled.nodes[index]!.isOutput) state.output[index] = outcome.output;
    ports = outcome.ports;
    value = outcome.output;
  } else {
    state.phase[index] = NodePhase.failed;
    ports = ['error'];
    value = { error: outcome.error };
  }
  resolveOutgoing(compiled, state, index, ports, value, skipped);
  if (skipped.length === 0) return skipped;
  // A skipped node's edges are dead in turn; the most recently skipped goes first.
  const worklist = skipped.slice();
  while (worklist.length > 0) {
    const before = skipped.length;
    resolveOutgoing(compiled, state, worklist.pop()!, NO_PORTS, undefined, skipped);
    for (let i = before; i < skipped.length; i++) worklist.push(skipped[i]!);
  }
  return skipped;
}

const NO_PORTS: readonly string[] = [];

/** Resolves `from`'s outgoing edges: a value on the chosen ports; targets that cannot run go to `skipped`. */
function resolveOutgoing(compiled: CompiledFlow, state: SchedulerState, from: number, chosen: readonly string[] | undefined, carried: unknown, skipped: number[]): void {
  for (const e of compiled.nodes[from]!.outEdges) {
    const edge = compiled.edges[e]!;
    const active = chosen === undefined ? edge.fromPort === undefined : edge.fromPort !== undefined && chosen.includes(edge.fromPort);
    state.edgeState[e] = active ? EDGE_ACTIVE : EDGE_DEAD;
    const to = edge.to;
    if (active) state.edgeValue[e] = carried;
    if (--state.unresolved[to]! > 0) continue;
    const target = compiled.nodes[to]!;
    if (runs(target.inEdges, target.prepared.inputMode === 'list', state.edgeState)) {
      state.phase[to] = NodePhase.ready;
      state.ready.push(to);
    } else {
      state.phase[to] = NodePhase.skipped;
      skipped.push(to);
    }
  }
}

/**
 * Whether a node whose incoming edges are all resolved runs: a value on each of them, or
 * on at least one for a `list`-mode node. Counted once per node, when its last edge
 * resolves, rather than kept per run in another array.
 */
function runs(inEdges: readonly number[], list: boolean, edgeState: readonly number[]): boolean {
  for (const e of inEdges) {
    const active = edgeState[e] === EDGE_ACTIVE;
    if (list && active) return true;
    if (!list && !active) return false;
  }
  return !list;
}

/** Wait before attempt `attempt + 1`: exponential, capped, with jitter derived from the task id. */
export function retryDelay(policy: { backoffMs: number; factor: number; maxBackoffMs: number; jitter: number }, attempt: number, taskId: string): number {
  const base = Math.min(policy.maxBackoffMs, policy.backoffMs * policy.factor ** (attempt - 1));
  if (policy.jitter === 0) return Math.round(base);
  return Math.round(base * (1 - policy.jitter * unitHash(taskId)));
}

/** FNV-1a of `text` mapped to [0, 1): a reproducible stand-in for randomness. */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 0x100000000;
}
