/** What matching needs to know of a subagent. */
export interface SubagentProfile {
  id: string;
  capabilities: readonly string[];
}

export type Match =
  | { kind: 'matched'; subagent: string }
  /** No subagent declares the capability. */
  | { kind: 'no_subagent'; message: string }
  /** Some do, but none has budget left for the request: `capable` in declared order. */
  | { kind: 'no_budget'; capable: string[] };

/**
 * The subagent for a subtask: the first, in declared order, that declares the capability
 * and for which `fits` says its budget can take the request.
 */
export function matchSubagent(capability: string, subagents: readonly SubagentProfile[], fits: (subagentId: string) => boolean): Match {
  const capable = subagents.filter((s) => s.capabilities.includes(capability));
  if (capable.length === 0) {
    const offered = subagents.map((s) => `${s.id} [${s.capabilities.join(', ')}]`).join('; ');
    return { kind: 'no_subagent', message: `no subagent has capability "${capability}" (subagents: ${offered})` };
  }
  const chosen = capable.find((s) => fits(s.id));
  return chosen ? { kind: 'matched', subagent: chosen.id } : { kind: 'no_budget', capable: capable.map((s) => s.id) };
}
