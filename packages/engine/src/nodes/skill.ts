import { SkillParamError } from '../skills/skill.js';
import type { SkillDefinition, SkillInstance } from '../skills/skill.js';
import type { NodeExecution, NodeKindDefinition, PrepareEnv } from './node-kind.js';
import { INVALID_NODE } from './node-kind.js';

export const skillKind: NodeKindDefinition<'skill'> = {
  kind: 'skill',
  prepare: (node, env) => {
    const prepared = prepareSkill(node.config.skill, node.config.params, env, ['config']);
    if (!prepared) return INVALID_NODE;
    const { instance, skill } = prepared;
    const produce = (execution: NodeExecution) => instance.run(execution.input, execution);
    return {
      effect: skill.effect,
      inputMode: 'value',
      produce,
      execute: async (execution) => ({ output: await produce(execution) }),
    };
  },
};

/**
 * Finds a skill and prepares it with `params`, reporting an unknown skill or bad
 * parameters at `path` + `skill` / `params...`. Shared by skill nodes and agent tools.
 */
export function prepareSkill(
  skillId: string,
  params: Record<string, unknown>,
  env: PrepareEnv,
  path: (string | number)[],
): { skill: SkillDefinition<unknown>; instance: SkillInstance } | undefined {
  const skill = env.skills.get(skillId);
  if (!skill) {
    env.issue([...path, 'skill'], `unknown skill "${skillId}" (available: ${env.skills.ids().join(', ')})`);
    return undefined;
  }
  const parsed = skill.params.safeParse(params);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const at = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      const message = issue.code === 'unrecognized_keys' ? `unknown parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} for skill "${skillId}"` : issue.message;
      env.issue([...path, 'params', ...at], message);
    }
    return undefined;
  }
  try {
    return { skill, instance: skill.prepare(parsed.data) };
  } catch (error) {
    if (error instanceof SkillParamError) {
      env.issue([...path, 'params', ...error.path], error.message);
      return undefined;
    }
    throw error;
  }
}
