import type { SkillDefinition } from './skill.js';
import {
  constantSkill,
  jsonExtractSkill,
  jsonParseSkill,
  jsonStringifySkill,
  jsonTransformSkill,
  noopSkill,
  templateSkill,
  textJoinSkill,
  textSplitSkill,
  throwErrorSkill,
} from './data.js';
import { delaySkill, httpRequestSkill } from './io.js';
import { codeSkill } from './code.js';

/** Skills by id. Later issues register more (code in sandboxes, MCP tools). */
export class SkillRegistry {
  private readonly skills = new Map<string, SkillDefinition<unknown>>();

  constructor(skills: Iterable<SkillDefinition<never>> = []) {
    for (const skill of skills) this.register(skill);
  }

  /** Parameters are validated by the skill's own schema before `prepare`, so any P fits. */
  register<P>(skill: SkillDefinition<P>): this {
    if (this.skills.has(skill.id)) throw new Error(`skill "${skill.id}" is registered twice`);
    this.skills.set(skill.id, skill as unknown as SkillDefinition<unknown>);
    return this;
  }

  get(id: string): SkillDefinition<unknown> | undefined {
    return this.skills.get(id);
  }

  ids(): string[] {
    return [...this.skills.keys()].sort();
  }

  list(): SkillDefinition<unknown>[] {
    return this.ids().map((id) => this.skills.get(id)!);
  }
}

export const BUILTIN_SKILLS = [
  noopSkill,
  constantSkill,
  templateSkill,
  jsonTransformSkill,
  jsonExtractSkill,
  jsonParseSkill,
  jsonStringifySkill,
  textSplitSkill,
  textJoinSkill,
  throwErrorSkill,
  delaySkill,
  httpRequestSkill,
  codeSkill,
] as const;

export function createBuiltinSkillRegistry(): SkillRegistry {
  const registry = new SkillRegistry();
  for (const skill of BUILTIN_SKILLS) registry.register(skill as SkillDefinition<never>);
  return registry;
}
