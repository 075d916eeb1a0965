import { describe, expect, it } from 'vitest';
import { NODE_KINDS } from '@loom/shared';
import { BUILTIN_NODE_KINDS } from './registry.js';

describe('built-in node kinds', () => {
  it('define every kind of the flow format, under its own name', () => {
    for (const kind of NODE_KINDS) expect(BUILTIN_NODE_KINDS[kind]?.kind, kind).toBe(kind);
    expect(Object.keys(BUILTIN_NODE_KINDS).sort()).toEqual([...NODE_KINDS].sort());
  });
});
