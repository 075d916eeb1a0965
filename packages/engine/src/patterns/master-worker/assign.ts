/**
 * Which subtask goes to which worker. Pure: no tasks, no clock, so the rules can be read
 * (and tested) apart from the I/O in `master-worker.ts`.
 */

/** One unit of work from the decomposition, in its normal form. */
export interface Subtask {
  /** Position in the decomposition's list, from 0; also the task key `subtask-<index>`. */
  index: number;
  /** What the worker's node gets as its input. */
  input: unknown;
  /** Only workers declaring this capability may take the subtask; absent: any worker. */
  capability?: string;
  /** A name the decomposition gave the subtask, shown in the output. */
  id?: string | number;
}

export type ReadSubtask = { ok: true; subtask: Subtask } | { ok: false; index: number; message: string };

const SHAPE_KEYS = new Set(['input', 'capability', 'id']);

/**
 * A decomposition item is either the worker's input itself, or `{ input, capability?, id? }`.
 * Only an object with an `input` key and no keys besides those three takes the second
 * reading, so an ordinary object that happens to have other fields stays a plain input.
 */
export function readSubtask(item: unknown, index: number): ReadSubtask {
  if (!isShaped(item)) return { ok: true, subtask: { index, input: item } };
  const { input, capability, id } = item;
  const subtask: Subtask = { index, input };
  if (capability !== undefined && capability !== null) {
    if (typeof capability !== 'string' || capability === '') {
      return { ok: false, index, message: `subtask ${index}: "capability" must be a non-empty text, got ${describe(capability)}` };
    }
    subtask.capability = capability;
  }
  if (id !== undefined && id !== null) {
    if (typeof id !== 'string' && typeof id !== 'number') return { ok: false, index, message: `subtask ${index}: "id" must be a text or a number, got ${describe(id)}` };
    subtask.id = id;
  }
  return { ok: true, subtask };
}

function isShaped(item: unknown): item is { input: unknown; capability?: unknown; id?: unknown } {
  if (typeof item !== 'object' || item === null || Array.isArray(item) || !Object.hasOwn(item, 'input')) return false;
  return Object.keys(item).every((key) => SHAPE_KEYS.has(key));
}

/** A worker as assignment sees it: what it can do and how much it carries now. */
export interface WorkerLoad {
  id: string;
  capabilities: readonly string[];
  capacity: number;
  /** Subtasks given to this worker that have not finished: running, or queued for one of its slots. */
  assigned: number;
}

/** Workers that may take a subtask with this capability (every worker when there is none), in declared order. */
export function eligibleWorkers<W extends WorkerLoad>(workers: readonly W[], capability: string | undefined): W[] {
  return capability === undefined ? [...workers] : workers.filter((w) => w.capabilities.includes(capability));
}

/** The least loaded worker (assigned / capacity); ties go to the one declared first. */
export function leastLoaded<W extends WorkerLoad>(workers: readonly W[]): W | undefined {
  let best: W | undefined;
  for (const worker of workers) {
    // Cross-multiplied so equal loads compare equal exactly (2/4 and 1/2 are a tie).
    if (!best || worker.assigned * best.capacity < best.assigned * worker.capacity) best = worker;
  }
  return best;
}

/** `no worker has capability "x" (workers: a [x,y], b [z])`: what is missing and what there is. */
export function noWorkerMessage(capability: string, workers: readonly Pick<WorkerLoad, 'id' | 'capabilities'>[]): string {
  const list = workers.map((w) => `${w.id} [${w.capabilities.join(',')}]`).join(', ');
  return `no worker has capability "${capability}" (workers: ${list})`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === '') return 'an empty text';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
