/**
 * Load balancing for the parallel-skills pattern: which instance gets the next item.
 * Pure decisions, no I/O, so the same loads give the same answers in every run.
 */

export type BalancerKind = 'round_robin' | 'least_busy' | 'weighted';

export interface BalancedInstance {
  weight: number;
  capacity: number;
}

export interface Balancer {
  /**
   * The instance for the next item given each instance's running items, or undefined
   * when the item should wait for a slot (least busy with every instance full).
   * Round robin and weighted always answer: an item waits in its instance's queue.
   */
  next(running: readonly number[]): number | undefined;
}

export function createBalancer(kind: BalancerKind, instances: readonly BalancedInstance[]): Balancer {
  switch (kind) {
    case 'round_robin':
      return roundRobin(instances.length);
    case 'weighted':
      return smoothWeighted(instances.map((i) => i.weight));
    case 'least_busy':
      return leastBusy(instances.map((i) => i.capacity));
  }
}

/** Instances in declared order, cycling. */
function roundRobin(count: number): Balancer {
  let turn = 0;
  return {
    next: () => turn++ % count,
  };
}

/**
 * Smooth weighted round robin (as nginx does it): each pick adds every weight to its
 * instance's score, takes the highest score (ties: declared order) and takes the total
 * weight off the winner. Weights 5, 1, 1 give a a b a c a a: proportional and spread out.
 */
function smoothWeighted(weights: readonly number[]): Balancer {
  const total = weights.reduce((sum, w) => sum + w, 0);
  const score = weights.map(() => 0);
  return {
    next: () => {
      let best = 0;
      for (let i = 0; i < weights.length; i++) {
        score[i]! += weights[i]!;
        if (score[i]! > score[best]!) best = i;
      }
      score[best]! -= total;
      return best;
    },
  };
}

/** The instance with the fewest running items among those with a free slot (ties: declared order). */
function leastBusy(capacities: readonly number[]): Balancer {
  return {
    next: (running) => {
      let best: number | undefined;
      for (let i = 0; i < capacities.length; i++) {
        const load = running[i] ?? 0;
        if (load >= capacities[i]!) continue;
        if (best === undefined || load < running[best]!) best = i;
      }
      return best;
    },
  };
}
