import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { FlowNode, zodIssuesToFlowIssues, type FlowIssue } from '@loom/shared';
import { formatPath } from '../api/client.js';
import { useEditor } from '../stores/editor.js';

/**
 * The selected node's settings. Common fields are inputs; the kind's configuration is JSON
 * checked against the node schema as the person types, with each problem at its path.
 * Nothing reaches the canvas until it is valid.
 */
export function Inspector({ readOnly }: { readOnly: boolean }) {
  // useShallow: the filtered array is new on every call; compare its items instead.
  const selected = useEditor(useShallow((s) => s.nodes.filter((n) => n.selected)));
  if (selected.length === 0) return <aside className="inspector empty" data-testid="inspector">Select a node to see its settings. Drag nodes from the palette; connect an output handle to an input handle.</aside>;
  if (selected.length > 1) return <aside className="inspector" data-testid="inspector">{selected.length} nodes selected. Copy (Ctrl+C), paste (Ctrl+V) or delete them (Delete).</aside>;
  const node = selected[0]!;
  return <NodeForm key={node.id} nodeId={node.id} initial={node.data.node} readOnly={readOnly} />;
}

function NodeForm({ nodeId, initial, readOnly }: { nodeId: string; initial: FlowNode; readOnly: boolean }) {
  const updateNode = useEditor((s) => s.updateNode);
  const [id, setId] = useState(nodeId);
  const [name, setName] = useState(initial.name ?? '');
  const [description, setDescription] = useState(initial.description ?? '');
  const [onError, setOnError] = useState(initial.onError ?? 'fail');
  const [retries, setRetries] = useState(String(initial.retry?.maxAttempts ?? 1));
  const [timeoutMs, setTimeoutMs] = useState(initial.timeoutMs === undefined ? '' : String(initial.timeoutMs));
  const [config, setConfig] = useState(JSON.stringify(initial.config ?? {}, null, 2));
  const [issues, setIssues] = useState<FlowIssue[]>([]);

  const apply = () => {
    let parsedConfig: unknown;
    try {
      parsedConfig = JSON.parse(config);
    } catch (error) {
      return setIssues([{ path: ['config'], message: `not valid JSON: ${(error as Error).message}` }]);
    }
    const candidate = {
      ...initial,
      id,
      ...(name ? { name } : { name: undefined }),
      ...(description ? { description } : { description: undefined }),
      onError,
      ...(Number(retries) > 1 ? { retry: { ...initial.retry, maxAttempts: Number(retries) } } : { retry: undefined }),
      ...(timeoutMs ? { timeoutMs: Number(timeoutMs) } : { timeoutMs: undefined }),
      config: parsedConfig,
    };
    const cleaned = JSON.parse(JSON.stringify(candidate)) as unknown;
    const checked = FlowNode.safeParse(cleaned);
    if (!checked.success) return setIssues(zodIssuesToFlowIssues(checked.error.issues, cleaned));
    if (id !== nodeId && useEditor.getState().nodes.some((n) => n.id === id)) return setIssues([{ path: ['id'], message: `another node is already called "${id}"` }]);
    setIssues([]);
    // The schema fills defaults; keep what the person wrote (plus the id) so the document stays theirs.
    updateNode(nodeId, cleaned as FlowNode);
  };

  return (
    <aside className="inspector" data-testid="inspector">
      <h3>
        {initial.kind} <code>{nodeId}</code>
      </h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <label>
          Id <input value={id} onChange={(e) => setId(e.target.value)} disabled={readOnly} data-testid="inspector-id" />
        </label>
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} disabled={readOnly} data-testid="inspector-name" />
        </label>
        <label>
          Description <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} disabled={readOnly} />
        </label>
        <div className="row">
          <label>
            On error
            <select value={onError} onChange={(e) => setOnError(e.target.value as 'fail' | 'continue')} disabled={readOnly} data-testid="inspector-on-error">
              <option value="fail">fail the run</option>
              <option value="continue">continue (error port)</option>
            </select>
          </label>
          <label>
            Attempts <input type="number" min={1} max={20} value={retries} onChange={(e) => setRetries(e.target.value)} disabled={readOnly} data-testid="inspector-attempts" />
          </label>
          <label>
            Timeout (ms) <input type="number" min={1} value={timeoutMs} onChange={(e) => setTimeoutMs(e.target.value)} disabled={readOnly} />
          </label>
        </div>
        <label>
          Configuration (JSON)
          <textarea className="code" rows={14} value={config} onChange={(e) => setConfig(e.target.value)} disabled={readOnly} spellCheck={false} data-testid="inspector-config" />
        </label>
        {issues.length > 0 && (
          <ul className="field-errors" data-testid="inspector-issues">
            {issues.map((issue, i) => (
              <li key={i}>
                <code>{formatPath(issue.path)}</code>: {issue.message}
              </li>
            ))}
          </ul>
        )}
        {!readOnly && (
          <button type="submit" data-testid="inspector-apply">
            Apply
          </button>
        )}
      </form>
    </aside>
  );
}
