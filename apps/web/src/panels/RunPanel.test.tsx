// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flow, FlowInput, RunEvent } from '@loom/shared';
import { useEditor } from '../stores/editor.js';
import { useRun } from '../stores/run.js';
import { RunPanel } from './RunPanel.js';

const flow: FlowInput = {
  version: 1,
  id: 'f',
  name: 'F',
  nodes: [
    {
      id: 'in',
      kind: 'input',
      config: { fields: { subject: { type: 'string', required: true, description: 'What it is about' }, count: { type: 'integer', default: 2 }, urgent: { type: 'boolean' }, extra: { type: 'object' } } },
    },
    { id: 'out', kind: 'output' },
  ],
  edges: [{ from: 'in', to: 'out' }],
};

const field = (path: string) => screen.getByTestId(`field-${path}`) as HTMLInputElement;

beforeEach(() => useEditor.getState().load(flow as Flow, 'f', 1));
afterEach(cleanup);

describe('RunTab input', () => {
  it('renders the declared input fields, filled from the sample input and the defaults', () => {
    render(<RunPanel flowId="f" sampleInput={{ subject: 'Hello' }} onBeforeRun={async () => true} />);
    expect(field('subject').value).toBe('Hello');
    expect(screen.getByText('What it is about')).toBeTruthy();
    expect(field('count').value).toBe('2');
    expect(field('urgent').tagName).toBe('SELECT');
    expect(field('extra').tagName).toBe('TEXTAREA');
  });

  it('does not run with a missing or mistyped field, and says which', async () => {
    let runs = 0;
    render(
      <RunPanel
        flowId="f"
        sampleInput={{}}
        onBeforeRun={async () => {
          runs++;
          return false;
        }}
      />,
    );
    fireEvent.change(field('count'), { target: { value: '2.5' } });
    expect(screen.getByTestId('issues-count').textContent).toContain('must be a whole number');
    // Missing fields are not flagged before the first try.
    expect(screen.queryByTestId('issues-subject')).toBeNull();
    await act(async () => fireEvent.click(screen.getByTestId('run-button')));
    expect(runs).toBe(0);
    expect(screen.getByTestId('issues-subject').textContent).toContain('missing required field');
    fireEvent.change(field('subject'), { target: { value: 'Hi' } });
    fireEvent.change(field('count'), { target: { value: '3' } });
    await act(async () => fireEvent.click(screen.getByTestId('run-button')));
    expect(runs).toBe(1);
  });

  it('switches to the raw JSON and back', () => {
    render(<RunPanel flowId="f" sampleInput={{ subject: 'Hello' }} onBeforeRun={async () => true} />);
    fireEvent.change(field('subject'), { target: { value: 'Changed' } });
    fireEvent.click(screen.getByTestId('run-input-toggle'));
    const json = screen.getByTestId('run-input') as HTMLTextAreaElement;
    expect(JSON.parse(json.value)).toEqual({ subject: 'Changed', count: 2 });
    fireEvent.change(json, { target: { value: '{ "subject": "From JSON", "urgent": true }' } });
    fireEvent.click(screen.getByTestId('run-input-toggle'));
    expect(field('subject').value).toBe('From JSON');
    expect(field('urgent').value).toBe('true');
  });

  it('keeps the JSON field when the flow declares no input fields', () => {
    act(() => useEditor.getState().load({ ...(flow as Flow), nodes: [{ id: 'in', kind: 'input', config: { fields: {} } }, { id: 'out', kind: 'output', config: {} }] }, 'f', 1));
    render(<RunPanel flowId="f" sampleInput={{ a: 1 }} onBeforeRun={async () => true} />);
    expect(JSON.parse((screen.getByTestId('run-input') as HTMLTextAreaElement).value)).toEqual({ a: 1 });
    expect(screen.queryByTestId('run-input-toggle')).toBeNull();
  });
});

describe('ReplayBar', () => {
  const base = { v: 1, runId: 'r1', ts: 1_000 } as const;
  const finishedRun: RunEvent[] = [
    { ...base, seq: 1, type: 'run.started', flowId: 'f', flowHash: 'h', nodeIds: ['in', 'out'], input: { subject: 'From the run' } },
    { ...base, seq: 2, type: 'node.status', nodeId: 'in', status: 'running', attempt: 1 },
    { ...base, seq: 3, type: 'node.status', nodeId: 'in', status: 'succeeded', attempt: 1, output: {} },
    { ...base, seq: 4, type: 'node.status', nodeId: 'out', status: 'running', attempt: 1 },
    { ...base, seq: 5, type: 'node.status', nodeId: 'out', status: 'succeeded', attempt: 1, output: {} },
    { ...base, seq: 6, type: 'run.finished', status: 'succeeded', output: {} },
  ];
  afterEach(() => useRun.getState().close());

  it('plays and forks a finished run even when scrubbed back to where it was still running', () => {
    useRun.setState({ runId: 'r1' });
    act(() => useRun.getState().receive(finishedRun));
    render(<RunPanel flowId="f" sampleInput={{}} onBeforeRun={async () => true} />);
    act(() => useRun.getState().seek(2));
    expect(useRun.getState().state.status).toBe('running');
    expect(screen.getByTestId('replay-position').textContent).toBe('2/6 events');
    expect((screen.getByTestId('replay-play') as HTMLButtonElement).disabled).toBe(false);
    // The run is over: no Cancel, though the state at the cursor is "running"; nothing to resume.
    expect(screen.queryByTestId('cancel-button')).toBeNull();
    expect(screen.queryByTestId('resume-button')).toBeNull();
    // The form shows the input the run started with.
    expect(field('subject').value).toBe('From the run');
    const fork = screen.getByTestId('fork-button') as HTMLButtonElement;
    expect(fork.disabled).toBe(true); // no node selected yet
    act(() => useEditor.setState({ nodes: useEditor.getState().nodes.map((n) => ({ ...n, selected: n.id === 'out' })) }));
    expect(fork.textContent).toBe('Fork from out');
    expect(fork.disabled).toBe(false);
    // A note is not a node to fork from; an inner node of a group forks from its group.
    act(() => void useEditor.getState().addNote({ x: 0, y: 0 }, 'not run'));
    expect(fork.disabled).toBe(true);
    act(() =>
      useEditor.setState({
        nodes: [
          ...useEditor.getState().nodes.map((n) => ({ ...n, selected: false })),
          { id: 'group', type: 'subflow' as const, position: { x: 0, y: 0 }, data: { node: { id: 'group', kind: 'output' as const, config: {} } } },
          { id: 'group/inner', type: 'loom' as const, parentId: 'group', selected: true, position: { x: 0, y: 0 }, data: { node: { id: 'inner', kind: 'output' as const, config: {} } } },
        ],
      }),
    );
    expect(fork.textContent).toBe('Fork from group');
  });

  it('neither plays nor forks a run that is still going', () => {
    useRun.setState({ runId: 'r1' });
    act(() => useRun.getState().receive(finishedRun.slice(0, 4)));
    act(() => useEditor.setState({ nodes: useEditor.getState().nodes.map((n) => ({ ...n, selected: n.id === 'in' })) }));
    render(<RunPanel flowId="f" sampleInput={{}} onBeforeRun={async () => true} />);
    expect((screen.getByTestId('replay-play') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('fork-button') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('cancel-button')).toBeTruthy();
  });
});

describe('RunTab errors', () => {
  // in -> sub (a sub-flow: in -> boom) -> out
  const grouped: FlowInput = {
    version: 1,
    id: 'g',
    name: 'G',
    nodes: [
      { id: 'in', kind: 'input' },
      { id: 'sub', kind: 'subflow', config: { flow: { version: 1, id: 'inner', name: 'Inner', nodes: [{ id: 'in', kind: 'input' }, { id: 'boom', kind: 'skill', config: { skill: 'template', params: { template: 'x' } } }], edges: [{ from: 'in', to: 'boom' }] } } },
      { id: 'out', kind: 'output' },
    ],
    edges: [
      { from: 'in', to: 'sub' },
      { from: 'sub', to: 'out' },
    ],
  };
  const base = { v: 1, runId: 'r2', ts: 1_000 } as const;
  const failedRun: RunEvent[] = [
    { ...base, seq: 1, type: 'run.started', flowId: 'g', flowHash: 'h', nodeIds: ['in', 'sub', 'out'], input: {} },
    { ...base, seq: 2, type: 'node.status', nodeId: 'sub', status: 'running', attempt: 1 },
    { ...base, seq: 3, type: 'node.status', nodeId: 'sub/1/boom', status: 'running', attempt: 1 },
    { ...base, seq: 4, type: 'node.status', nodeId: 'sub/1/boom', status: 'failed', attempt: 1, error: { message: 'it broke' } },
    { ...base, seq: 5, type: 'node.status', nodeId: 'sub', status: 'failed', attempt: 1, error: { message: 'sub-flow "inner" failed: it broke' } },
    { ...base, seq: 6, type: 'run.finished', status: 'failed', error: { message: 'node "sub" failed' } },
  ];
  beforeEach(() => {
    useEditor.getState().load(grouped as Flow, 'g', 1);
    useRun.setState({ runId: 'r2' });
    act(() => useRun.getState().receive(failedRun));
  });
  afterEach(() => useRun.getState().close());

  it('names a failed inner node by where it is drawn; clicking it opens its folded group and selects it', () => {
    useEditor.getState().toggleGroup('sub');
    render(<RunPanel flowId="g" sampleInput={{}} onBeforeRun={async () => true} />);
    expect(screen.getByTestId('run-error-sub/boom').textContent).toBe('sub/boom failed: it broke');
    expect(screen.getByTestId('run-error-sub').textContent).toContain('sub failed');
    fireEvent.click(screen.getByTestId('run-error-sub/boom'));
    const nodes = useEditor.getState().nodes;
    expect(nodes.find((n) => n.id === 'sub')).not.toHaveProperty('data.collapsed');
    expect(nodes.find((n) => n.id === 'sub/boom')!.hidden).toBeFalsy();
    expect(nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['sub/boom']);
  });

  it('hands the canvas id to the editor, which centres the node', () => {
    const shown: string[] = [];
    render(<RunPanel flowId="g" sampleInput={{}} onBeforeRun={async () => true} onShowNode={(id) => shown.push(id)} />);
    fireEvent.keyDown(screen.getByTestId('run-error-sub/boom'), { key: 'Enter' });
    fireEvent.click(screen.getByTestId('run-error-sub'));
    expect(shown).toEqual(['sub/boom', 'sub']);
  });
});
