import { useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { RunEvent } from '@loom/shared';
import { api, toProblem, type ApiProblem, type RunRow } from '../api/client.js';
import { watchRuns } from '../api/live.js';
import { sameValue, stripUnfinished } from '../forms/draft.js';
import { initialRunInput, runInputSchema } from '../forms/run-input.js';
import { SchemaForm } from '../forms/SchemaForm.js';
import { validateValue } from '../forms/validate.js';
import { ProblemList } from '../pages/Home.js';
import { isFlowNode, type FlowCanvasNode } from '../flow/model.js';
import { navigate } from '../router.js';
import { useEditor } from '../stores/editor.js';
import { failures, runInput, runOutcome, useRun } from '../stores/run.js';

type Tab = 'run' | 'timeline' | 'supervision' | 'metrics' | 'history';

/**
 * Run, watch, replay and fork: the panel under the canvas. `onShowNode` shows a canvas node (the
 * editor centres it); without it, clicking a failed node in the run tab only selects it.
 */
export function RunPanel({ flowId, sampleInput, onBeforeRun, onShowNode }: { flowId: string; sampleInput: unknown; onBeforeRun: () => Promise<boolean>; onShowNode?: (canvasId: string) => void }) {
  const [tab, setTab] = useState<Tab>('run');
  const runId = useRun((s) => s.runId);
  // An opened run shows the input it ran with, ready to run again or edit.
  const openedRunInput = useRun(runInput);
  return (
    <section className="run-panel" data-testid="run-panel">
      <nav className="tabs" role="tablist">
        {(['run', 'timeline', 'supervision', 'metrics', 'history'] as const).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? 'active' : ''} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
            {t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </nav>
      <div className="tab-body">
        {tab === 'run' && <RunTab flowId={flowId} sampleInput={openedRunInput ?? sampleInput} onBeforeRun={onBeforeRun} onShowNode={onShowNode ?? ((id) => void useEditor.getState().showNode(id))} />}
        {tab === 'timeline' && <Timeline />}
        {tab === 'supervision' && <SupervisionLog />}
        {tab === 'metrics' && <Metrics />}
        {tab === 'history' && <History flowId={flowId} current={runId} />}
      </div>
      {runId && <ReplayBar flowId={flowId} />}
    </section>
  );
}

function RunTab({ flowId, sampleInput, onBeforeRun, onShowNode }: { flowId: string; sampleInput: unknown; onBeforeRun: () => Promise<boolean>; onShowNode: (canvasId: string) => void }) {
  // The input nodes' declared fields give the form; useShallow: same nodes, same array.
  // The run's own input nodes: not those of sub-flows drawn inside groups, nor notes.
  const inputNodes = useEditor(useShallow((s) => s.nodes.filter((n) => isFlowNode(n) && n.parentId === undefined && n.data.node.kind === 'input').map((n) => (n as FlowCanvasNode).data.node)));
  const schema = useMemo(() => runInputSchema(inputNodes), [inputNodes]);
  const [value, setValue] = useState<unknown>(() => initialRunInput(schema, sampleInput));
  const [input, setInput] = useState(() => JSON.stringify(sampleInput ?? {}, null, 2));
  const [asJson, setAsJson] = useState(false);
  const [edited, setEdited] = useState(false);
  const [tried, setTried] = useState(false);
  // The template's sample input may arrive after the panel: take it until the person edits.
  const [sample, setSample] = useState(sampleInput);
  if (!sameValue(sample, sampleInput)) {
    setSample(sampleInput);
    if (!edited) {
      setValue(initialRunInput(schema, sampleInput));
      setInput(JSON.stringify(sampleInput ?? {}, null, 2));
    }
  }
  const formMode = schema !== null && !asJson;
  const { formIssues, unfinished } = useMemo(() => {
    if (!schema) return { formIssues: [], unfinished: false };
    const { clean, issues } = stripUnfinished(value);
    return { formIssues: [...issues, ...validateValue(schema, clean)], unfinished: issues.length > 0 };
  }, [schema, value]);
  // A field not filled in yet is not a mistake until the person tries to run.
  const shownIssues = tried ? formIssues : formIssues.filter((i) => i.message !== 'missing required field');
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const state = useRun((s) => s.state);
  const runId = useRun((s) => s.runId);
  const streamError = useRun((s) => s.error);
  // The run's own end, not the state at the replay cursor (which may show it running).
  const outcome = useRun(runOutcome);
  const run = async () => {
    setProblem(null);
    let parsed: unknown;
    if (formMode) {
      setTried(true);
      if (formIssues.length > 0) return setProblem({ message: 'Fix the run input first', issues: formIssues });
      parsed = stripUnfinished(value).clean;
    } else {
      try {
        parsed = JSON.parse(input || '{}');
      } catch (error) {
        return setProblem({ message: `The input is not valid JSON: ${(error as Error).message}`, issues: [] });
      }
    }
    if (!(await onBeforeRun())) return;
    try {
      const started = await api.runs.start.mutate({ flowId, input: parsed });
      navigate({ page: 'flow', flowId, runId: started.id });
    } catch (error) {
      setProblem(toProblem(error));
    }
  };
  const toggle = () => {
    setProblem(null);
    if (formMode) {
      setInput(JSON.stringify(stripUnfinished(value).clean ?? {}, null, 2));
      return setAsJson(true);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(input || '{}');
    } catch (error) {
      return setProblem({ message: `The input is not valid JSON: ${(error as Error).message}`, issues: [] });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return setProblem({ message: 'The form needs the input to be an object of fields.', issues: [] });
    setValue(parsed);
    setAsJson(false);
  };
  const scoped = useRun((s) => s.scoped);
  const failed = useMemo(() => failures(state, scoped), [state, scoped]);
  return (
    <div className="run-tab">
      <div className="run-input">
        <div className="run-input-head">
          <strong>Run input</strong>
          {schema && (
            <button type="button" onClick={toggle} disabled={formMode && unfinished} data-testid="run-input-toggle" title={formMode ? 'Edit the input as JSON' : 'Back to the form'}>
              {formMode ? 'JSON' : 'Form'}
            </button>
          )}
        </div>
        {formMode ? (
          <div className="run-input-form" data-testid="run-input-form">
            <SchemaForm
              schema={schema}
              value={value}
              onChange={(next) => {
                setEdited(true);
                setValue(next);
              }}
              issues={shownIssues}
            />
          </div>
        ) : (
          <label>
            <span className="sr-only">Run input (JSON)</span>
            <textarea
              className="code"
              rows={5}
              value={input}
              onChange={(e) => {
                setEdited(true);
                setInput(e.target.value);
              }}
              data-testid="run-input"
              spellCheck={false}
            />
          </label>
        )}
        <div className="actions">
          <button className="primary" onClick={() => void run()} data-testid="run-button">
            Run
          </button>
          {runId && outcome === null && (
            <button className="danger" onClick={() => void api.runs.cancel.mutate({ runId }).catch((error: unknown) => setProblem(toProblem(error)))} data-testid="cancel-button">
              Cancel
            </button>
          )}
          {runId && outcome !== null && outcome !== 'succeeded' && (
            <button
              onClick={() =>
                void api.runs.resume.mutate({ runId }).then(
                  (resumed) => navigate({ page: 'flow', flowId, runId: resumed.id }),
                  (error: unknown) => setProblem(toProblem(error)),
                )
              }
              data-testid="resume-button"
            >
              Resume from the last completed nodes
            </button>
          )}
        </div>
      </div>
      <div className="run-result" data-testid="run-result">
        {problem && <ProblemList problem={problem} onClose={() => setProblem(null)} />}
        {streamError && <p className="field-error">{streamError}</p>}
        {!runId ? (
          <p className="empty">Enter an input and press Run. Node states appear on the canvas as the run goes.</p>
        ) : (
          <>
            <p>
              Run <code>{runId.slice(0, 8)}</code>: <strong data-testid="run-status">{state.status}</strong>
              {state.parentRunId && <span className="muted"> (from run {state.parentRunId.slice(0, 8)})</span>}
              {state.startedAt !== undefined && state.finishedAt !== undefined && <span className="muted"> in {state.finishedAt - state.startedAt} ms</span>}
            </p>
            {failed.map(({ logged, label, canvasId, state: node }) => (
              // Clicking shows the failed node on the canvas (opening the groups it is in).
              <p
                key={logged}
                className="field-error run-error"
                data-testid={`run-error-${label}`}
                role="button"
                tabIndex={0}
                title={`Show ${canvasId} on the canvas`}
                onClick={() => onShowNode(canvasId)}
                onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), onShowNode(canvasId))}
              >
                <strong>{label}</strong> failed{node.attempt > 1 ? ` after ${node.attempt} attempts` : ''}: {node.error?.message}
              </p>
            ))}
            {state.error && <p className="field-error">{state.error.message}</p>}
            {state.output !== undefined && (
              <pre className="code output" data-testid="run-output">
                {JSON.stringify(state.output, null, 2)}
              </pre>
            )}
          </>
        )}
      </div>
    </div>
  );
}

function describe(event: RunEvent): string {
  switch (event.type) {
    case 'node.status':
      return `${event.nodeId} ${event.status}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}${event.retryInMs !== undefined ? `, retry in ${event.retryInMs} ms` : ''}${event.reused ? ' (reused)' : ''}${event.error ? `: ${event.error.message}` : ''}`;
    case 'task.assigned':
      return `task ${event.taskId} → ${event.assignee}`;
    case 'task.succeeded':
      return `task ${event.taskId} succeeded`;
    case 'task.failed':
      return `task ${event.taskId} failed${event.retryInMs !== undefined ? `, retry in ${event.retryInMs} ms` : ''}: ${event.error.message}`;
    case 'task.skipped':
      return `task ${event.taskId} skipped: ${event.reason}`;
    case 'supervision.entry':
      return `${event.nodeId} step ${event.step} [${event.state}] ${event.agent}: ${event.action}`;
    case 'run.finished':
      return `run ${event.status}${event.error ? `: ${event.error.message}` : ''}`;
    case 'metrics': {
      const values = Object.entries(event.values);
      const shown = values.slice(0, 4).map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toFixed(2)}`);
      return `${event.nodeId ?? 'run'} metrics: ${shown.join(', ')}${values.length > 4 ? `, … (${values.length - 4} more in Metrics)` : ''}`;
    }
    case 'llm.response':
      return `llm ${event.tokens.input}+${event.tokens.output} tokens`;
    case 'mcp.call':
      return `${event.nodeId} MCP ${event.server}/${event.tool} ${event.error ? `failed: ${event.error.message}` : event.result?.isError ? 'answered an error' : 'answered'}`;
    default:
      return event.type;
  }
}

function Timeline() {
  const count = useRun((s) => s.eventCount);
  const events = useRun.getState().events;
  const cursor = useRun((s) => s.cursor);
  const seek = useRun((s) => s.seek);
  const [filter, setFilter] = useState('');
  // The log grows in place; `count` says when it did.
  const shown = useMemo(() => events.filter((e) => describe(e).toLowerCase().includes(filter.toLowerCase())).slice(-500), [events, count, filter]);
  if (events.length === 0) return <p className="empty">No events yet.</p>;
  return (
    <div>
      <input className="search" placeholder="Filter events" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter events" />
      <ol className="timeline" data-testid="timeline">
        {shown.map((e) => (
          <li key={e.seq} className={`event-${e.type.replace('.', '-')} ${cursor !== null && e.seq > cursor ? 'future' : ''}`} onClick={() => seek(e.seq)} title="Show the canvas as it was after this event">
            <span className="seq">#{e.seq}</span> {describe(e)}
          </li>
        ))}
      </ol>
    </div>
  );
}

function SupervisionLog() {
  const entries = useRun((s) => s.state.supervision);
  const [state, setState] = useState('');
  const [agent, setAgent] = useState('');
  if (entries.length === 0) return <p className="empty">No supervision entries: this run has no supervisor, or it has not started a step yet.</p>;
  const states = [...new Set(entries.map((e) => e.state))];
  const agents = [...new Set(entries.map((e) => e.agent))];
  const shown = entries.filter((e) => (!state || e.state === state) && (!agent || e.agent === agent));
  return (
    <div>
      <div className="row">
        <select value={state} onChange={(e) => setState(e.target.value)} aria-label="Filter by state" data-testid="supervision-state-filter">
          <option value="">every state</option>
          {states.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <select value={agent} onChange={(e) => setAgent(e.target.value)} aria-label="Filter by agent">
          <option value="">every agent</option>
          {agents.map((a) => (
            <option key={a}>{a}</option>
          ))}
        </select>
      </div>
      <table className="log" data-testid="supervision-log">
        <thead>
          <tr>
            <th>step</th>
            <th>state</th>
            <th>agent</th>
            <th>action</th>
            <th>assessment</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e) => (
            <tr key={e.seq}>
              <td>{e.step}</td>
              <td>{e.state}</td>
              <td>{e.agent}</td>
              <td>{e.action}</td>
              <td>{e.assessment}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Metrics() {
  const metrics = useRun((s) => s.state.metrics);
  const llm = useRun((s) => s.state.llm);
  const entries = Object.entries(metrics);
  if (entries.length === 0) return <p className="empty">Metrics appear when nodes finish.</p>;
  return (
    <div className="metrics" data-testid="metrics">
      {llm.calls > 0 && (
        <p>
          LLM: {llm.calls} calls, {llm.tokens.input} input + {llm.tokens.output} output tokens
        </p>
      )}
      {entries.map(([node, values]) => (
        <div key={node}>
          <h4>{node}</h4>
          <dl>
            {Object.entries(values).map(([name, value]) => (
              <div key={name}>
                <dt>{name}</dt>
                <dd>{Number.isInteger(value) ? value : value.toFixed(3)}</dd>
              </div>
            ))}
          </dl>
        </div>
      ))}
    </div>
  );
}

function History({ flowId, current }: { flowId: string; current: string | null }) {
  const [runs, setRuns] = useState<RunRow[] | null>(null);
  useEffect(() => {
    let alive = true;
    const load = () => void api.runs.list.query({ flowId, limit: 50 }).then((page) => alive && setRuns(page.runs));
    load();
    const stop = watchRuns((run) => run.flowId === flowId && load());
    return () => {
      alive = false;
      stop();
    };
  }, [flowId]);
  if (runs === null) return <p>Loading…</p>;
  if (runs.length === 0) return <p className="empty">No runs of this flow yet.</p>;
  return (
    <ul className="history" data-testid="run-history">
      {runs.map((run) => (
        <li key={run.id} className={run.id === current ? 'current' : ''}>
          <a href={`/flows/${flowId}/runs/${run.id}`} onClick={(e) => (e.preventDefault(), navigate({ page: 'flow', flowId, runId: run.id }))} data-testid={`history-${run.id}`}>
            {new Date(run.createdAt).toLocaleString()}
          </a>{' '}
          <span className={`badge status-${run.status}`}>{run.status}</span> <span className="muted">v{run.flowVersion}</span>
          {run.parentRunId && <span className="muted"> · {run.origin} of {run.parentRunId.slice(0, 8)}</span>}
        </li>
      ))}
    </ul>
  );
}

/** Scrub through the run's events, play them back, or fork a new run from the selected node. */
function ReplayBar({ flowId }: { flowId: string }) {
  const events = useRun((s) => s.eventCount);
  const cursor = useRun((s) => s.cursor);
  const seek = useRun((s) => s.seek);
  const runId = useRun((s) => s.runId)!;
  const finished = useRun(runOutcome) !== null;
  // Forks start from a node of the main flow: an inner node of a group forks from its group; notes do not run.
  const selected = useEditor((s) => {
    const node = s.nodes.find((n) => n.selected && isFlowNode(n));
    return node && (node.parentId === undefined ? node.id : node.id.slice(0, node.id.indexOf('/')));
  });
  const [speed, setSpeed] = useState(4);
  const [playing, setPlaying] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const timer = useRef<ReturnType<typeof setInterval>>(undefined);
  useEffect(() => {
    if (!playing) return;
    timer.current = setInterval(() => {
      const { cursor: at, events: all } = useRun.getState();
      const next = (at ?? all.length) + 1;
      if (at === null || next >= all.length) {
        seek(null);
        setPlaying(false);
      } else seek(next);
    }, 1000 / speed);
    return () => clearInterval(timer.current);
  }, [playing, speed, seek]);
  const position = cursor ?? events;
  return (
    <div className="replay" data-testid="replay-bar">
      <button onClick={() => (cursor === null ? (seek(0), setPlaying(true)) : setPlaying(!playing))} disabled={!finished} data-testid="replay-play">
        {playing ? 'Pause' : 'Play'}
      </button>
      <input type="range" min={0} max={events} value={position} onChange={(e) => seek(Number(e.target.value))} aria-label="Replay position" data-testid="replay-scrubber" />
      <span className="muted" data-testid="replay-position">
        {position}/{events} events
      </span>
      <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} aria-label="Playback speed">
        {[1, 4, 16, 64].map((s) => (
          <option key={s} value={s}>
            {s} events/s
          </option>
        ))}
      </select>
      {cursor !== null && <button onClick={() => seek(null)}>Back to the end</button>}
      <button
        disabled={!finished || !selected}
        title={selected ? `Run again from "${selected}", reusing the recorded outputs upstream of it` : 'Select a node to fork from'}
        onClick={() =>
          void api.runs.fork.mutate({ runId, fromNodeId: selected! }).then(
            (forked) => navigate({ page: 'flow', flowId, runId: forked.id }),
            (error: unknown) => setProblem(toProblem(error)),
          )
        }
        data-testid="fork-button"
      >
        Fork from {selected ?? 'a node'}
      </button>
      {problem && <ProblemList problem={problem} onClose={() => setProblem(null)} />}
    </div>
  );
}
