import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, toProblem, type ApiProblem, type FlowRow, type TemplateRow } from '../api/client.js';
import { FlowCanvas } from '../canvas/FlowCanvas.js';
import { absolutePosition } from '../flow/groups.js';
import { autoLayout } from '../flow/layout.js';
import { drawnSize } from '../flow/model.js';
import { paletteEntries } from '../flow/palette.js';
import { templateFor } from '../flow/templates.js';
import { Inspector } from '../panels/Inspector.js';
import { Palette, usePaletteDrop } from '../panels/Palette.js';
import { RunPanel } from '../panels/RunPanel.js';
import { navigate } from '../router.js';
import { useEditor } from '../stores/editor.js';
import { loadMcpTools, useMcpTools } from '../stores/mcp.js';
import { useRun } from '../stores/run.js';
import { ProblemList } from './Home.js';
import { ThemeToggle } from './ThemeToggle.js';

/** The flow editor: palette, canvas, inspector, and the run panel below. */
export function Editor({ flowId, runId }: { flowId: string; runId: string | undefined }) {
  const [flow, setFlow] = useState<FlowRow | null>(null);
  const [templates, setTemplates] = useState<TemplateRow[]>([]);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  useEffect(() => {
    api.flows.get.query({ id: flowId }).then(
      (loaded) => {
        setFlow(loaded);
        useEditor.getState().load(loaded.definition, loaded.id, loaded.version);
      },
      (error: unknown) => setProblem(toProblem(error)),
    );
    void api.templates.list.query().then(setTemplates);
  }, [flowId]);

  useEffect(() => {
    if (runId) useRun.getState().open(runId);
    else useRun.getState().close();
  }, [runId]);
  useEffect(() => () => useRun.getState().close(), []);

  if (problem && !flow) {
    return (
      <main className="page">
        <ProblemList problem={{ ...problem, message: problem.code === 'NOT_FOUND' ? `There is no flow "${flowId}".` : problem.message }} />
        <a href="/" onClick={(e) => (e.preventDefault(), navigate({ page: 'home' }))}>
          Back to your flows
        </a>
      </main>
    );
  }
  if (!flow) return <main className="page">Loading…</main>;
  const sampleInput = templateFor(flow.id, templates)?.sampleInput ?? {};
  return (
    <ReactFlowProvider>
      <EditorBody flow={flow} templates={templates} sampleInput={sampleInput} onSaved={setFlow} />
    </ReactFlowProvider>
  );
}

function EditorBody({ flow, templates, sampleInput, onSaved }: { flow: FlowRow; templates: TemplateRow[]; sampleInput: unknown; onSaved: (flow: FlowRow) => void }) {
  const mcpTools = useMcpTools((s) => s.tools);
  useEffect(() => loadMcpTools(), []);
  const entries = useMemo(() => paletteEntries(templates, mcpTools ?? []), [templates, mcpTools]);
  const drop = usePaletteDrop(entries);
  const dirty = useEditor((s) => s.dirty);
  const name = useEditor((s) => s.meta?.name ?? '');
  const baseVersion = useEditor((s) => s.baseVersion);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const reactFlow = useReactFlow();

  const save = useCallback(async (): Promise<boolean> => {
    const editor = useEditor.getState();
    const definition = editor.document();
    if (!definition || !editor.flowId) return false;
    setProblem(null);
    try {
      const saved = await api.flows.save.mutate({ id: editor.flowId, baseVersion: editor.baseVersion, definition });
      editor.markSaved(saved.version);
      onSaved({ ...saved, problems: [] });
      setNotice(`Saved as version ${saved.version}`);
      return true;
    } catch (error) {
      const p = toProblem(error);
      setProblem(p.code === 'CONFLICT' ? { ...p, message: `${p.message}` } : p);
      return false;
    }
  }, [onSaved]);

  /** A new note in the middle of what the canvas shows. */
  const addNote = useCallback(() => {
    const box = document.querySelector('[data-testid="canvas"]')?.getBoundingClientRect();
    const at = box ? reactFlow.screenToFlowPosition({ x: box.left + box.width / 2 - 100, y: box.top + box.height / 2 - 60 }) : { x: 0, y: 0 };
    useEditor.getState().addNote({ x: Math.round(at.x), y: Math.round(at.y) });
  }, [reactFlow]);

  useKeyboardShortcuts(save, addNote);

  /** Selects a node (opening the groups it is in) and brings it to the middle of the canvas, at the current zoom. */
  const showNode = useCallback(
    (id: string) => {
      if (!useEditor.getState().showNode(id)) return;
      const nodes = useEditor.getState().nodes;
      const node = nodes.find((n) => n.id === id)!;
      const at = absolutePosition(nodes, node);
      const size = drawnSize(node);
      void reactFlow.setCenter(at.x + size.width / 2, at.y + size.height / 2, { zoom: reactFlow.getZoom(), duration: 200 });
    },
    [reactFlow],
  );

  const layout = async () => {
    const { nodes, edges, applyLayout } = useEditor.getState();
    applyLayout(await autoLayout(nodes, edges));
    requestAnimationFrame(() => void reactFlow.fitView({ duration: 200 }));
  };

  const exportFile = async () => {
    try {
      const exported = await api.flows.export.query({ id: flow.id });
      const url = URL.createObjectURL(new Blob([exported.text], { type: 'application/json' }));
      const link = Object.assign(document.createElement('a'), { href: url, download: exported.fileName });
      link.click();
      URL.revokeObjectURL(url);
      setNotice(exported.strippedSecrets.length ? `Exported ${exported.fileName}; ${exported.strippedSecrets.length} secret(s) were removed: set them again after import.` : `Exported ${exported.fileName}`);
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  const share = async () => {
    try {
      const link = await api.flows.share.mutate({ id: flow.id, version: null });
      const url = `${window.location.origin}/share/${link.token}`;
      await navigator.clipboard?.writeText(url).catch(() => undefined);
      setNotice(`Share link (read-only): ${url}`);
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <div className="editor" data-testid="editor">
      <header className="toolbar">
        <a href="/" onClick={(e) => (e.preventDefault(), navigate({ page: 'home' }))} title="Your flows">
          ← Flows
        </a>
        <input className="flow-name" value={name} onChange={(e) => useEditor.getState().renameFlow(e.target.value)} aria-label="Flow name" data-testid="flow-name" />
        <span className="muted" data-testid="save-state">
          v{baseVersion}
          {dirty ? ' · unsaved changes' : ''}
        </span>
        <button className="primary" onClick={() => void save()} disabled={!dirty} data-testid="save-button" title="Save (Ctrl+S)">
          Save
        </button>
        <button onClick={() => useEditor.getState().undo()} data-testid="undo-button" title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button onClick={() => useEditor.getState().redo()} data-testid="redo-button" title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <button onClick={addNote} data-testid="add-note-button" title="Add a note (N)">
          Note
        </button>
        <button onClick={() => void layout()} data-testid="layout-button">
          Auto-layout
        </button>
        <button onClick={() => void reactFlow.fitView({ duration: 200 })}>Fit</button>
        <VersionMenu flowId={flow.id} onRestored={(restored) => (onSaved(restored), useEditor.getState().load(restored.definition, restored.id, restored.version))} onProblem={setProblem} />
        <button onClick={() => void exportFile()} data-testid="export-button">
          Export
        </button>
        <button onClick={() => void share()} data-testid="share-button">
          Share
        </button>
        <ThemeToggle />
      </header>
      {(problem || notice) && (
        <div className="notices">
          {problem && <ProblemList problem={problem} onClose={() => setProblem(null)} />}
          {notice && (
            <p className="notice" role="status" data-testid="notice" onClick={() => setNotice(null)}>
              {notice}
            </p>
          )}
        </div>
      )}
      <div className="workspace">
        <Palette entries={entries} />
        <div className="canvas-wrap" onDragOver={drop.onDragOver} onDrop={drop.onDrop}>
          <FlowCanvas />
          <DropRefusal />
        </div>
        <Inspector readOnly={false} />
      </div>
      <RunPanel flowId={flow.id} sampleInput={sampleInput} onBeforeRun={async () => (useEditor.getState().dirty ? save() : true)} onShowNode={showNode} />
    </div>
  );
}

/** Why the last palette drop was refused (a folded group); goes away with the next drop or a click. */
function DropRefusal() {
  const refusal = useEditor((s) => s.dropRefusal);
  if (!refusal) return null;
  return (
    <div className="canvas-notice" role="status" data-testid="drop-refusal" onClick={() => useEditor.setState({ dropRefusal: null })}>
      {refusal}
    </div>
  );
}

function VersionMenu({ flowId, onRestored, onProblem }: { flowId: string; onRestored: (flow: FlowRow) => void; onProblem: (p: ApiProblem) => void }) {
  const [versions, setVersions] = useState<Awaited<ReturnType<typeof api.flows.versions.query>> | null>(null);
  const baseVersion = useEditor((s) => s.baseVersion);
  const open = () => void api.flows.versions.query({ id: flowId }).then(setVersions, (e: unknown) => onProblem(toProblem(e)));
  return (
    <span className="version-menu">
      <button onClick={() => (versions ? setVersions(null) : open())} data-testid="versions-button">
        History
      </button>
      {versions && (
        <ul className="dropdown" data-testid="versions-list">
          {versions.map((v) => (
            <li key={v.version}>
              v{v.version} · {new Date(v.createdAt).toLocaleString()} {v.message && <span className="muted">({v.message})</span>}
              {v.version !== baseVersion && (
                <button
                  onClick={() =>
                    void api.flows.restore.mutate({ id: flowId, version: v.version, baseVersion }).then(
                      (restored) => (onRestored({ ...restored, problems: [] }), setVersions(null)),
                      (e: unknown) => onProblem(toProblem(e)),
                    )
                  }
                  data-testid={`restore-${v.version}`}
                >
                  Restore
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </span>
  );
}

/** Undo/redo, select all, copy/paste, delete, save and a new note from the keyboard, except while typing in a field. */
function useKeyboardShortcuts(save: () => Promise<boolean>, addNote: () => void) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable)) return;
      const editor = useEditor.getState();
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 'z' && !e.shiftKey) editor.undo();
      else if ((mod && key === 'z' && e.shiftKey) || (mod && key === 'y')) editor.redo();
      else if (mod && key === 'a') editor.selectAll();
      else if (mod && key === 'c') editor.copySelected();
      else if (mod && key === 'v') editor.paste();
      else if (mod && key === 's') void save();
      else if (key === 'delete' || key === 'backspace') editor.deleteSelected();
      else if (!mod && !e.altKey && key === 'n') addNote();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [save, addNote]);
}
