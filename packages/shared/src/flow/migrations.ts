import { FLOW_FORMAT_VERSION } from './schema.js';

/**
 * Flow files carry `version`. Each migration lifts a document one version up, so a
 * file written by any earlier release opens in this one (tldraw-style record migrations).
 * Migrations work on plain JSON, before validation: they must not assume the input is
 * valid, only that it has the version they migrate from.
 */
export interface FlowMigration {
  from: number;
  to: number;
  /** What changed, shown when a file is migrated. */
  description: string;
  up(doc: Record<string, unknown>): Record<string, unknown>;
}

/** v1 is the first format: nothing to migrate yet. Future versions append here. */
export const FLOW_MIGRATIONS: readonly FlowMigration[] = [];

export class FlowVersionError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[] = ['version'],
  ) {
    super(message);
    this.name = 'FlowVersionError';
  }
}

export interface MigrationResult {
  doc: Record<string, unknown>;
  /** Descriptions of the migrations applied, oldest first. */
  applied: string[];
}

/** Lifts `doc` to `target` through `migrations`; refuses versions from the future. */
export function migrateFlowDocument(
  doc: Record<string, unknown>,
  migrations: readonly FlowMigration[] = FLOW_MIGRATIONS,
  target: number = FLOW_FORMAT_VERSION,
): MigrationResult {
  const version = doc['version'];
  if (version === undefined) throw new FlowVersionError('missing "version" (this build reads flow format 1 to ' + target + ')');
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new FlowVersionError(`"version" must be a positive integer, got ${JSON.stringify(version)}`);
  }
  if (version > target) {
    throw new FlowVersionError(`flow format ${version} is newer than this build understands (${target}); upgrade to open it`);
  }
  let current = doc;
  const applied: string[] = [];
  for (let v = version; v < target; v++) {
    const step = migrations.find((m) => m.from === v);
    if (!step || step.to !== v + 1) throw new FlowVersionError(`no migration from flow format ${v} to ${v + 1}`);
    current = { ...step.up(current), version: v + 1 };
    applied.push(step.description);
  }
  return { doc: current, applied };
}
