import { initTRPC, TRPCError } from '@trpc/server';
import type { FlowIssue } from '@loom/shared';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import type { Services } from './services.js';

export interface TrpcContext {
  services: Services;
}

const t = initTRPC.context<TrpcContext>().create({
  errorFormatter({ shape, error }) {
    // Every problem of an invalid document, with its path, for the web to show in place.
    const issues: FlowIssue[] | undefined = error.cause instanceof InvalidInputError ? error.cause.issues : undefined;
    return { ...shape, data: { ...shape.data, stack: undefined, ...(issues ? { issues } : {}) } };
  },
});

/** Domain errors become their tRPC codes (404, 409, 400); anything else stays a 500. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof NotFoundError) throw new TRPCError({ code: 'NOT_FOUND', message: cause.message, cause });
    if (cause instanceof ConflictError) throw new TRPCError({ code: 'CONFLICT', message: cause.message, cause });
    if (cause instanceof InvalidInputError) throw new TRPCError({ code: 'BAD_REQUEST', message: cause.message, cause });
  }
  return result;
});

export const router = t.router;
export const procedure = t.procedure.use(mapErrors);
export const createCallerFactory = t.createCallerFactory;
