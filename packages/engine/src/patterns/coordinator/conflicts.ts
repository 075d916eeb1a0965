import { canonicalJson } from '../../graph/hash.js';
import { vote } from '../shared/aggregate.js';
import { byPriority } from './graph.js';

export type ConflictPolicy = 'priority' | 'majority' | 'first';

/** What conflict resolution needs to know of a subtask. */
export interface Contender {
  id: string;
  priority: number;
  /** Declared order. */
  index: number;
}

export interface ResourceConflict {
  resource: string;
  /** 1-based, as in the coordinator's results. */
  wave: number;
  policy: ConflictPolicy;
  /** Who holds the resource in turn: the first is the winner, each next one waits for the one before. */
  order: string[];
}

export interface ResourceSchedule {
  /** Subtasks each subtask must see finish before it starts. */
  waitsFor: Map<string, string[]>;
  conflicts: ResourceConflict[];
}

/**
 * Exclusive resources within one wave: subtasks wanting the same resource take turns, in
 * the policy's order (`priority` and `majority`: higher priority first, then declared
 * order; `first`: declared order). One order serves every resource, so turns can never
 * wait on each other in a circle.
 */
export function scheduleResources<T extends Contender & { resources: readonly string[] }>(subtasks: readonly T[], wave: number, policy: ConflictPolicy): ResourceSchedule {
  const ordered = [...subtasks].sort(policy === 'first' ? (a, b) => a.index - b.index : byPriority);
  const holders = new Map<string, string[]>();
  for (const s of ordered) for (const resource of new Set(s.resources)) (holders.get(resource) ?? holders.set(resource, []).get(resource)!).push(s.id);

  const waitsFor = new Map<string, string[]>();
  const conflicts: ResourceConflict[] = [];
  for (const [resource, order] of holders) {
    if (order.length < 2) continue;
    conflicts.push({ resource, wave, policy, order });
    order.forEach((id, i) => {
      if (i > 0) (waitsFor.get(id) ?? waitsFor.set(id, []).get(id)!).push(order[i - 1]!);
    });
  }
  return { waitsFor, conflicts };
}

export interface ResultCandidate extends Contender {
  resultKey: string;
  output: unknown;
}

export interface ResultConflict {
  key: string;
  candidates: { subtask: string; output: unknown }[];
  chosen: unknown;
  /** The subtask whose output was chosen (for `majority`, the earliest that gave it). */
  chosenFrom: string;
  policy: ConflictPolicy;
  /** Why, in words: `highest priority (5)`, `2 of 3 votes`, `declared first`. */
  reason: string;
}

export interface ResolvedResults {
  /** One value per result key that had at least one successful answer. */
  resolved: Record<string, unknown>;
  /** Keys whose answers differed, in order of the first subtask with the key. */
  conflicts: ResultConflict[];
}

/**
 * Successful outputs grouped by result key. Equal answers (by canonical JSON) are no
 * conflict; differing ones are resolved by the policy: `priority` (highest priority, ties
 * in declared order), `majority` (most common answer, ties to the earliest), `first`
 * (declared order).
 */
export function resolveResults(candidates: readonly ResultCandidate[], policy: ConflictPolicy): ResolvedResults {
  const groups = new Map<string, ResultCandidate[]>();
  for (const c of [...candidates].sort((a, b) => a.index - b.index)) (groups.get(c.resultKey) ?? groups.set(c.resultKey, []).get(c.resultKey)!).push(c);

  const resolved: Record<string, unknown> = {};
  const conflicts: ResultConflict[] = [];
  for (const [key, group] of groups) {
    const distinct = new Set(group.map((c) => canonicalJson(c.output ?? null)));
    if (distinct.size === 1) {
      resolved[key] = group[0]!.output;
      continue;
    }
    const { winner, reason } = choose(group, policy);
    resolved[key] = winner.output;
    conflicts.push({
      key,
      candidates: group.map((c) => ({ subtask: c.id, output: c.output })),
      chosen: winner.output,
      chosenFrom: winner.id,
      policy,
      reason,
    });
  }
  return { resolved, conflicts };
}

/** `group` is in declared order and holds at least two different answers. */
function choose(group: readonly ResultCandidate[], policy: ConflictPolicy): { winner: ResultCandidate; reason: string } {
  switch (policy) {
    case 'first':
      return { winner: group[0]!, reason: 'declared first' };
    case 'priority': {
      const winner = [...group].sort(byPriority)[0]!;
      const tied = group.filter((c) => c.priority === winner.priority).length;
      return { winner, reason: `highest priority (${winner.priority})${tied > 1 ? `, declared first of ${tied} tied` : ''}` };
    }
    case 'majority': {
      const keys = group.map((c) => canonicalJson(c.output ?? null));
      const { winner: value, votes, of } = vote(
        group.map((c) => c.output),
        group.length,
      );
      const winner = group[keys.indexOf(canonicalJson(value ?? null))]!;
      const counts = new Map<string, number>();
      for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
      const tied = [...counts.values()].filter((n) => n === votes).length > 1;
      return { winner, reason: `${votes} of ${of} votes${tied ? ', tie broken by declared order' : ''}` };
    }
  }
}
