import { createHash } from 'node:crypto';
import type { Flow } from '@loom/shared';

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

/** sha-256 of the flow's canonical JSON, minus what does not change behaviour (positions, notes). */
export function flowHash(flow: Flow): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(behaviourOf(flow))).digest('hex');
}

/**
 * The flow without node positions and notes, also inside sub-flow nodes (drawn as groups on
 * the canvas, so moving an inner node or writing a note there must not change the hash).
 */
function behaviourOf(flow: Flow): Omit<Flow, 'notes'> {
  const { notes: _notes, ...rest } = flow;
  return {
    ...rest,
    nodes: flow.nodes.map(({ position: _position, ...node }) => (node.kind === 'subflow' ? { ...node, config: { ...node.config, flow: behaviourOf(node.config.flow) } } : node)),
  };
}
