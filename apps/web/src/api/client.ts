import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@loom/server';
import type { FlowIssue } from '@loom/shared';

/** The typed API client: every call is checked against the server's router at compile time. */
export const api = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: '/trpc' })],
});

/** What the UI shows for a failed call: the message, and each problem with its path when the server sent them. */
export interface ApiProblem {
  message: string;
  code?: string;
  issues: FlowIssue[];
}

export function toProblem(error: unknown): ApiProblem {
  if (error instanceof TRPCClientError) {
    const data = error.data as { code?: string; issues?: FlowIssue[] } | undefined;
    return { message: error.message, ...(data?.code ? { code: data.code } : {}), issues: data?.issues ?? [] };
  }
  return { message: error instanceof Error ? error.message : String(error), issues: [] };
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(file)';
}

/** Rows as the API returns them (JSON-serialised server types). */
export type RunRow = Awaited<ReturnType<typeof api.runs.get.query>>;
export type FlowRow = Awaited<ReturnType<typeof api.flows.get.query>>;
export type FlowListItem = Awaited<ReturnType<typeof api.flows.list.query>>[number];
export type TemplateRow = Awaited<ReturnType<typeof api.templates.list.query>>[number];
