import { createHash } from 'node:crypto';
import { canonicalJson } from '@loom/engine';

/** A tool as approved: what a model is shown, and the hash that later listings are compared with. */
export interface PinnedTool {
  description?: string;
  inputSchema: Record<string, unknown>;
  /** sha-256 of the canonical JSON of everything a model or a caller relies on. */
  hash: string;
}

export type PinnedTools = Record<string, PinnedTool>;

/** A difference between the approved tools and what the server announces now. */
export interface ToolChange {
  tool: string;
  change: 'added' | 'removed' | 'changed';
  /** For `changed`: which parts differ. */
  fields?: ('description' | 'inputSchema' | 'other')[];
}

/** A tool as `tools/list` gives it (only the parts that matter here). */
export interface ListedTool {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown> | undefined;
  annotations?: Record<string, unknown> | undefined;
}

/**
 * Pins tools as listed. The hash covers the description, the input and output schemas, the
 * title and the annotations: any of them can steer a model (a "rug pull" rewrites a
 * description after approval), so a change to any needs a new approval.
 */
export function pinTools(tools: readonly ListedTool[]): PinnedTools {
  const pinned: PinnedTools = Object.create(null) as PinnedTools;
  for (const tool of tools) {
    pinned[tool.name] = {
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      inputSchema: tool.inputSchema,
      hash: toolHash(tool),
    };
  }
  return pinned;
}

export function toolHash(tool: ListedTool): string {
  const { name, title, description, inputSchema, outputSchema, annotations } = tool;
  return createHash('sha256').update(canonicalJson({ name, title: title ?? null, description: description ?? null, inputSchema, outputSchema: outputSchema ?? null, annotations: annotations ?? null })).digest('hex');
}

/** What differs between the approved tools and a new listing, tool by tool, in name order. */
export function diffTools(approved: PinnedTools, listed: PinnedTools): ToolChange[] {
  const names = [...new Set([...Object.keys(approved), ...Object.keys(listed)])].sort();
  const changes: ToolChange[] = [];
  for (const tool of names) {
    const before = approved[tool];
    const now = listed[tool];
    if (!before) changes.push({ tool, change: 'added' });
    else if (!now) changes.push({ tool, change: 'removed' });
    else if (before.hash !== now.hash) {
      const fields: ToolChange['fields'] = [];
      if ((before.description ?? '') !== (now.description ?? '')) fields.push('description');
      if (canonicalJson(before.inputSchema) !== canonicalJson(now.inputSchema)) fields.push('inputSchema');
      if (fields.length === 0) fields.push('other');
      changes.push({ tool, change: 'changed', fields });
    }
  }
  return changes;
}
