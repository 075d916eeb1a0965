import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FLOW_LIMITS, formatFlowIssue, parseFlowText, type Flow, type FlowIssue } from '@loom/shared';
import { compileFlow, type CompiledFlow } from '@loom/engine';
import { UsageError } from './usage.js';

/** Paths are relative to where the person ran `pnpm flow`, not to the workspace root. */
export function resolvePath(file: string): string {
  return resolve(process.env['INIT_CWD'] ?? process.cwd(), file);
}

/** Reads a text file, refusing what is too large before reading it. */
export function readTextFile(file: string, maxBytes: number = FLOW_LIMITS.maxBytes): string {
  const path = resolvePath(file);
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new UsageError(`${file}: not a file`);
    size = stats.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? (error as Error).message})`}`);
  }
  if (size > maxBytes) throw new UsageError(`${file}: file is ${size} bytes; the limit is ${maxBytes} bytes`);
  return readFileSync(path, 'utf8');
}

export class InvalidFlowError extends Error {
  constructor(
    readonly file: string,
    readonly issues: FlowIssue[],
  ) {
    super(issues.map((issue) => formatFlowIssue(issue, file)).join('\n'));
    this.name = 'InvalidFlowError';
  }
}

export interface LoadedFlow {
  flow: Flow;
  compiled: CompiledFlow;
  migrations: string[];
}

/** Reads, parses, migrates, validates and compiles a flow file. */
export function loadFlow(file: string): LoadedFlow {
  const parsed = parseFlowText(readTextFile(file));
  if (!parsed.ok) throw new InvalidFlowError(file, parsed.issues);
  const compiled = compileFlow(parsed.flow);
  if (!compiled.ok) throw new InvalidFlowError(file, compiled.issues);
  return { flow: parsed.flow, compiled: compiled.compiled, migrations: parsed.migrations };
}
