import type { z } from 'zod';
import type { FlowSettings, RunEventBody } from '@loom/shared';
import type { EngineContext } from '../context/context.js';
import type { ExpressionScope } from '../expressions/jsonata.js';

/**
 * A skill is a reusable unit of work with typed parameters: a node of kind `skill`
 * runs one, an agent offers them to its model as tools, and the chain-of-skills
 * pattern strings them together.
 */
export interface SkillDefinition<P = unknown> {
  id: string;
  title: string;
  description: string;
  category: 'data' | 'text' | 'network' | 'control';
  /** Validates the node's `config.params`; paths in its errors locate the bad field. */
  params: z.ZodType<P>;
  /**
   * What the skill accepts as input, when it is particular about it (text, a list...).
   * Chains validate each step's input against it before running the step.
   */
  input?: z.ZodType;
  /**
   * `io` skills reach outside the engine (network, time); `pure` skills depend on their
   * input and parameters only. Recorded for replays that answer io work from the log.
   */
  effect: 'pure' | 'io';
  /** Done once per flow, not per run: compile expressions, resolve options. */
  prepare(params: P): SkillInstance;
}

export interface SkillInstance {
  run(input: unknown, execution: SkillExecution): unknown;
}

export interface SkillExecution {
  signal: AbortSignal;
  /** Sleeps on the run's clock; rejects when the execution is cancelled first. Cheaper than `clock.sleep(ms, signal)`, which makes the run's signal. */
  sleep(ms: number): Promise<void>;
  scope: ExpressionScope;
  context: EngineContext;
  settings: FlowSettings;
  /** Set when run by a node (always, inside a run): the node and task the skill's events belong to. */
  nodeId?: string;
  taskId?: string;
  /** Appends an event to the run's log (skills that record effects: sandboxes, tool calls). */
  emit?(body: RunEventBody): void;
}

/** A parameter problem found while preparing, located inside `params`. */
export class SkillParamError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[],
  ) {
    super(message);
    this.name = 'SkillParamError';
  }
}

/** Declares a skill with its parameter type inferred from the schema. */
export function defineSkill<S extends z.ZodType>(definition: Omit<SkillDefinition<z.output<S>>, 'params'> & { params: S }): SkillDefinition<z.output<S>> {
  return definition as SkillDefinition<z.output<S>>;
}
