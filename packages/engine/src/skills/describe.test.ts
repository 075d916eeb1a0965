import { describe, expect, it } from 'vitest';
import { describeSkills } from './describe.js';
import { createBuiltinSkillRegistry } from './registry.js';

describe('describeSkills', () => {
  it('gives every built-in skill a JSON Schema of its parameters', () => {
    const skills = describeSkills(createBuiltinSkillRegistry());
    expect(skills.length).toBeGreaterThanOrEqual(12);
    for (const skill of skills) expect(skill.params, skill.id).toMatchObject({ type: 'object' });
    const http = skills.find((s) => s.id === 'http.request')!;
    expect(http.effect).toBe('io');
    expect(http.params).toMatchObject({ properties: { url: { type: 'string' }, method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] } }, required: ['url'] });
    expect(JSON.parse(JSON.stringify(skills))).toEqual(skills);
  });
});
