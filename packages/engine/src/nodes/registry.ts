import type { NodeKind } from '@loom/shared';
import type { NodeKindDefinition } from './node-kind.js';
import { inputKind, mergeKind, outputKind, routerKind } from './basic.js';
import { skillKind } from './skill.js';
import { agentKind } from './agent.js';
import { chainKind } from '../patterns/chain/chain.js';
import { parallelKind } from '../patterns/parallel/parallel.js';
import { masterWorkerKind } from '../patterns/master-worker/master-worker.js';
import { supervisorKind } from '../patterns/supervisor/supervisor.js';
import { coordinatorKind } from '../patterns/coordinator/coordinator.js';
import { subflowKind } from '../patterns/subflow/subflow.js';
import { mcpKind } from '../mcp/node.js';

/** How each node kind behaves; a registry may leave kinds out (compiling such a node is an error). */
export type NodeKindRegistry = { [K in NodeKind]?: NodeKindDefinition<K> };

export const BUILTIN_NODE_KINDS: NodeKindRegistry = {
  input: inputKind,
  output: outputKind,
  skill: skillKind,
  router: routerKind,
  merge: mergeKind,
  agent: agentKind,
  chain: chainKind,
  parallel: parallelKind,
  master_worker: masterWorkerKind,
  supervisor: supervisorKind,
  coordinator: coordinatorKind,
  subflow: subflowKind,
  mcp: mcpKind,
};
