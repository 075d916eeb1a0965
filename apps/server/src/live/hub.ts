import type { Server as SocketServer, Socket } from 'socket.io';
import { z } from 'zod';
import type { RunEvent } from '@loom/shared';
import { NotFoundError } from '../errors.js';
import type { RunRecord } from '../runs/run-store.js';
import type { RunService } from '../runs/run-service.js';

/**
 * The socket protocol (socket.io, default namespace):
 * - client → `run:join` `{ runId, afterSeq }`, ack `{ ok: true, lastSeq, status }` or `{ ok: false, error }`:
 *   the server first sends every committed event after `afterSeq` as `run:events`, then the
 *   live ones as they commit. No gap, no duplicate: see `join`.
 * - client → `run:leave` `{ runId }`.
 * - server → `run:events` `{ runId, events }`: a batch of one run's events in seq order.
 * - client → `runs:watch`: then `run:updated` (a run's row) whenever a run is queued, starts or ends.
 */
export interface ServerToClient {
  'run:events': (batch: { runId: string; events: RunEvent[] }) => void;
  'run:updated': (run: RunRecord) => void;
}

export type JoinAck = { ok: true; lastSeq: number; status: RunRecord['status'] } | { ok: false; error: string };

export interface ClientToServer {
  'run:join': (request: { runId: string; afterSeq?: number }, ack: (answer: JoinAck) => void) => void;
  'run:leave': (request: { runId: string }) => void;
  'runs:watch': () => void;
}

const JoinRequest = z.object({ runId: z.string().min(1).max(256), afterSeq: z.number().int().min(0).default(0) });
/** Events sent per message while catching up: large enough to be quick, small enough not to stall the loop. */
const CATCH_UP_PAGE = 1_000;
const roomOf = (runId: string) => `run:${runId}`;
const WATCHERS = 'runs';

export class LiveHub {
  private io: SocketServer<ClientToServer, ServerToClient> | undefined;

  /** @param onSend told of each live message as it goes to its room: the engine time of its oldest event. */
  constructor(private readonly onSend?: (oldestEventTs: number) => void) {}

  attach(io: SocketServer<ClientToServer, ServerToClient>, runs: RunService): void {
    this.io = io;
    io.on('connection', (socket) => {
      // Before the message's own work (a join reads and sends a catch-up): events waiting too long for their commit go first.
      socket.use((_packet, next) => {
        runs.commitIfDue();
        next();
      });
      socket.on('run:join', (request, ack) => {
        const answer = typeof ack === 'function' ? ack : () => undefined;
        const parsed = JoinRequest.safeParse(request);
        if (!parsed.success) return answer({ ok: false, error: `invalid run:join request: ${z.prettifyError(parsed.error)}` });
        void join(socket, runs, parsed.data.runId, parsed.data.afterSeq).then(answer, (error: unknown) =>
          answer({ ok: false, error: error instanceof NotFoundError ? 'not_found' : 'internal_error' }),
        );
      });
      socket.on('run:leave', (request) => {
        if (typeof request?.runId === 'string') void socket.leave(roomOf(request.runId));
      });
      socket.on('runs:watch', () => void socket.join(WATCHERS));
    });
  }

  /** After a commit: the run's room gets the events. */
  publish(runId: string, events: RunEvent[]): void {
    const room = roomOf(runId);
    if (!this.listened(room)) return;
    this.io!.to(room).emit('run:events', { runId, events });
    this.onSend?.(events[0]!.ts);
  }

  runChanged(run: RunRecord): void {
    if (this.listened(WATCHERS)) this.io!.to(WATCHERS).emit('run:updated', run);
  }

  /**
   * Whether a socket is in the room. socket.io encodes a packet before it looks for its
   * receivers; most runs (API calls, MCP tools) have nobody watching. Joins are synchronous
   * with the in-memory adapter, so a socket that joined in this tick is seen.
   */
  private listened(room: string): boolean {
    return (this.io?.sockets.adapter.rooms.get(room)?.size ?? 0) > 0;
  }
}

/**
 * Sends what the client missed, page by page, then joins it to the run's room. The last
 * page is read and the room joined in the same tick: events are published in the tick
 * they commit, so none can fall between the read and the join, and none is sent twice.
 */
async function join(socket: Socket<ClientToServer, ServerToClient>, runs: RunService, runId: string, afterSeq: number): Promise<JoinAck> {
  let after = afterSeq;
  for (;;) {
    const page = runs.events(runId, after, CATCH_UP_PAGE);
    if (page.length > 0) {
      socket.emit('run:events', { runId, events: page });
      after = page[page.length - 1]!.seq;
    }
    if (page.length < CATCH_UP_PAGE) {
      void socket.join(roomOf(runId));
      const run = runs.get(runId);
      return { ok: true, lastSeq: Math.max(after, afterSeq), status: run.status };
    }
    // Let other work run between pages; the next read starts after what was sent.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
