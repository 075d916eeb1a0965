import type { NodeKind } from '@loom/shared';
import type { NodeKindDefinition } from './node-kind.js';
import { inputKind, mergeKind, outputKind, routerKind } from './basic.js';
import { skillKind } from './skill.js';
import { agentKind } from './agent.js';

export type NodeKindRegistry = { [K in NodeKind]: NodeKindDefinition<K> };

export const BUILTIN_NODE_KINDS: NodeKindRegistry = {
  input: inputKind,
  output: outputKind,
  skill: skillKind,
  router: routerKind,
  merge: mergeKind,
  agent: agentKind,
};
