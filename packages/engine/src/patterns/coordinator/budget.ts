import { matchSubagent, type SubagentProfile } from './matching.js';

/** A budget: an absent limit is unlimited. */
export interface BudgetLimits {
  tokens?: number | undefined;
  timeMs?: number | undefined;
}

/** What a subtask asks for; absent means nothing. */
export interface BudgetRequest {
  subtaskId: string;
  capability: string;
  tokens?: number | undefined;
  timeMs?: number | undefined;
}

export type Decision =
  | { ok: true; subtaskId: string; subagent: string; tokens: number; timeMs: number | undefined }
  | { ok: false; subtaskId: string; code: 'no_subagent' | 'budget_denied'; message: string };

const DIMENSIONS = [
  { key: 'tokens', unit: 'tokens' },
  { key: 'timeMs', unit: 'ms' },
] as const;

interface Account {
  name: string;
  limits: BudgetLimits;
  granted: { tokens: number; timeMs: number };
}

/**
 * The coordinator's and each subagent's budgets, and what has been granted from them.
 * A grant is counted as used: unused tokens or time are not handed back, so a plan's
 * cost is known before it runs.
 */
export class BudgetLedger {
  private readonly coordinator: Account;
  private readonly subagents = new Map<string, Account>();

  constructor(coordinator: BudgetLimits, subagents: readonly { id: string; budget: BudgetLimits }[]) {
    this.coordinator = account('the coordinator', coordinator);
    for (const s of subagents) this.subagents.set(s.id, account(s.id, s.budget));
  }

  /** Why `request` does not fit the subagent's budget, or undefined when it does. */
  subagentShortfall(subagentId: string, request: BudgetRequest): string | undefined {
    return shortfall(this.subagent(subagentId), request);
  }

  coordinatorShortfall(request: BudgetRequest): string | undefined {
    return shortfall(this.coordinator, request);
  }

  grant(subagentId: string, request: BudgetRequest): void {
    for (const target of [this.coordinator, this.subagent(subagentId)]) {
      target.granted.tokens += request.tokens ?? 0;
      target.granted.timeMs += request.timeMs ?? 0;
    }
  }

  /** Tokens granted so far, across all subagents. */
  get tokensGranted(): number {
    return this.coordinator.granted.tokens;
  }

  get timeGrantedMs(): number {
    return this.coordinator.granted.timeMs;
  }

  /** What is left of each limited budget, for the coordinator's output. */
  remaining(): Record<string, BudgetLimits> {
    const left = (a: Account): BudgetLimits => ({
      ...(a.limits.tokens !== undefined ? { tokens: a.limits.tokens - a.granted.tokens } : {}),
      ...(a.limits.timeMs !== undefined ? { timeMs: a.limits.timeMs - a.granted.timeMs } : {}),
    });
    const result: Record<string, BudgetLimits> = { coordinator: left(this.coordinator) };
    for (const [id, a] of this.subagents) result[id] = left(a);
    return result;
  }

  private subagent(id: string): Account {
    const found = this.subagents.get(id);
    if (!found) throw new Error(`no budget for subagent "${id}"`);
    return found;
  }
}

/**
 * Matches and grants one wave's requests, in the order given (priority order): each to
 * the first capable subagent whose budget can take it, if the coordinator's budget can
 * too. A request that cannot be granted whole is denied, with the numbers that said no.
 */
export function negotiateWave(requests: readonly BudgetRequest[], subagents: readonly SubagentProfile[], ledger: BudgetLedger): Decision[] {
  return requests.map((request): Decision => {
    const { subtaskId } = request;
    const match = matchSubagent(request.capability, subagents, (id) => ledger.subagentShortfall(id, request) === undefined);
    if (match.kind === 'no_subagent') return { ok: false, subtaskId, code: 'no_subagent', message: match.message };
    const coordinatorSays = ledger.coordinatorShortfall(request);
    if (coordinatorSays) return { ok: false, subtaskId, code: 'budget_denied', message: `budget denied: subtask "${subtaskId}" ${asked(request)}, but ${coordinatorSays}` };
    if (match.kind === 'no_budget') {
      const reasons = match.capable.map((id) => ledger.subagentShortfall(id, request)!).join('; ');
      return { ok: false, subtaskId, code: 'budget_denied', message: `budget denied: subtask "${subtaskId}" ${asked(request)}, but ${reasons}` };
    }
    ledger.grant(match.subagent, request);
    return { ok: true, subtaskId, subagent: match.subagent, tokens: request.tokens ?? 0, timeMs: request.timeMs };
  });
}

function account(name: string, limits: BudgetLimits): Account {
  return { name, limits, granted: { tokens: 0, timeMs: 0 } };
}

/** `the coordinator has 300 of its 1000 tokens left`, for each limit the request exceeds. */
function shortfall(a: Account, request: BudgetRequest): string | undefined {
  const short = DIMENSIONS.flatMap(({ key, unit }) => {
    const limit = a.limits[key];
    const wanted = request[key] ?? 0;
    if (limit === undefined || wanted <= limit - a.granted[key]) return [];
    return [`${limit - a.granted[key]} of its ${limit} ${unit}`];
  });
  return short.length === 0 ? undefined : `${a.name} has ${short.join(' and ')} left`;
}

function asked(request: BudgetRequest): string {
  const parts = DIMENSIONS.flatMap(({ key, unit }) => (request[key] === undefined ? [] : [`${request[key]} ${unit}`]));
  return `asked for ${parts.length > 0 ? parts.join(' and ') : 'nothing'}`;
}
