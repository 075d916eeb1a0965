import type { FlowIssue } from '@loom/shared';

/**
 * Domain errors of the server's services. The tRPC layer maps each to its HTTP-ish code
 * (see trpc.ts), so services stay free of transport concerns.
 */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(what: string, id: string) {
    super(`${what} "${id}" does not exist`);
  }
}

/** Saving over a newer version, or acting on an object in the wrong state. */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** A document that does not validate; every problem with its path. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(
    message: string,
    readonly issues: FlowIssue[],
  ) {
    super(issues.length ? `${message}: ${issues.map(formatIssue).join('; ')}` : message);
  }
}

export function formatIssue(issue: FlowIssue): string {
  const path = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '') : '(root)';
  return `${path}: ${issue.message}`;
}
