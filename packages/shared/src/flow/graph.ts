import type { Flow, FlowNode } from './schema.js';
import type { FlowIssue } from './parse.js';

/**
 * Structural checks that a schema cannot express: unique ids, edges that point at real
 * nodes and ports, no cycles, and the shape each kind needs (an input has no incoming
 * edge, a router's edges leave through its routes...). The web uses the same checks to
 * refuse a connection on the canvas.
 */
export interface GraphCheckOptions {
  /**
   * Accept nodes that nothing feeds yet: a flow being drawn may be saved with them, but
   * not run (the server runs the full check before a run).
   */
  allowUnconnected?: boolean;
}

export function checkFlowGraph(flow: Flow, options: GraphCheckOptions = {}): FlowIssue[] {
  const issues: FlowIssue[] = [];
  const index = new Map<string, number>();
  flow.nodes.forEach((node, i) => {
    if (index.has(node.id)) {
      issues.push({ path: ['nodes', i, 'id'], nodeId: node.id, message: `duplicate node id "${node.id}" (also nodes[${index.get(node.id)}])` });
    } else index.set(node.id, i);
  });

  const noteIds = new Set<string>();
  flow.notes?.forEach((note, i) => {
    if (noteIds.has(note.id)) issues.push({ path: ['notes', i, 'id'], message: `duplicate note id "${note.id}"` });
    noteIds.add(note.id);
  });

  const incoming = new Map<string, number>();
  const outgoing = new Map<string, number[]>();
  const edgeIds = new Set<string>();
  /** `to` + the name its value arrives under: two edges may not deliver under one name. */
  const arrivals = new Map<string, number>();
  flow.edges.forEach((edge, i) => {
    const label = `edge ${edge.id ? `"${edge.id}" ` : ''}${edge.from} -> ${edge.to}`;
    if (edge.id !== undefined) {
      if (edgeIds.has(edge.id)) issues.push({ path: ['edges', i, 'id'], message: `duplicate edge id "${edge.id}"` });
      edgeIds.add(edge.id);
    }
    const from = index.get(edge.from);
    const to = index.get(edge.to);
    if (from === undefined) issues.push({ path: ['edges', i, 'from'], message: `${label}: no node "${edge.from}"` });
    if (to === undefined) issues.push({ path: ['edges', i, 'to'], message: `${label}: no node "${edge.to}"` });
    if (from === undefined || to === undefined) return;
    if (edge.from === edge.to) issues.push({ path: ['edges', i], message: `${label}: a node cannot connect to itself` });
    const source = flow.nodes[from]!;
    const target = flow.nodes[to]!;
    const portIssue = checkFromPort(source, edge.fromPort);
    if (portIssue) issues.push({ path: ['edges', i, 'fromPort'], message: `${label}: ${portIssue}` });
    if (target.kind === 'input') issues.push({ path: ['edges', i, 'to'], message: `${label}: input node "${target.id}" cannot have incoming edges` });
    if (source.kind === 'output') issues.push({ path: ['edges', i, 'from'], message: `${label}: output node "${source.id}" cannot have outgoing edges` });
    const arrival = `${edge.to}\u0000${edge.toPort ?? edge.from}`;
    const earlier = arrivals.get(arrival);
    if (earlier !== undefined) {
      issues.push({
        path: ['edges', i],
        message: `${label}: edges[${earlier}] already delivers a value named "${edge.toPort ?? edge.from}" to "${edge.to}" (give one of them another toPort)`,
      });
    } else arrivals.set(arrival, i);
    incoming.set(edge.to, (incoming.get(edge.to) ?? 0) + 1);
    const list = outgoing.get(edge.from);
    if (list) list.push(to);
    else outgoing.set(edge.from, [to]);
  });

  flow.nodes.forEach((node, i) => {
    if (!options.allowUnconnected && node.kind !== 'input' && !incoming.has(node.id) && index.get(node.id) === i) {
      issues.push({ path: ['nodes', i], nodeId: node.id, message: `${node.kind} node has no incoming edge, so it would never run` });
    }
  });

  const cycle = findCycle(flow, index, outgoing);
  if (cycle) {
    issues.push({
      path: ['edges'],
      message: `cycle ${cycle.join(' -> ')}: flows must be acyclic (use retries or a pattern node to repeat work)`,
    });
  }
  return issues;
}

function checkFromPort(source: FlowNode, port: string | undefined): string | undefined {
  if (port === undefined) {
    return source.kind === 'router' ? `router "${source.id}" edges need "fromPort" (one of ${routerPorts(source).join(', ')})` : undefined;
  }
  if (port === 'error') {
    return source.onError === 'continue' ? undefined : `port "error" needs onError: "continue" on node "${source.id}"`;
  }
  if (source.kind === 'router') {
    const ports = routerPorts(source);
    return ports.includes(port) ? undefined : `router "${source.id}" has no port "${port}" (ports: ${ports.join(', ')})`;
  }
  return `${source.kind} node "${source.id}" has no output port "${port}"`;
}

function routerPorts(node: Extract<FlowNode, { kind: 'router' }>): string[] {
  return [...new Set([...node.config.routes.map((r) => r.port), node.config.defaultPort])];
}

/** Iterative DFS (no recursion: a 100,000-node chain must not overflow the stack). */
function findCycle(flow: Flow, index: Map<string, number>, outgoing: Map<string, number[]>): string[] | undefined {
  const state = new Uint8Array(flow.nodes.length); // 0 new, 1 on stack, 2 done
  const parent = new Int32Array(flow.nodes.length).fill(-1);
  for (let root = 0; root < flow.nodes.length; root++) {
    if (state[root] !== 0 || index.get(flow.nodes[root]!.id) !== root) continue;
    const stack: { node: number; next: number }[] = [{ node: root, next: 0 }];
    state[root] = 1;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const targets = outgoing.get(flow.nodes[frame.node]!.id) ?? [];
      if (frame.next >= targets.length) {
        state[frame.node] = 2;
        stack.pop();
        continue;
      }
      const target = targets[frame.next++]!;
      if (state[target] === 1) {
        const path = [flow.nodes[target]!.id];
        for (let n = frame.node; n !== target && n !== -1; n = parent[n]!) path.push(flow.nodes[n]!.id);
        path.push(flow.nodes[target]!.id);
        return path.slice(0, 1).concat(path.slice(1, -1).reverse(), path.slice(-1));
      }
      if (state[target] === 0) {
        state[target] = 1;
        parent[target] = frame.node;
        stack.push({ node: target, next: 0 });
      }
    }
  }
  return undefined;
}
