import { describe, expect, it } from 'vitest';
import { templateFor } from './templates.js';

const templates = [
  { name: 'supervisor', flow: { id: 'supervisor' } },
  { name: 'supervisor-with-failures', flow: { id: 'supervisor-with-failures' } },
  { name: 'hello', flow: { id: 'hello-flow' } },
];

describe('templateFor', () => {
  it('finds a template by its name or its flow id', () => {
    expect(templateFor('supervisor', templates)?.name).toBe('supervisor');
    expect(templateFor('hello-flow', templates)?.name).toBe('hello');
    expect(templateFor('supervisor-with-failures', templates)?.name).toBe('supervisor-with-failures');
  });

  it('finds the template of a flow made from it under a suffixed id', () => {
    expect(templateFor('supervisor-2', templates)?.name).toBe('supervisor');
    expect(templateFor('supervisor-with-failures-12', templates)?.name).toBe('supervisor-with-failures');
    expect(templateFor('hello-flow-copy', templates)?.name).toBe('hello');
    expect(templateFor('supervisor-copy-2', templates)?.name).toBe('supervisor');
  });

  it('finds none for a flow of its own', () => {
    expect(templateFor('untitled', templates)).toBeUndefined();
    expect(templateFor('release-3', templates)).toBeUndefined();
    expect(templateFor('supervisorx', templates)).toBeUndefined();
  });
});
