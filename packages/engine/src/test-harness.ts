/**
 * Test-only helpers shared by the engine's `*.test.ts` files: compile a plain flow
 * object, run it with a MemorySink, and read the log back. Not part of the public door.
 */
import { reduceRun, type RunEvent, type RunEventOf, type RunState } from '@loom/shared';
import type { Clock, EngineContext } from './context/context.js';
import { createVirtualClock, derivedIds, MemorySink, noNetwork } from './context/defaults.js';
import { validateFlow, type CompiledFlow, type CompileOptions } from './graph/compile.js';
import { createLocalProvider } from './llm/local.js';
import { runFlow, type RunResult } from './scheduler/loop.js';

/** A flow document with the boilerplate filled in; nodes and edges stay plain objects. */
export function flowDoc(nodes: unknown[], edges: unknown[], settings?: Record<string, unknown>): Record<string, unknown> {
  return { version: 1, id: 'test-flow', name: 'Test flow', ...(settings ? { settings } : {}), nodes, edges };
}

/** Compiles a flow document, failing the test with every issue when it is invalid. */
export function compile(doc: unknown, options?: CompileOptions): CompiledFlow {
  const result = validateFlow(doc, options);
  if (!result.ok) throw new Error(`flow is invalid:\n${result.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return result.compiled;
}

export interface TestRun {
  result: RunResult;
  events: RunEvent[];
  state: RunState;
}

export interface RunSettings {
  input?: unknown;
  clock?: Clock;
  signal?: AbortSignal;
  context?: Partial<EngineContext>;
}

export function testContext(sink: MemorySink, settings: RunSettings = {}): EngineContext {
  return {
    clock: settings.clock ?? createVirtualClock(),
    ids: derivedIds,
    llm: new Map([['local', createLocalProvider()]]),
    http: noNetwork,
    log: sink,
    ...(settings.signal ? { signal: settings.signal } : {}),
    ...settings.context,
  };
}

/** Runs a flow (a document or compiled) on a virtual clock unless told otherwise. */
export async function run(flow: unknown, settings: RunSettings = {}): Promise<TestRun> {
  const compiled = isCompiled(flow) ? flow : compile(flow);
  const sink = new MemorySink();
  const context = testContext(sink, settings);
  const result = await runFlow(compiled, context, settings.input === undefined ? {} : { input: settings.input });
  return { result, events: sink.events, state: reduceRun(sink.events) };
}

function isCompiled(flow: unknown): flow is CompiledFlow {
  return typeof flow === 'object' && flow !== null && 'nodes' in flow && 'indexOf' in flow;
}

/** `node.status` events of one node, as `status#attempt`. */
export function statusesOf(events: readonly RunEvent[], nodeId: string): string[] {
  return nodeStatusEvents(events)
    .filter((e) => e.nodeId === nodeId)
    .map((e) => `${e.status}#${e.attempt}`);
}

export function nodeStatusEvents(events: readonly RunEvent[]): RunEventOf<'node.status'>[] {
  return events.filter((e): e is RunEventOf<'node.status'> => e.type === 'node.status');
}

export function eventsOf<T extends RunEvent['type']>(events: readonly RunEvent[], type: T): RunEventOf<T>[] {
  return events.filter((e): e is RunEventOf<T> => e.type === type);
}

/** Final status of every node, from the reduced state. */
export function nodeStatuses(state: RunState): Record<string, string> {
  return Object.fromEntries(Object.entries(state.nodes).map(([id, node]) => [id, node.status]));
}
