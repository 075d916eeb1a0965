import { z } from 'zod';
import { NodeId } from '@loom/shared';

/**
 * One subtask as a decomposition gives it. Checked at run time: a rule or an agent wrote
 * it, not the person who saved the flow.
 */
export const SubtaskSpec = z
  .object({
    /** Unique within the decomposition; names the subtask's task (`subtask-<id>`) and its result. */
    id: NodeId,
    /** Which subagents may take it: those that declare this capability. */
    capability: z.string().min(1).max(64),
    /** What the subagent is given; default: the coordinator's own input. */
    input: z.unknown().optional(),
    /** Subtasks whose outputs this one needs; it runs in a later wave than all of them. */
    dependsOn: z.array(z.string()).max(1_000).default([]),
    /** Higher runs (and is granted budget) first within a wave. */
    priority: z.number().finite().default(0),
    /** Tokens requested from the subagent's and the coordinator's budgets. */
    tokens: z.number().int().min(0).optional(),
    /** Time requested from the budgets; granted, it is the subtask's time limit. */
    timeMs: z.number().int().min(1).optional(),
    /** Exclusive resources (e.g. "db"): subtasks of one wave sharing one never run at once. */
    resources: z.array(z.string().min(1).max(128)).max(64).default([]),
    /** Subtasks sharing a key answer the same question; disagreements are resolved by the conflict policy. */
    resultKey: z.string().min(1).max(128).optional(),
    /** For people and planners; not used by the coordinator. */
    description: z.string().max(10_000).optional(),
  })
  .strict();

export interface Subtask extends z.output<typeof SubtaskSpec> {
  /** Position in the decomposition: the tie-breaker everywhere ("declared order"). */
  index: number;
}

export type ParsedSubtasks = { ok: true; subtasks: Subtask[] } | { ok: false; problems: string[] };

/**
 * Validates a decomposition's list: each item against `SubtaskSpec`, then ids unique and
 * every `dependsOn` naming a subtask of the list. Problems name the subtask and the field,
 * e.g. `subtask "b" dependsOn unknown subtask "z"`. Cycles are the dependency graph's job.
 */
export function parseSubtasks(list: readonly unknown[]): ParsedSubtasks {
  const problems: string[] = [];
  const subtasks: Subtask[] = [];
  list.forEach((item, index) => {
    const parsed = SubtaskSpec.safeParse(item);
    if (parsed.success) {
      subtasks.push({ ...parsed.data, dependsOn: [...new Set(parsed.data.dependsOn)], index });
      return;
    }
    const label = subtaskLabel(item, index);
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        problems.push(`${label} has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`);
      } else if (issue.path.length === 0) {
        problems.push(`${label} must be an object like { "id": "...", "capability": "..." }, got ${describe(item)}`);
      } else {
        const missing = issue.code === 'invalid_type' && (item as Record<PropertyKey, unknown>)[issue.path[0]!] === undefined;
        problems.push(`${label} ${issue.path.join('.')}: ${missing ? 'is required' : issue.message}`);
      }
    }
  });

  const seen = new Map<string, Subtask>();
  for (const subtask of subtasks) {
    const first = seen.get(subtask.id);
    if (first) problems.push(`subtask #${subtask.index + 1} repeats id "${subtask.id}" (first used by subtask #${first.index + 1})`);
    else seen.set(subtask.id, subtask);
  }
  for (const subtask of subtasks) {
    for (const dependency of subtask.dependsOn) {
      if (!seen.has(dependency)) problems.push(`subtask "${subtask.id}" dependsOn unknown subtask "${dependency}"`);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, subtasks };
}

/** `subtask "b"` when the item has a usable id, else `subtask #3`. */
function subtaskLabel(item: unknown, index: number): string {
  const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? `subtask "${id}"` : `subtask #${index + 1}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? `the text ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}` : `a ${typeof value}`;
}
