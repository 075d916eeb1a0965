import { z } from 'zod';
import type { SkillRegistry } from './registry.js';

export interface SkillDescription {
  id: string;
  title: string;
  description: string;
  category: 'data' | 'text' | 'network' | 'control';
  effect: 'pure' | 'io';
  /** JSON Schema of `config.params` as a person writes them (defaults may be left out). */
  params: Record<string, unknown>;
}

/** The registry's skills as plain data: what an editor needs to build each skill's parameter form. */
export function describeSkills(registry: SkillRegistry): SkillDescription[] {
  return registry.list().map((skill) => ({
    id: skill.id,
    title: skill.title,
    description: skill.description,
    category: skill.category,
    effect: skill.effect,
    // `input`: the shape before defaults apply. Refinements and transforms have no JSON
    // Schema; they are left open here and still checked when the flow is saved or run.
    params: z.toJSONSchema(skill.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  }));
}
