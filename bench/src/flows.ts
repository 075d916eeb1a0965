import { validateFlow, type CompiledFlow } from '@loom/engine';
import type { FlowInput } from '@loom/shared';

/**
 * Flow builders for the benchmark workloads. Each returns a plain flow document typed
 * as `FlowInput` (defaults may be left out), exactly what a user would save; `compile`
 * then goes through the same validation path as the server and the CLI.
 */

type NodeInput = FlowInput['nodes'][number];
type EdgeInput = FlowInput['edges'][number];

/** The value every workload feeds in and expects back out. */
export const BENCH_INPUT = Object.freeze({ payload: 'bench', n: 42 });

export interface ChainOptions {
  /** `noop` (default): pure pass-through; `delay`: waits `delayMs` then passes through. */
  skill?: 'noop' | 'delay';
  delayMs?: number;
  /** settings.concurrency; a chain never has more than one node ready, so it rarely matters. */
  concurrency?: number;
}

/** input -> `n` skill nodes in a line -> output: `n + 2` nodes, `n + 1` edges. */
export function chain(n: number, options: ChainOptions = {}): FlowInput {
  if (!Number.isInteger(n) || n < 1) throw new Error(`chain length must be a positive integer, got ${n}`);
  const skill = options.skill ?? 'noop';
  const params = skill === 'delay' ? { ms: options.delayMs ?? 10 } : {};
  const nodes: NodeInput[] = [{ id: 'in', kind: 'input' }];
  const edges: EdgeInput[] = [];
  let previous = 'in';
  for (let i = 1; i <= n; i++) {
    const id = `${skill}${i}`;
    nodes.push({ id, kind: 'skill', config: { skill, params: { ...params } } });
    edges.push({ from: previous, to: id });
    previous = id;
  }
  nodes.push({ id: 'out', kind: 'output' });
  edges.push({ from: previous, to: 'out' });
  return {
    version: 1,
    id: `bench-chain-${skill}-${n}`,
    name: `Bench: chain of ${n} ${skill} nodes`,
    settings: { concurrency: options.concurrency ?? 64 },
    nodes,
    edges,
  };
}

/**
 * input -> `fan` (noop) -> `branches` delay nodes in parallel -> merge (array) -> output:
 * `branches + 4` nodes, `2 * branches + 2` edges. settings.concurrency = `branches`
 * (the engine default of 64 would serialise the branches into waves).
 */
export function fanout(branches: number, delayMs = 10): FlowInput {
  if (!Number.isInteger(branches) || branches < 1) throw new Error(`branch count must be a positive integer, got ${branches}`);
  const nodes: NodeInput[] = [
    { id: 'in', kind: 'input' },
    { id: 'fan', kind: 'skill', config: { skill: 'noop', params: {} } },
  ];
  const edges: EdgeInput[] = [{ from: 'in', to: 'fan' }];
  for (let i = 1; i <= branches; i++) {
    const id = `delay${i}`;
    nodes.push({ id, kind: 'skill', config: { skill: 'delay', params: { ms: delayMs } } });
    edges.push({ from: 'fan', to: id }, { from: id, to: 'merge' });
  }
  nodes.push({ id: 'merge', kind: 'merge', config: { mode: 'array' } }, { id: 'out', kind: 'output' });
  edges.push({ from: 'merge', to: 'out' });
  return {
    version: 1,
    id: `bench-fanout-${branches}`,
    name: `Bench: fan-out to ${branches} delay branches`,
    settings: { concurrency: branches },
    nodes,
    edges,
  };
}

/**
 * input -> one `parallel` node running `items` delay(`delayMs`) items over `instances`
 * instances (capacity 1 each, round robin) -> output: 3 nodes. The input is the list of
 * items; the node's output is `{ result, results, metrics }`.
 */
export function parallelSkills(items: number, instances: number, delayMs = 100): FlowInput {
  if (!Number.isInteger(items) || items < 1 || !Number.isInteger(instances) || instances < 1) {
    throw new Error(`item and instance counts must be positive integers, got ${items} and ${instances}`);
  }
  return {
    version: 1,
    id: `bench-parallel-${items}x${instances}`,
    name: `Bench: parallel node, ${items} delay items over ${instances} instances`,
    nodes: [
      { id: 'in', kind: 'input' },
      {
        id: 'parallel',
        kind: 'parallel',
        config: { skill: 'delay', params: { ms: delayMs }, instances: Array.from({ length: instances }, (_, i) => ({ id: `i${i + 1}` })) },
      },
      { id: 'out', kind: 'output' },
    ],
    edges: [
      { from: 'in', to: 'parallel' },
      { from: 'parallel', to: 'out' },
    ],
  };
}

export interface Compiled {
  compiled: CompiledFlow;
  /** Time for validateFlow (schema parse + graph checks + compile), ms. */
  validateMs: number;
}

/** Validates and compiles a flow document (Flow.parse, graph checks, compileFlow); throws on any issue. */
export function compile(doc: FlowInput): Compiled {
  const t0 = performance.now();
  const result = validateFlow(doc);
  const validateMs = performance.now() - t0;
  if (!result.ok) {
    const first = result.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`bench flow "${doc.id}" is invalid: ${first.join('; ')}`);
  }
  return { compiled: result.compiled, validateMs };
}

/**
 * Events a successful run of `nodeCount` nodes logs when no node retries:
 * run.started, running + succeeded per node, metrics, run.finished.
 */
export function expectedEvents(nodeCount: number): number {
  return 2 * nodeCount + 3;
}
