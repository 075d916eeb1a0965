import type { NodeStatus, RunError, RunEvent, RunStatus, TokenUsage } from './schema.js';

export interface NodeState {
  status: NodeStatus;
  /** Attempt of the latest status; 0 while pending. */
  attempt: number;
  output?: unknown;
  error?: RunError;
  /** Ports that received the output, when not all of them. */
  ports?: string[];
  /** Set while a failed attempt waits for its retry. */
  retryInMs?: number;
  /** The output was taken from the parent run's log (a resumed or forked run). */
  reused?: boolean;
  startedAt?: number;
  finishedAt?: number;
  /** seq of the last event that changed this node. */
  lastSeq: number;
}

export interface TaskState {
  taskId: string;
  nodeId: string;
  parentTaskId?: string;
  assignee: string;
  /**
   * `cancelled`: the run ended while the task was still going. `skipped`: it failed, and its
   * pattern's policy went on without it (`output` is what it went on with, `error` why).
   */
  status: 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  /** Attempts made so far (1 unless retried). */
  attempt: number;
  /** Set while a failed attempt waits for its retry. */
  retryInMs?: number;
  input?: unknown;
  output?: unknown;
  error?: RunError;
  /** Set when a policy skipped the task (`task.skipped`). */
  skipReason?: string;
  /** A coordinator's subtask: its dependency wave (1-based) of `waves`. */
  wave?: number;
  waves?: number;
  assignedAt: number;
  finishedAt?: number;
}

export interface SupervisionEntry {
  seq: number;
  ts: number;
  nodeId: string;
  step: number;
  state: string;
  agent: string;
  action: string;
  assessment: string;
  metrics: Record<string, number>;
}

/** A model answer still streaming in: its text so far, for showing tokens live. */
export interface LlmStream {
  callId: string;
  nodeId: string;
  /** The latest `STREAM_TEXT_LIMIT` characters of the text so far. */
  text: string;
  /** Characters received in this attempt, including any cut from `text`. */
  chars: number;
  /** The provider's HTTP attempt the text belongs to. */
  attempt: number;
}

/**
 * Characters of a streaming answer kept in the state. The full answer arrives with
 * `llm.response`; while it streams, the end is what a viewer watches, so the start is cut.
 */
export const STREAM_TEXT_LIMIT = 16_384;

export interface RunState {
  runId: string;
  flowId: string;
  flowHash: string;
  parentRunId?: string;
  /** `running` until `run.finished`; `pending` before any event. */
  status: 'pending' | 'running' | RunStatus;
  input?: unknown;
  output?: unknown;
  error?: RunError;
  startedAt?: number;
  finishedAt?: number;
  lastSeq: number;
  nodes: Record<string, NodeState>;
  tasks: Record<string, TaskState>;
  llm: { calls: number; tokens: TokenUsage; costUsd: number };
  toolCalls: number;
  /** Calls to MCP servers' tools (by `mcp` nodes and by agents). */
  mcpCalls: number;
  /**
   * Model answers streaming now, by call id. An entry goes when its `llm.response` arrives
   * (which has the whole text) or the run ends, so this holds only calls in flight.
   */
  streams: Record<string, LlmStream>;
  supervision: SupervisionEntry[];
  /** Latest metrics per node id; `run` holds run-wide metrics. */
  metrics: Record<string, Record<string, number>>;
}

/** Thrown when a log cannot be a run's log: a gap in `seq`, events of another run, events after the end. */
export class RunLogError extends Error {
  constructor(
    message: string,
    /** Position of the offending event in the list (0-based). */
    readonly index: number,
  ) {
    super(message);
    this.name = 'RunLogError';
  }
}

export function createRunState(): RunState {
  return {
    runId: '',
    flowId: '',
    flowHash: '',
    status: 'pending',
    lastSeq: 0,
    nodes: Object.create(null) as Record<string, NodeState>,
    tasks: Object.create(null) as Record<string, TaskState>,
    llm: { calls: 0, tokens: { input: 0, output: 0 }, costUsd: 0 },
    toolCalls: 0,
    mcpCalls: 0,
    streams: Object.create(null) as Record<string, LlmStream>,
    supervision: [],
    metrics: Object.create(null) as Record<string, Record<string, number>>,
  };
}

/**
 * Folds one event into `state`, in place. In-place keeps a 100,000-event replay linear;
 * callers that need immutable snapshots (a React store) copy what they render.
 * Throws `RunLogError` when the event cannot follow the state.
 */
export function applyRunEvent(state: RunState, event: RunEvent, index = state.lastSeq): RunState {
  if (event.seq !== state.lastSeq + 1) {
    throw new RunLogError(`expected seq ${state.lastSeq + 1}, got ${event.seq} (${event.type})`, index);
  }
  if (state.status === 'pending') {
    if (event.type !== 'run.started') throw new RunLogError(`a run log must begin with run.started, got ${event.type}`, index);
  } else if (event.runId !== state.runId) {
    throw new RunLogError(`event of run "${event.runId}" in the log of run "${state.runId}"`, index);
  } else if (state.status !== 'running') {
    throw new RunLogError(`${event.type} after run.finished`, index);
  }
  state.lastSeq = event.seq;

  switch (event.type) {
    case 'run.started': {
      state.runId = event.runId;
      state.flowId = event.flowId;
      state.flowHash = event.flowHash;
      if (event.parentRunId !== undefined) state.parentRunId = event.parentRunId;
      state.status = 'running';
      state.input = event.input;
      state.startedAt = event.ts;
      for (const nodeId of event.nodeIds) state.nodes[nodeId] = { status: 'pending', attempt: 0, lastSeq: event.seq };
      break;
    }
    case 'node.status': {
      const previous = state.nodes[event.nodeId];
      const node: NodeState = { status: event.status, attempt: event.attempt, lastSeq: event.seq };
      const startedAt = event.status === 'running' ? (previous?.status === 'failed' ? previous.startedAt : event.ts) : previous?.startedAt;
      if (startedAt !== undefined) node.startedAt = startedAt;
      if (event.status !== 'running' && event.status !== 'pending') node.finishedAt = event.ts;
      if (event.output !== undefined) node.output = event.output;
      if (event.error !== undefined) node.error = event.error;
      if (event.ports !== undefined) node.ports = event.ports;
      if (event.retryInMs !== undefined) node.retryInMs = event.retryInMs;
      if (event.reused) node.reused = true;
      state.nodes[event.nodeId] = node;
      break;
    }
    case 'task.assigned': {
      const task: TaskState = { taskId: event.taskId, nodeId: event.nodeId, assignee: event.assignee, status: 'running', attempt: 1, assignedAt: event.ts };
      if (event.parentTaskId !== undefined) task.parentTaskId = event.parentTaskId;
      if (event.input !== undefined) task.input = event.input;
      if (event.wave !== undefined) task.wave = event.wave;
      if (event.waves !== undefined) task.waves = event.waves;
      state.tasks[event.taskId] = task;
      break;
    }
    case 'task.succeeded':
    case 'task.failed': {
      const task = state.tasks[event.taskId];
      if (!task) throw new RunLogError(`${event.type} for unknown task "${event.taskId}"`, index);
      if (event.attempt !== undefined) task.attempt = event.attempt;
      if (event.type === 'task.failed' && event.retryInMs !== undefined) {
        task.error = event.error;
        task.retryInMs = event.retryInMs;
        task.attempt = (event.attempt ?? task.attempt) + 1;
        break;
      }
      delete task.retryInMs;
      task.finishedAt = event.ts;
      if (event.type === 'task.succeeded') {
        task.status = 'succeeded';
        if (event.output !== undefined) task.output = event.output;
      } else {
        task.status = 'failed';
        task.error = event.error;
      }
      break;
    }
    case 'task.skipped': {
      const task = state.tasks[event.taskId];
      if (!task) throw new RunLogError(`task.skipped for unknown task "${event.taskId}"`, index);
      task.status = 'skipped';
      task.skipReason = event.reason;
      if (event.output !== undefined) task.output = event.output;
      break;
    }
    case 'llm.request':
      break;
    case 'llm.delta': {
      const attempt = event.attempt ?? 1;
      const stream = state.streams[event.callId];
      if (!stream || stream.attempt < attempt) {
        state.streams[event.callId] = { callId: event.callId, nodeId: event.nodeId, text: tail(event.text), chars: event.text.length, attempt };
      } else if (stream.attempt === attempt) {
        stream.text = tail(stream.text + event.text);
        stream.chars += event.text.length;
      }
      break;
    }
    case 'llm.response': {
      delete state.streams[event.callId];
      state.llm.calls += 1;
      state.llm.tokens.input += event.tokens.input;
      state.llm.tokens.output += event.tokens.output;
      state.llm.costUsd += event.costUsd ?? 0;
      break;
    }
    case 'tool.call':
      state.toolCalls += 1;
      break;
    case 'mcp.call':
      state.mcpCalls += 1;
      break;
    case 'mcp.tool':
      break;
    // A sandbox's audit trail: shown in the timeline; the run's state is in node and task events.
    case 'sandbox.created':
    case 'sandbox.output':
    case 'sandbox.violation':
    case 'sandbox.killed':
    case 'sandbox.cleaned':
      break;
    case 'supervision.entry': {
      const { nodeId, step, state: machineState, agent, action, assessment, metrics, seq, ts } = event;
      state.supervision.push({ seq, ts, nodeId, step, state: machineState, agent, action, assessment, metrics });
      break;
    }
    case 'metrics':
      state.metrics[event.nodeId ?? 'run'] = { ...state.metrics[event.nodeId ?? 'run'], ...event.values };
      break;
    case 'run.finished': {
      state.status = event.status;
      state.finishedAt = event.ts;
      // Nodes and tasks cut short by the end of the run: the engine reports its nodes as
      // cancelled itself, but an interrupted run's log ends where its process died.
      for (const node of Object.values(state.nodes)) {
        if (node.status !== 'running') continue;
        node.status = 'cancelled';
        node.finishedAt = event.ts;
        node.lastSeq = event.seq;
      }
      for (const task of Object.values(state.tasks)) {
        if (task.status !== 'running') continue;
        task.status = 'cancelled';
        task.finishedAt = event.ts;
        delete task.retryInMs;
      }
      if (event.output !== undefined) state.output = event.output;
      if (event.error !== undefined) state.error = event.error;
      state.streams = Object.create(null) as Record<string, LlmStream>;
      break;
    }
    default: {
      const unknownEvent: never = event;
      throw new RunLogError(`unknown event type ${JSON.stringify((unknownEvent as { type: unknown }).type)}`, index);
    }
  }
  return state;
}

function tail(text: string): string {
  return text.length <= STREAM_TEXT_LIMIT ? text : text.slice(text.length - STREAM_TEXT_LIMIT);
}

/** The run's state after `events`, which must be the log from its first event on. */
export function reduceRun(events: Iterable<RunEvent>): RunState {
  const state = createRunState();
  let index = 0;
  for (const event of events) applyRunEvent(state, event, index++);
  return state;
}
