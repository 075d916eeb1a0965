import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { credentials } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { decryptSecret, encryptSecret } from './crypto.js';

export interface CredentialSummary {
  name: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * Named secrets, sealed with AES-256-GCM. Only names and dates leave this class through
 * the API; values are opened for the engine when a run needs them, never for a browser.
 */
export class CredentialStore {
  constructor(
    private readonly db: Db,
    private readonly key: Buffer,
    private readonly now: () => number,
  ) {}

  list(): CredentialSummary[] {
    return this.db.select({ name: credentials.name, createdAt: credentials.createdAt, updatedAt: credentials.updatedAt }).from(credentials).orderBy(asc(credentials.name)).all();
  }

  /** Creates or replaces a credential's value. */
  set(name: string, value: string): CredentialSummary {
    const now = this.now();
    const sealed = encryptSecret(this.key, name, value);
    this.db
      .insert(credentials)
      .values({ name, sealed, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: credentials.name, set: { sealed, updatedAt: now } })
      .run();
    return this.list().find((c) => c.name === name)!;
  }

  delete(name: string): void {
    if (this.db.delete(credentials).where(eq(credentials.name, name)).run().changes === 0) throw new NotFoundError('credential', name);
  }

  has(name: string): boolean {
    return this.db.select({ name: credentials.name }).from(credentials).where(eq(credentials.name, name)).get() !== undefined;
  }

  /** The plain value, for the engine only. */
  reveal(name: string): string {
    const row = this.db.select({ sealed: credentials.sealed }).from(credentials).where(eq(credentials.name, name)).get();
    if (!row) throw new NotFoundError('credential', name);
    return decryptSecret(this.key, name, row.sealed);
  }
}
