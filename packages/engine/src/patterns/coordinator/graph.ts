/** What the dependency graph needs to know of a subtask. */
export interface GraphNode {
  id: string;
  dependsOn: readonly string[];
  priority: number;
  /** Declared order, the last tie-breaker. */
  index: number;
}

export type WavePlan = { ok: true; waves: string[][] } | { ok: false; cycle: string[] };

/**
 * Topological waves: wave 1 holds the subtasks without dependencies, wave k those whose
 * dependencies all sit in earlier waves (so each subtask is in the wave right after its
 * latest dependency). Within a wave: higher priority first, then declared order.
 * Every `dependsOn` must name a node of the list, without repeats (`parseSubtasks` sees to both).
 */
export function planWaves<T extends GraphNode>(nodes: readonly T[]): WavePlan {
  const cycle = findCycle(nodes);
  if (cycle) return { ok: false, cycle };
  // Kahn's algorithm: a node's level is known once every dependency's is.
  const dependents = new Map<string, T[]>();
  const waiting = new Map<string, number>();
  const level = new Map<string, number>();
  const ready: T[] = [];
  for (const node of nodes) {
    waiting.set(node.id, node.dependsOn.length);
    for (const dep of node.dependsOn) (dependents.get(dep) ?? dependents.set(dep, []).get(dep)!).push(node);
    if (node.dependsOn.length === 0) ready.push(node);
  }
  for (let i = 0; i < ready.length; i++) {
    const node = ready[i]!;
    level.set(node.id, node.dependsOn.reduce((max, dep) => Math.max(max, level.get(dep)! + 1), 0));
    for (const dependent of dependents.get(node.id) ?? []) {
      const left = waiting.get(dependent.id)! - 1;
      waiting.set(dependent.id, left);
      if (left === 0) ready.push(dependent);
    }
  }
  let deepest = -1;
  for (const l of level.values()) deepest = Math.max(deepest, l);
  const waves = Array.from({ length: deepest + 1 }, (): T[] => []);
  for (const node of nodes) waves[level.get(node.id)!]!.push(node);
  return { ok: true, waves: waves.map((wave) => [...wave].sort(byPriority).map((n) => n.id)) };
}

/** Higher priority first, then declared order. */
export function byPriority(a: Pick<GraphNode, 'priority' | 'index'>, b: Pick<GraphNode, 'priority' | 'index'>): number {
  return b.priority - a.priority || a.index - b.index;
}

/**
 * The first dependency cycle found, walking subtasks and their `dependsOn` in declared
 * order, as the path that closes it: `['a', 'b', 'c', 'a']` means a depends on b, b on c,
 * c on a. Undefined when the graph is acyclic.
 */
export function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();

  // Iterative DFS, so a long chain of dependencies cannot overflow the stack.
  for (const root of nodes) {
    if (done.has(root.id)) continue;
    const stack: { node: GraphNode; next: number }[] = [{ node: root, next: 0 }];
    path.push(root.id);
    onPath.add(root.id);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const depId = frame.node.dependsOn[frame.next++];
      if (depId === undefined) {
        stack.pop();
        path.pop();
        onPath.delete(frame.node.id);
        done.add(frame.node.id);
        continue;
      }
      if (onPath.has(depId)) return [...path.slice(path.indexOf(depId)), depId];
      const dep = byId.get(depId);
      if (!dep || done.has(depId)) continue;
      stack.push({ node: dep, next: 0 });
      path.push(depId);
      onPath.add(depId);
    }
  }
  return undefined;
}

/** `a -> b -> c -> a`, as errors show a cycle. */
export function describeCycle(cycle: readonly string[]): string {
  return `dependency cycle: ${cycle.join(' -> ')} (each subtask depends on the next)`;
}
