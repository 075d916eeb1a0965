// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flow, FlowInput } from '@loom/shared';
import { paletteEntries } from '../flow/palette.js';
import { flowNodeAt, useEditor } from '../stores/editor.js';
import { useMcpTools, type McpToolInfo } from '../stores/mcp.js';
import { useSkills } from '../stores/skills.js';
import { Inspector } from './Inspector.js';

// As `mcp.tools` returns them: one tool changed since it was approved (a rug pull).
const TOOLS: McpToolInfo[] = [
  { server: 'weather', tool: 'forecast', description: 'Forecast for a city', inputSchema: { type: 'object' }, state: 'approved' },
  { server: 'weather', tool: 'alerts', description: 'Storm alerts', inputSchema: { type: 'object' }, state: 'changed' },
  { server: 'weather', tool: 'gone', inputSchema: { type: 'object' }, state: 'removed' },
];

const flow: FlowInput = {
  version: 1,
  id: 'f',
  name: 'F',
  nodes: [
    { id: 'in', kind: 'input', position: { x: 0, y: 0 } },
    { id: 'ask', kind: 'mcp', config: { server: 'weather', tool: 'forecast' }, position: { x: 200, y: 0 } },
    { id: 'out', kind: 'output', position: { x: 400, y: 0 } },
  ],
  edges: [
    { from: 'in', to: 'ask' },
    { from: 'ask', to: 'out' },
  ],
};

const editor = () => useEditor.getState();
const field = (testId: string) => screen.getByTestId(testId) as HTMLSelectElement;

beforeEach(() => {
  editor().load(flow as Flow, 'f', 1);
  useSkills.setState({ skills: [], error: null });
  useMcpTools.setState({ tools: TOOLS, error: null });
  act(() => useEditor.setState({ nodes: editor().nodes.map((n) => ({ ...n, selected: n.id === 'ask' })) }));
});
afterEach(cleanup);

describe('MCP tools in the inspector', () => {
  it('picks the tool of an mcp node from the registered servers\' tools, marking a changed one', () => {
    render(<Inspector readOnly={false} />);
    const picker = field('field-server');
    expect(picker.tagName).toBe('SELECT');
    expect(picker.value).toBe('weather/forecast');
    expect([...picker.options].map((o) => o.textContent)).toEqual(['weather / forecast', 'weather / alerts (changed: needs approval)']);
    expect(screen.queryByTestId('field-tool')).toBeNull();
    fireEvent.change(picker, { target: { value: 'weather/alerts' } });
    expect(flowNodeAt(editor(), 'ask')!.config).toEqual({ server: 'weather', tool: 'alerts' });
    expect(screen.getByText(/will not run until an admin approves the change/)).toBeTruthy();
  });
});

describe('MCP tools in the palette', () => {
  it('offers each approved or changed tool as a ready mcp node, flagging changed ones', () => {
    const entries = paletteEntries([], TOOLS).filter((e) => e.group === 'MCP tools');
    expect(entries.map((e) => [e.key, e.flagged ?? false])).toEqual([
      ['mcp:weather/forecast', false],
      ['mcp:weather/alerts', true],
    ]);
    expect(entries[0]!.make('ask-2')).toEqual({ id: 'ask-2', kind: 'mcp', config: { server: 'weather', tool: 'forecast' } });
  });
});
