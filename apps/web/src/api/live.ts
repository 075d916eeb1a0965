import { io, type Socket } from 'socket.io-client';
import type { ClientToServer, RunRecord, ServerToClient } from '@loom/server';
import type { RunEvent } from '@loom/shared';

let socket: Socket<ServerToClient, ClientToServer> | undefined;

/** One socket per tab, same origin as the page (the server, or Vite's proxy in dev). */
function connection(): Socket<ServerToClient, ClientToServer> {
  socket ??= io({ transports: ['websocket', 'polling'] });
  return socket;
}

export interface RunFollower {
  stop(): void;
}

/**
 * Follows one run's log: every event after `afterSeq`, then live ones, in seq order, without
 * gaps or duplicates — also across reconnects, where it asks for what came after the last
 * event it handed over. `onEvents` gets batches; `onEnd`'s run is the joined run's status.
 */
export function followRun(runId: string, afterSeq: number, onEvents: (events: RunEvent[]) => void, onError: (message: string) => void): RunFollower {
  const s = connection();
  let lastSeq = afterSeq;
  const handle = (batch: { runId: string; events: RunEvent[] }) => {
    if (batch.runId !== runId) return;
    // A reconnect can race a batch already in flight: keep exactly the next seqs.
    const fresh = batch.events.filter((e) => e.seq > lastSeq);
    if (fresh.length === 0) return;
    if (fresh[0]!.seq !== lastSeq + 1) {
      onError(`the live stream skipped from seq ${lastSeq} to ${fresh[0]!.seq}; reload the run`);
      return;
    }
    lastSeq = fresh[fresh.length - 1]!.seq;
    onEvents(fresh);
  };
  const join = () =>
    s.emit('run:join', { runId, afterSeq: lastSeq }, (ack) => {
      if (!ack.ok) onError(ack.error === 'not_found' ? `run ${runId} does not exist` : `cannot follow run ${runId}: ${ack.error}`);
    });
  s.on('run:events', handle);
  s.on('connect', join);
  if (s.connected) join();
  return {
    stop() {
      s.off('run:events', handle);
      s.off('connect', join);
      s.emit('run:leave', { runId });
    },
  };
}

/** Run rows as they are queued, start and finish (for history lists). */
export function watchRuns(onRun: (run: RunRecord) => void): () => void {
  const s = connection();
  const watch = () => s.emit('runs:watch');
  s.on('run:updated', onRun);
  s.on('connect', watch);
  if (s.connected) watch();
  return () => {
    s.off('run:updated', onRun);
    s.off('connect', watch);
  };
}
