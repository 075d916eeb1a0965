// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flow, FlowInput } from '@loom/shared';
import { useEditor } from '../stores/editor.js';
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
