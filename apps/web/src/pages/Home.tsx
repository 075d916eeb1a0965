import { useEffect, useRef, useState } from 'react';
import { api, formatPath, toProblem, type ApiProblem, type FlowListItem, type TemplateRow } from '../api/client.js';
import { navigate } from '../router.js';
import { ThemeToggle } from './ThemeToggle.js';

const EMPTY_FLOW = (id: string, name: string) => ({
  version: 1,
  id,
  name,
  nodes: [
    { id: 'in', kind: 'input', position: { x: 0, y: 0 } },
    { id: 'out', kind: 'output', position: { x: 480, y: 0 } },
  ],
  edges: [],
});

export function Home() {
  const [flows, setFlows] = useState<FlowListItem[] | null>(null);
  const [templates, setTemplates] = useState<TemplateRow[]>([]);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [filter, setFilter] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);

  const reload = () =>
    Promise.all([api.flows.list.query(), api.templates.list.query()]).then(([f, t]) => {
      setFlows(f);
      setTemplates(t);
    }, (error: unknown) => setProblem(toProblem(error)));
  useEffect(() => void reload(), []);

  const open = (id: string) => navigate({ page: 'flow', flowId: id });
  const act = (work: Promise<{ id: string }>) => work.then((flow) => open(flow.id), (error: unknown) => setProblem(toProblem(error)));

  const importFile = async (file: File) => {
    setProblem(null);
    try {
      const result = await api.flows.import.mutate({ text: await file.text() });
      open(result.flow.id);
    } catch (error) {
      setProblem({ ...toProblem(error), message: `${file.name} cannot be imported` });
    }
  };

  const shown = flows?.filter((f) => `${f.name} ${f.id}`.toLowerCase().includes(filter.toLowerCase())) ?? [];
  return (
    <main className="page">
      <header className="page-header">
        <h1>Loom</h1>
        <div className="actions">
          <button data-testid="new-flow" onClick={() => act(api.flows.create.mutate({ definition: EMPTY_FLOW('untitled', 'Untitled flow') }))}>
            New flow
          </button>
          <button data-testid="import-flow" onClick={() => fileInput.current?.click()}>
            Import…
          </button>
          <input ref={fileInput} type="file" accept=".json,application/json" hidden data-testid="import-file" onChange={(e) => e.target.files?.[0] && void importFile(e.target.files[0])} />
          <ThemeToggle />
        </div>
      </header>
      {problem && <ProblemList problem={problem} onClose={() => setProblem(null)} />}
      <section>
        <h2>Your flows</h2>
        {flows === null ? (
          <p>Loading…</p>
        ) : flows.length === 0 ? (
          <p className="empty">No flows yet. Start from a template below, create a new flow, or import a file.</p>
        ) : (
          <>
            <input className="search" placeholder="Filter flows" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter flows" />
            <ul className="cards" data-testid="flow-list">
              {shown.map((flow) => (
                <li key={flow.id} className="card" data-testid={`flow-${flow.id}`}>
                  <a href={`/flows/${encodeURIComponent(flow.id)}`} onClick={(e) => (e.preventDefault(), open(flow.id))}>
                    <strong>{flow.name}</strong>
                  </a>
                  <span className="muted">
                    {flow.nodeCount} nodes · v{flow.currentVersion} · {new Date(flow.updatedAt).toLocaleString()}
                  </span>
                  <p className="muted clamp">{flow.description}</p>
                  <div className="actions">
                    <button onClick={() => act(api.flows.duplicate.mutate({ id: flow.id }))}>Duplicate</button>
                    <button
                      className="danger"
                      data-testid={`delete-${flow.id}`}
                      onClick={() => {
                        if (confirm(`Delete "${flow.name}" with its versions and runs?`)) api.flows.delete.mutate({ id: flow.id }).then(reload, (error: unknown) => setProblem(toProblem(error)));
                      }}
                    >
                      Delete
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <section>
        <h2>Templates</h2>
        <ul className="cards" data-testid="template-list">
          {templates.map((t) => (
            <li key={t.name} className="card" data-testid={`template-${t.name}`}>
              <strong>{t.title}</strong>
              <p className="muted clamp">{t.description}</p>
              <button onClick={() => act(api.templates.use.mutate({ name: t.name }))}>Use this template</button>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}

export function ProblemList({ problem, onClose }: { problem: ApiProblem; onClose?: () => void }) {
  return (
    <div className="problem" role="alert" data-testid="problem">
      <strong>{problem.message.split(': ')[0]}</strong>
      {problem.issues.length > 0 ? (
        <ul data-testid="problem-issues">
          {problem.issues.map((issue, i) => (
            <li key={i}>
              <code>{formatPath(issue.path)}</code>: {issue.message}
            </li>
          ))}
        </ul>
      ) : (
        <p>{problem.message}</p>
      )}
      {onClose && <button onClick={onClose}>Dismiss</button>}
    </div>
  );
}
