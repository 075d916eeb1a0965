/**
 * LoomNode renders by node id, for the canvas benchmark (bench.html): it checks that a run
 * update re-renders only the nodes whose status changed. Off until `trackNodeRenders(true)`,
 * so the normal UI pays one null test per node render.
 */
let counts: Map<string, number> | null = null;

/** Called by LoomNode on every render. */
export function countNodeRender(id: string): void {
  if (counts) counts.set(id, (counts.get(id) ?? 0) + 1);
}

/** Starts (with empty counts) or stops counting. */
export function trackNodeRenders(on: boolean): void {
  counts = on ? new Map() : null;
}

/** Renders counted since the last call (or since counting started), and starts afresh. */
export function takeNodeRenders(): Map<string, number> {
  const taken = counts ?? new Map<string, number>();
  if (counts) counts = new Map();
  return taken;
}
