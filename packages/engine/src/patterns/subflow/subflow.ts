import { NodeError } from '../../errors.js';
import type { NodeKindDefinition } from '../../nodes/node-kind.js';
import { runEmbeddedFlow, RunInputError } from '../../scheduler/loop.js';

/**
 * A whole flow run inside one node: its nodes run on the same scheduler and log, under
 * ids prefixed by this node's task (`<task>/<node>`), and its output is this node's
 * output. As a pattern's worker or agent, a sub-flow is how a person gives a role
 * several steps of its own.
 */
export const subflowKind: NodeKindDefinition<'subflow'> = {
  kind: 'subflow',
  prepare: (node, env) => {
    const compiled = env.compileChildFlow(node.config.flow, ['config', 'flow']);
    return {
      effect: compiled?.nodes.some((n) => n.prepared.effect === 'io') ? 'io' : 'pure',
      inputMode: 'value',
      execute: async (execution) => {
        let result;
        try {
          result = await runEmbeddedFlow(compiled!, execution, execution.input);
        } catch (error) {
          if (error instanceof RunInputError) {
            throw new NodeError(`sub-flow "${compiled!.flow.id}": ${error.issues.map((i) => `input node "${i.nodeId}": ${i.message}`).join('; ')}`, 'invalid_input', false);
          }
          throw error;
        }
        if (result.status === 'succeeded') return { output: result.output ?? null };
        if (result.status === 'cancelled') throw execution.signal.reason ?? new NodeError('the sub-flow was cancelled', 'cancelled', false);
        const error = result.error!;
        throw new NodeError(`sub-flow "${compiled!.flow.id}" failed: ${error.message}`, error.code ?? 'subflow_failed', error.retryable ?? true);
      },
    };
  },
};
