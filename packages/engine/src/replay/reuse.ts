import type { Flow, RunEvent } from '@loom/shared';
import { canonicalJson } from '../graph/hash.js';
import type { ReusedOutcome } from '../scheduler/loop.js';

export interface ReusePlanInput {
  /** The flow the new run executes. */
  flow: Flow;
  /** The flow the parent run executed; the same as `flow` when resuming. */
  parentFlow: Flow;
  /** The parent run's log (complete or cut short by a crash). */
  parentEvents: readonly RunEvent[];
  /** Fork point: this node and everything downstream of it run again. Absent when resuming. */
  fromNodeId?: string;
}

export interface ReusePlan {
  /** Node outcomes to pass as `RunOptions.reuse`. */
  reuse: Map<string, ReusedOutcome>;
  /** Nodes that will run again, in flow order, each with why. */
  rerun: { nodeId: string; reason: 'fork_point' | 'changed' | 'not_succeeded' | 'downstream' }[];
}

export class ReusePlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReusePlanError';
  }
}

/**
 * Which recorded outputs a resumed or forked run may reuse. A node is reused when it
 * succeeded in the parent run, its definition and incoming edges are unchanged, and
 * nothing upstream of it runs again; everything else runs again, so a reused output is
 * always the output the new flow would have computed from the same upstream values.
 * Only top-level nodes are considered: a pattern node is reused or re-run as a whole.
 */
export function planReuse({ flow, parentFlow, parentEvents, fromNodeId }: ReusePlanInput): ReusePlan {
  if (fromNodeId !== undefined && !flow.nodes.some((node) => node.id === fromNodeId)) {
    throw new ReusePlanError(`the flow has no node "${fromNodeId}" to fork from`);
  }
  const recorded = new Map<string, { status: string; outcome?: ReusedOutcome }>();
  for (const event of parentEvents) {
    if (event.type !== 'node.status') continue;
    const outcome: ReusedOutcome | undefined = event.status === 'succeeded' ? { output: event.output, ...(event.ports ? { ports: event.ports } : {}) } : undefined;
    recorded.set(event.nodeId, { status: event.status, ...(outcome ? { outcome } : {}) });
  }

  const parentSignatures = nodeSignatures(parentFlow);
  const signatures = nodeSignatures(flow);
  const reason = new Map<string, ReusePlan['rerun'][number]['reason']>();
  for (const node of flow.nodes) {
    const status = recorded.get(node.id)?.status;
    if (node.id === fromNodeId) reason.set(node.id, 'fork_point');
    else if (parentSignatures.get(node.id) !== signatures.get(node.id)) reason.set(node.id, 'changed');
    // A skipped node produced nothing: it is decided again by its upstream, like any pending node.
    else if (status !== 'succeeded' && status !== 'skipped') reason.set(node.id, 'not_succeeded');
  }

  // Everything downstream of a node that runs again runs again too.
  const downstream = new Map<string, string[]>();
  for (const edge of flow.edges) downstream.set(edge.from, [...(downstream.get(edge.from) ?? []), edge.to]);
  const worklist = [...reason.keys()];
  while (worklist.length > 0) {
    for (const next of downstream.get(worklist.pop()!) ?? []) {
      if (reason.has(next)) continue;
      reason.set(next, 'downstream');
      worklist.push(next);
    }
  }

  const reuse = new Map<string, ReusedOutcome>();
  const rerun: ReusePlan['rerun'] = [];
  for (const node of flow.nodes) {
    const why = reason.get(node.id);
    if (why !== undefined) rerun.push({ nodeId: node.id, reason: why });
    else {
      const outcome = recorded.get(node.id)?.outcome;
      if (outcome) reuse.set(node.id, outcome);
    }
  }
  return { reuse, rerun };
}

/** What decides a node's output besides its input values: its definition (not its place on the canvas) and its incoming edges. */
function nodeSignatures(flow: Flow): Map<string, string> {
  const incoming = new Map<string, string[]>();
  for (const edge of flow.edges) {
    incoming.set(edge.to, [...(incoming.get(edge.to) ?? []), canonicalJson({ from: edge.from, fromPort: edge.fromPort, toPort: edge.toPort })]);
  }
  return new Map(
    flow.nodes.map((node) => {
      const { position: _position, name: _name, description: _description, ...behaviour } = node;
      return [node.id, canonicalJson({ node: behaviour, incoming: (incoming.get(node.id) ?? []).sort(), settings: flow.settings })];
    }),
  );
}
