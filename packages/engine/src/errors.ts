import type { RunError } from '@loom/shared';

/**
 * An error a node raises on purpose, with a stable `code` and whether a retry could help.
 * Anything else a node throws becomes a retryable `error`.
 */
export class NodeError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'NodeError';
  }
}

export function toRunError(error: unknown, nodeId?: string): RunError {
  const result: RunError = { message: errorMessage(error) };
  if (typeof error === 'object' && error !== null) {
    const { code, retryable } = error as { code?: unknown; retryable?: unknown };
    if (typeof code === 'string') result.code = code;
    if (typeof retryable === 'boolean') result.retryable = retryable;
  }
  if (nodeId !== undefined) result.nodeId = nodeId;
  return result;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
