import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useState } from 'react';
import { api, toProblem, type ApiProblem } from '../api/client.js';
import { FlowCanvas } from '../canvas/FlowCanvas.js';
import { useEditor } from '../stores/editor.js';
import { ProblemList } from './Home.js';

/** What a share link opens: the flow on a canvas, read-only. */
export function SharedFlow({ token }: { token: string }) {
  const [title, setTitle] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  useEffect(() => {
    api.flows.shared.query({ token }).then(
      (shared) => {
        useEditor.getState().load(shared.definition, shared.id, shared.version);
        setTitle(`${shared.name} (version ${shared.version})`);
      },
      (error: unknown) => setProblem(toProblem(error)),
    );
  }, [token]);
  if (problem) return <main className="page"><ProblemList problem={{ ...problem, message: problem.code === 'NOT_FOUND' ? 'This share link does not exist or was revoked.' : problem.message }} /></main>;
  return (
    <div className="editor">
      <header className="toolbar">
        <strong data-testid="shared-title">{title ?? 'Loading…'}</strong>
        <span className="muted">Shared read-only</span>
      </header>
      <ReactFlowProvider>
        <FlowCanvas readOnly />
      </ReactFlowProvider>
    </div>
  );
}
