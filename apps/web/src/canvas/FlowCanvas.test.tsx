// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { ReactFlowProvider } from '@xyflow/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Flow, RunEvent } from '@loom/shared';
import { useEditor } from '../stores/editor.js';
import { useRun } from '../stores/run.js';
import { FlowCanvas } from './FlowCanvas.js';

beforeAll(() => {
  // jsdom has no layout: React Flow only needs these to exist.
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
  // jsdom cannot draw (and says so on the console for every call): the minimap gets no context and skips drawing.
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
  (globalThis as { DOMMatrixReadOnly?: unknown }).DOMMatrixReadOnly ??= class {
    m22 = 1;
    constructor(_transform?: string) {}
  };
});

const flow: Flow = {
  version: 1,
  id: 'f',
  name: 'F',
  settings: { concurrency: 4, allowHosts: [] },
  notes: [{ id: 'why', text: 'Greets in two steps', position: { x: 0, y: -150 }, color: 'blue' }],
  nodes: [
    { id: 'in', kind: 'input', config: { fields: {} } },
    {
      id: 'sub',
      kind: 'subflow',
      name: 'Greeter',
      config: {
        flow: {
          version: 1,
          id: 'greeter',
          name: 'Greeter flow',
          settings: { concurrency: 4, allowHosts: [] },
          nodes: [
            { id: 'in', kind: 'input', config: { fields: {} } },
            { id: 'greet', kind: 'skill', config: { skill: 'template', params: { template: 'Hi' } } },
          ],
          edges: [{ from: 'in', to: 'greet' }],
          notes: [{ id: 'how', text: 'Says hi', position: { x: 300, y: 160 } }],
        },
      },
    },
  ],
  edges: [{ from: 'in', to: 'sub' }],
};

const base = { v: 1 as const, runId: 'r' };
const started: RunEvent = { ...base, seq: 1, ts: 1, type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['in', 'sub'], input: {} };
const status = (seq: number, nodeId: string, s: 'running' | 'succeeded' | 'failed'): RunEvent => ({ ...base, seq, ts: seq, type: 'node.status', nodeId, status: s, attempt: 1, ...(s === 'failed' ? { error: { message: `${nodeId} broke` } } : {}) });

beforeEach(() => {
  useRun.getState().close();
  useEditor.getState().load(flow, 'f', 1);
});
afterEach(cleanup);

const show = (readOnly = false) =>
  render(
    <ReactFlowProvider>
      <div style={{ width: 800, height: 600 }}>
        <FlowCanvas readOnly={readOnly} />
      </div>
    </ReactFlowProvider>,
  );

describe('FlowCanvas: groups and notes', () => {
  it('draws the sub-flow as a group holding its inner nodes, with their live states and its progress', () => {
    show();
    const group = screen.getByTestId('node-sub');
    expect(group.textContent).toContain('Greeter');
    expect(group.textContent).toContain('2 inner nodes');
    // The inner nodes are React Flow children of the group, titled by their own ids.
    expect(screen.getByTestId('node-sub/greet').textContent).toContain('greet');
    act(() =>
      useRun.getState().receive([
        started,
        status(2, 'sub', 'running'),
        status(3, 'sub/1/in', 'running'),
        status(4, 'sub/1/in', 'succeeded'),
        status(5, 'sub/1/greet', 'running'),
      ]),
    );
    expect(screen.getByTestId('node-sub/in').dataset['status']).toBe('succeeded');
    expect(screen.getByTestId('node-sub/greet').dataset['status']).toBe('running');
    expect(screen.getByTestId('group-progress-sub').textContent).toContain('1/2 inner nodes done');
    // Folding hides the inner nodes; the group says so.
    fireEvent.click(screen.getByTestId('group-toggle-sub'));
    expect(screen.getByTestId('node-sub').dataset['collapsed']).toBe('true');
  });

  it('edits a note inline: double-click, type, leave the field; Escape leaves it unchanged', () => {
    show();
    const note = screen.getByTestId('note-why');
    expect(note.className).toContain('note-blue');
    fireEvent.doubleClick(note);
    const editor = screen.getByTestId('note-editor') as HTMLTextAreaElement;
    expect(editor.value).toBe('Greets in two steps');
    fireEvent.change(editor, { target: { value: 'Greets in two steps.\nThen waves.' } });
    fireEvent.blur(editor);
    expect(screen.getByTestId('note-text-why').textContent).toBe('Greets in two steps.\nThen waves.');
    expect(useEditor.getState().document()!.notes![0]!.text).toBe('Greets in two steps.\nThen waves.');
    fireEvent.doubleClick(screen.getByTestId('note-why'));
    fireEvent.change(screen.getByTestId('note-editor'), { target: { value: 'thrown away' } });
    fireEvent.keyDown(screen.getByTestId('note-editor'), { key: 'Escape' });
    expect(screen.getByTestId('note-text-why').textContent).toBe('Greets in two steps.\nThen waves.');
  });

  it('draws the sub-flow\'s own note inside its group, editable like the others; the group counts nodes, not notes', () => {
    show();
    expect(screen.getByTestId('node-sub').textContent).toContain('2 inner nodes');
    expect(screen.getByTestId('note-text-sub/how').textContent).toBe('Says hi');
    expect(screen.getByTestId('note-sub/how').closest('.react-flow__node')!.getAttribute('data-id')).toBe('sub/note:how');
    fireEvent.doubleClick(screen.getByTestId('note-sub/how'));
    fireEvent.change(screen.getByTestId('note-editor'), { target: { value: 'Says hi, then waits' } });
    fireEvent.blur(screen.getByTestId('note-editor'));
    const sub = useEditor.getState().document()!.nodes[1] as Extract<Flow['nodes'][number], { kind: 'subflow' }>;
    expect(sub.config.flow.notes).toEqual([{ id: 'how', text: 'Says hi, then waits', position: { x: 300, y: 160 } }]);
    expect(useEditor.getState().document()!.notes!.map((n) => n.id)).toEqual(['why']);
  });

  it('shows which inner node a failed group failed at; clicking it selects that node', () => {
    show();
    act(() =>
      useRun.getState().receive([
        started,
        status(2, 'sub', 'running'),
        status(3, 'sub/1/in', 'succeeded'),
        status(4, 'sub/1/greet', 'failed'),
        status(5, 'sub', 'failed'),
      ]),
    );
    expect(screen.getByTestId('node-sub').dataset['status']).toBe('failed');
    expect(screen.getByTestId('node-sub/greet').dataset['status']).toBe('failed');
    expect(screen.getByTestId('group-failed-sub').textContent).toBe(' at greet');
    fireEvent.click(screen.getByTestId('group-failed-link-sub/greet'));
    expect(useEditor.getState().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['sub/greet']);
  });

  it('does not open a note for editing on a read-only canvas', () => {
    show(true);
    fireEvent.doubleClick(screen.getByTestId('note-why'));
    expect(screen.queryByTestId('note-editor')).toBeNull();
  });
});

describe('FlowCanvas: edges into running nodes', () => {
  it('animates the edges into the running nodes by a stylesheet on their target, inner nodes by canvas id', () => {
    show();
    expect(screen.queryByTestId('running-edges')).toBeNull();
    act(() =>
      useRun.getState().receive([
        started,
        status(2, 'sub', 'running'),
        status(3, 'sub/1/greet', 'running'),
      ]),
    );
    const css = screen.getByTestId('running-edges').textContent ?? '';
    expect(css).toContain('.react-flow__edge[data-target="sub"] path.react-flow__edge-path');
    expect(css).toContain('[data-target="sub/greet"]');
    expect(css).not.toContain('"in"');
    expect(css).toContain('animation: dashdraw');
    act(() => useRun.getState().receive([status(4, 'sub/1/greet', 'succeeded'), status(5, 'sub', 'succeeded')]));
    expect(screen.queryByTestId('running-edges')).toBeNull();
  });
});

describe('FlowCanvas: the dot grid', () => {
  it('draws the dots for a flow of up to 300 nodes and a plain canvas past that', () => {
    const { container, unmount } = show();
    expect(container.querySelector('.react-flow__background')).not.toBeNull();
    unmount();
    const big: Flow = {
      ...flow,
      notes: [],
      nodes: [{ id: 'in', kind: 'input', config: { fields: {} } }, ...Array.from({ length: 300 }, (_, i) => ({ id: `s${i}`, kind: 'skill' as const, config: { skill: 'template', params: { template: 'x' } } }))],
      edges: [],
    };
    act(() => useEditor.getState().load(big, 'big', 1));
    const { container: bigCanvas } = show();
    expect(bigCanvas.querySelector('.react-flow__node')).not.toBeNull();
    expect(bigCanvas.querySelector('.react-flow__background')).toBeNull();
  });
});
