import { randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { shares } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { FlowRecord, FlowStore } from '../flows/store.js';

export interface ShareLink {
  token: string;
  flowId: string;
  /** null: the link follows the flow's latest version. */
  version: number | null;
  createdAt: number;
}

/**
 * Read-only share links: an unguessable token (128 bits) that opens one flow. Revoked
 * links and links to deleted flows answer "not found", like tokens that never existed.
 */
export class ShareService {
  constructor(
    private readonly db: Db,
    private readonly flows: FlowStore,
    private readonly now: () => number,
  ) {}

  create(flowId: string, version: number | null): ShareLink {
    const flow = this.flows.get(flowId, version ?? undefined); // 404 for a missing flow or version
    const link: ShareLink = { token: randomBytes(16).toString('base64url'), flowId: flow.id, version, createdAt: this.now() };
    this.db.insert(shares).values(link).run();
    return link;
  }

  list(flowId: string): ShareLink[] {
    return this.db
      .select({ token: shares.token, flowId: shares.flowId, version: shares.version, createdAt: shares.createdAt })
      .from(shares)
      .where(and(eq(shares.flowId, flowId), isNull(shares.revokedAt)))
      .all();
  }

  revoke(token: string): void {
    const result = this.db.update(shares).set({ revokedAt: this.now() }).where(and(eq(shares.token, token), isNull(shares.revokedAt))).run();
    if (result.changes === 0) throw new NotFoundError('share link', token);
  }

  /** The shared flow, read-only. */
  open(token: string): FlowRecord {
    const link = this.db.select().from(shares).where(and(eq(shares.token, token), isNull(shares.revokedAt))).get();
    if (!link) throw new NotFoundError('share link', token);
    return this.flows.get(link.flowId, link.version ?? undefined);
  }
}
