import type { FlowNode, NodeOf } from '@loom/shared';
import { errorMessage, NodeError } from '../../errors.js';
import type { CompiledExpression } from '../../expressions/jsonata.js';
import { compileOrReport } from '../shared/expressions.js';
import type { NodeExecution, NodeKindDefinition, NodeResult, PrepareEnv } from '../../nodes/node-kind.js';
import { prepareSkill } from '../../nodes/skill.js';
import { prepareAggregation, type PreparedAggregation, type SubtaskResult } from '../shared/aggregate.js';
import { metricsKey } from '../shared/metrics.js';
import { gather, type GatheredItem, type GatherPlan, type InstancePlan } from './gather.js';
import { parallelMetrics } from './metrics.js';

type ParallelConfig = NodeOf<'parallel'>['config'];

interface PreparedParallel extends GatherPlan {
  items: CompiledExpression | undefined;
  maxItems: number;
  aggregation: PreparedAggregation;
}

/**
 * Parallel skills: several instances of one skill (each may override its parameters and
 * has its own capacity) behind a load balancer. In `map` mode each item of the input goes
 * to one instance; in `replicate` mode the whole input goes to every instance. Items run
 * as tasks at the same time, failures are kept as results, a synchroniser may stop waiting
 * early (quorum, wait timeout), and the results are aggregated. The output is
 * `{ result, results, metrics }`, with speed-up and efficiency against sequential time.
 */
export const parallelKind: NodeKindDefinition<'parallel'> = {
  kind: 'parallel',
  prepare: (node, env) => {
    const { config } = node;
    const instances = prepareInstances(config, env);
    const items = compileItems(config, env);
    if (config.quorum !== undefined && config.mode === 'replicate' && config.quorum > config.instances.length) {
      env.issue(['config', 'quorum'], `a quorum of ${config.quorum} can never be reached: replicate mode runs ${config.instances.length} item${config.instances.length === 1 ? '' : 's'}, one per instance`);
    }
    if (config.aggregate.expression !== undefined && config.aggregate.strategy !== 'expression') {
      env.issue(['config', 'aggregate', 'expression'], `"expression" only applies with strategy "expression" (this aggregation is "${config.aggregate.strategy}")`);
    }
    const plan: PreparedParallel = {
      nodeId: node.id,
      instances,
      balancer: config.balancer,
      mode: config.mode,
      quorum: config.quorum,
      waitTimeoutMs: config.waitTimeoutMs,
      items,
      maxItems: config.maxItems,
      aggregation: prepareAggregation(config.aggregate, env, ['config', 'aggregate']),
    };
    return {
      effect: instances.some((i) => i.child.prepared.effect === 'io') ? 'io' : 'pure',
      inputMode: 'value',
      execute: (execution) => runParallel(execution, plan),
    };
  },
};

/**
 * Each instance becomes a skill node (`config.skill` with the shared parameters and its
 * own overrides, the item retry and timeout) prepared as a child. Parameter problems are
 * reported where they were written: the shared `config.params` or the instance's `params`.
 */
function prepareInstances(config: ParallelConfig, env: PrepareEnv): InstancePlan[] {
  if (!env.skills.get(config.skill)) {
    env.issue(['config', 'skill'], `unknown skill "${config.skill}" (available: ${env.skills.ids().join(', ')})`);
    return [];
  }
  const ids = new Set<string>();
  const reported = new Set<string>();
  return config.instances.flatMap((instance, i): InstancePlan[] => {
    const path = ['config', 'instances', i];
    if (ids.has(instance.id)) env.issue([...path, 'id'], `duplicate instance id "${instance.id}"`);
    ids.add(instance.id);
    const own = instance.params ?? {};
    const params = { ...config.params, ...own };
    const issue = (at: (string | number)[], message: string) => {
      // `at` is ['params', key, ...] from the skill's checks; the key says whose parameter it is.
      const key = at[1];
      const mine = typeof key === 'string' ? key in own : at.length === 1 && Object.keys(own).some((k) => message.includes(`"${k}"`));
      const where = mine ? [...path, ...at] : ['config', ...at];
      const id = `${where.join('.')}\n${message}`;
      if (!reported.has(id)) env.issue(where, message);
      reported.add(id);
    };
    if (!prepareSkill(config.skill, params, { ...env, issue }, [])) return [];
    const skillNode: FlowNode = {
      id: instance.id,
      kind: 'skill',
      config: { skill: config.skill, params },
      ...(config.itemRetry ? { retry: config.itemRetry } : {}),
      ...(config.itemTimeoutMs !== undefined ? { timeoutMs: config.itemTimeoutMs } : {}),
    };
    const child = env.prepareChild(skillNode, path);
    return child ? [{ id: instance.id, weight: instance.weight, capacity: instance.capacity, child }] : [];
  });
}

function compileItems(config: ParallelConfig, env: PrepareEnv): CompiledExpression | undefined {
  if (config.items === undefined) return undefined;
  if (config.mode === 'replicate') {
    env.issue(['config', 'items'], '"items" only applies in map mode; replicate mode gives the whole input to every instance');
    return undefined;
  }
  return compileOrReport(config.items, ['config', 'items'], env);
}

async function runParallel(execution: NodeExecution, plan: PreparedParallel): Promise<NodeResult> {
  const { clock } = execution.context;
  const startedAt = clock.now();
  const inputs = plan.mode === 'replicate' ? plan.instances.map(() => execution.input) : await itemsOf(execution, plan);
  const gathered = await gather(execution, plan, inputs);
  const metrics = parallelMetrics({ gathered, instances: plan.instances, startedAt, finishedAt: clock.now(), quorum: plan.quorum, waitTimeoutMs: plan.waitTimeoutMs });
  execution.emit({ type: 'metrics', nodeId: metricsKey(execution), values: metrics });

  const results = gathered.items.map((item) => itemResult(item, plan));
  let result: unknown;
  try {
    result = await plan.aggregation.aggregate(
      results.map((r) => ({ ...r, assignee: r.instance ?? '(not dispatched)' }) as SubtaskResult),
      execution.input,
      execution.scope,
    );
  } catch (error) {
    const { code, retryable } = error as { code?: unknown; retryable?: unknown };
    throw new NodeError(
      `parallel "${plan.nodeId}": the "${plan.aggregation.strategy}" aggregation failed: ${errorMessage(error)}`,
      typeof code === 'string' ? code : 'aggregation',
      typeof retryable === 'boolean' ? retryable : false,
    );
  }
  if (plan.quorum === undefined) return { output: { result, results, metrics } };
  // Say plainly whether the synchroniser got what it waited for: an unmet quorum is not an error, but it is news.
  const succeeded = results.filter((r) => r.ok).length;
  const quorum = { required: plan.quorum, succeeded, reached: succeeded >= plan.quorum };
  return { output: { result, results, quorum, metrics } };
}

/** The items of map mode: the `items` expression over the input, else the input if it is a list, else the input alone. */
async function itemsOf(execution: NodeExecution, plan: PreparedParallel): Promise<unknown[]> {
  let value: unknown = execution.input;
  if (plan.items) {
    try {
      value = await plan.items.evaluate(execution.input, execution.scope);
    } catch (error) {
      throw new NodeError(`parallel "${plan.nodeId}": config.items failed: ${errorMessage(error)}`, 'expression', false);
    }
    if (value === undefined || value === null) value = [];
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length > plan.maxItems) {
    throw new NodeError(`parallel "${plan.nodeId}" got ${items.length} items; the limit is ${plan.maxItems} (config.maxItems)`, 'too_many_items', false);
  }
  return items;
}

/** One item as the output shows it: which instance did it, and its output or error. */
function itemResult(item: GatheredItem, plan: PreparedParallel) {
  const instance = item.instance === undefined ? null : plan.instances[item.instance]!.id;
  return item.ok ? { index: item.index, instance, ok: true as const, output: item.output } : { index: item.index, instance, ok: false as const, error: item.error! };
}
