import { NodeError } from '../../errors.js';
import type { NodeExecution, PreparedChild } from '../../nodes/node-kind.js';
import { TaskPool, type TaskResult } from '../../scheduler/tasks.js';
import { createBalancer, type BalancerKind } from './balancer.js';

export interface InstancePlan {
  id: string;
  weight: number;
  capacity: number;
  child: PreparedChild;
}

export interface GatherPlan {
  nodeId: string;
  instances: readonly InstancePlan[];
  balancer: BalancerKind;
  /** `replicate`: item i goes to instance i (one item per instance), no balancing. */
  mode: 'map' | 'replicate';
  quorum: number | undefined;
  waitTimeoutMs: number | undefined;
}

/** One item's fate: the task's result, or why it never ran to an outcome. */
export interface GatheredItem {
  index: number;
  /** Index of the instance it was given to; undefined when least-busy balancing never dispatched it. */
  instance: number | undefined;
  /** Undefined when the item was never dispatched (the synchroniser stopped first). */
  task: TaskResult | undefined;
  /** Set when the synchroniser stopped the item before it finished (never dispatched, queued or running). */
  stopped: boolean;
  ok: boolean;
  output?: unknown;
  error?: { message: string; code?: string };
}

export interface Gathered {
  items: GatheredItem[];
  /** What made the synchroniser stop waiting before every item finished. */
  stoppedBy: 'quorum' | 'timeout' | undefined;
}

/**
 * Runs every item as a task of `execution` on an instance the balancer picks, each
 * instance limited by its own pool, and gathers the results in item order; a failed item
 * is a result. Round robin and weighted balancing assign items in sequence (an item waits
 * for a slot on its instance); least busy assigns an item when a slot frees, to the
 * instance with the fewest running items. The synchroniser stops waiting once `quorum`
 * items succeeded or `waitTimeoutMs` passed: running items are cancelled (their tasks end
 * as `cancelled` / `timeout` results) and items not started never run.
 */
export async function gather(execution: NodeExecution, plan: GatherPlan, inputs: readonly unknown[]): Promise<Gathered> {
  const count = inputs.length;
  const pools = plan.instances.map((i) => new TaskPool(i.capacity));
  const balancer = createBalancer(plan.balancer, plan.instances);
  /** Cancels this gather's outstanding tasks, and its wait timer. */
  const batch = new AbortController();
  const tasks: (TaskResult | undefined)[] = new Array<TaskResult | undefined>(count).fill(undefined);
  const assigned: (number | undefined)[] = new Array<number | undefined>(count).fill(undefined);
  const running: Promise<void>[] = [];
  let finished = 0;
  let succeeded = 0;
  let stop: { by: 'quorum' | 'timeout'; reason: NodeError } | undefined;
  let failure: { error: unknown } | undefined;

  // The dispatcher sleeps here until a task finishes or the synchroniser stops.
  let wake: (() => void) | undefined;
  const changed = () => new Promise<void>((resolve) => (wake = resolve));
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const halt = (by: 'quorum' | 'timeout', message: string, code: string) => {
    if (stop || failure) return;
    stop = { by, reason: new NodeError(message, code, false) };
    batch.abort(stop.reason);
    notify();
  };

  const dispatch = (index: number, instance: number) => {
    const { id, child } = plan.instances[instance]!;
    const key = plan.mode === 'replicate' ? `replica-${id}` : `item-${index}`;
    const task = execution.tasks.run({ key, assignee: id, child, input: inputs[index], pool: pools[instance], signal: batch.signal });
    running.push(
      task.then(
        (result) => {
          tasks[index] = result;
          finished++;
          if (result.ok && ++succeeded === plan.quorum) {
            halt('quorum', `not needed: quorum reached (${plan.quorum} item${plan.quorum === 1 ? '' : 's'} succeeded)`, 'cancelled');
          }
          notify();
        },
        // The run ended or this node was cancelled or timed out: the gather fails with it.
        (error: unknown) => {
          failure ??= { error };
          notify();
        },
      ),
    );
  };

  if (plan.waitTimeoutMs !== undefined && count > 0) {
    const ms = plan.waitTimeoutMs;
    execution.context.clock.sleep(ms, batch.signal).then(
      () => halt('timeout', `not finished within the wait of ${ms} ms (waitTimeoutMs)`, 'timeout'),
      () => undefined,
    );
  }
  const loads = () => pools.map((p) => p.busy);
  const active = () => stop === undefined && failure === undefined && !execution.signal.aborted;

  // Round robin, weighted and replicate decide every item's instance up front; an item
  // waits in its instance's queue for a free slot. Least busy decides when a slot is free.
  const queues: number[][] = plan.instances.map(() => []);
  let unassigned = 0;
  if (plan.mode === 'replicate' || plan.balancer !== 'least_busy') {
    for (; unassigned < count; unassigned++) {
      const instance = plan.mode === 'replicate' ? unassigned : balancer.next(loads())!;
      assigned[unassigned] = instance;
      queues[instance]!.push(unassigned);
    }
  }
  /** Starts what can start now: queued items in item order on instances with a free slot, then least-busy picks. */
  const startReady = () => {
    for (;;) {
      let ready: number | undefined;
      queues.forEach((queue, instance) => {
        const head = queue[0];
        if (head === undefined || pools[instance]!.busy >= pools[instance]!.limit) return;
        if (ready === undefined || head < queues[ready]![0]!) ready = instance;
      });
      if (ready !== undefined) {
        dispatch(queues[ready]!.shift()!, ready);
        continue;
      }
      const instance = unassigned < count ? balancer.next(loads()) : undefined;
      if (instance === undefined) return;
      assigned[unassigned] = instance;
      dispatch(unassigned++, instance);
    }
  };
  try {
    // Dispatching only after a finished item has been counted lets a reached quorum stop
    // the next item from starting at all.
    while (active()) {
      startReady();
      if (finished === count) break;
      await changed();
    }
    // Cancelled tasks settle at once (their signal aborted); waiting keeps their events inside this node's.
    await Promise.all(running);
  } finally {
    if (!batch.signal.aborted) batch.abort(new NodeError('the gather is over', 'cancelled', false));
  }
  if (failure) throw failure.error;
  if (execution.signal.aborted) throw execution.signal.reason;

  const items = inputs.map((_, index): GatheredItem => {
    const task = tasks[index];
    const instance = assigned[index];
    if (!task) {
      const reason = stop!.reason;
      return { index, instance, task, stopped: true, ok: false, error: { message: reason.message, code: reason.code } };
    }
    if (task.ok) return { index, instance, task, stopped: false, ok: true, output: task.output };
    const stopped = stop !== undefined && task.error.message === stop.reason.message && task.error.code === stop.reason.code;
    return { index, instance, task, stopped, ok: false, error: { message: task.error.message, ...(task.error.code ? { code: task.error.code } : {}) } };
  });
  return { items, stoppedBy: stop?.by };
}
