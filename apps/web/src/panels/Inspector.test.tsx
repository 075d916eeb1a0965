// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flow, FlowInput } from '@loom/shared';
import { flowNodeAt, useEditor } from '../stores/editor.js';
import { useSkills, type SkillInfo } from '../stores/skills.js';
import { Inspector } from './Inspector.js';

// Part of the catalogue `system.skills` returns (the engine's describeSkills output).
const CATALOGUE: SkillInfo[] = [
  {
    id: 'template',
    title: 'Template',
    description: 'Renders text with {{ expression }} placeholders over the input.',
    category: 'text',
    effect: 'pure',
    params: { type: 'object', properties: { template: { type: 'string', maxLength: 1000000 } }, required: ['template'], additionalProperties: false },
  },
  {
    id: 'delay',
    title: 'Delay',
    description: 'Waits, then passes its input on unchanged.',
    category: 'control',
    effect: 'io',
    params: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, maximum: 86400000 } }, required: ['ms'], additionalProperties: false },
  },
  {
    id: 'text.split',
    title: 'Split text',
    description: 'Splits the input text into a list by a separator.',
    category: 'text',
    effect: 'pure',
    params: {
      type: 'object',
      properties: { separator: { default: '\n', type: 'string' }, trim: { default: true, type: 'boolean' }, removeEmpty: { default: true, type: 'boolean' } },
      additionalProperties: false,
    },
  },
];

// As a person writes it: the agent leaves its defaults out.
const flow: FlowInput = {
  version: 1,
  id: 'f',
  name: 'F',
  settings: { concurrency: 4, allowHosts: [] },
  nodes: [
    { id: 'in', kind: 'input', config: { fields: {} }, position: { x: 0, y: 0 } },
    { id: 'greet', kind: 'skill', config: { skill: 'template', params: { template: 'Hi {{ name }}' } }, position: { x: 200, y: 0 } },
    { id: 'bot', kind: 'agent', config: { model: 'local/echo', prompt: '{{ $ }}', tools: [{ name: 'wait', skill: 'delay', params: { ms: 5 } }] }, position: { x: 400, y: 0 } },
    { id: 'out', kind: 'output', config: {}, position: { x: 600, y: 0 } },
  ],
  edges: [
    { from: 'in', to: 'greet' },
    { from: 'greet', to: 'bot' },
    { from: 'bot', to: 'out' },
  ],
};

const editor = () => useEditor.getState();
const nodeOf = (id: string) => flowNodeAt(editor(), id);
const field = (testId: string) => screen.getByTestId(testId) as HTMLInputElement;
const select = (id: string) => act(() => useEditor.setState({ nodes: editor().nodes.map((n) => ({ ...n, selected: n.id === id })) }));
/** Waits out the check that follows typing. */
const settle = () => act(() => new Promise((resolve) => setTimeout(resolve, 200)));

beforeEach(() => {
  editor().load(flow as Flow, 'f', 1);
  useSkills.setState({ skills: CATALOGUE, error: null });
});
afterEach(cleanup);

describe('Inspector', () => {
  it('shows the common fields and the kind\'s config form, the skill\'s parameters from the catalogue', () => {
    select('greet');
    render(<Inspector readOnly={false} />);
    expect(field('inspector-id').value).toBe('greet');
    expect(field('field-skill').tagName).toBe('SELECT');
    expect(field('field-skill').value).toBe('template');
    expect(field('field-params.template').value).toBe('Hi {{ name }}');
    expect(screen.getByText('Template parameters')).toBeTruthy();
  });

  it('starts the parameters again from the new skill\'s defaults when the skill changes', () => {
    select('greet');
    render(<Inspector readOnly={false} />);
    const before = editor().past.length;
    fireEvent.change(field('field-skill'), { target: { value: 'delay' } });
    // Delay needs `ms`: the form asks for it and the node keeps its old skill.
    expect(screen.queryByTestId('field-params.template')).toBeNull();
    expect(field('field-params.ms').value).toBe('');
    expect(screen.getByTestId('issues-params.ms').textContent).toContain('missing required field');
    expect(nodeOf('greet')!.config).toEqual({ skill: 'template', params: { template: 'Hi {{ name }}' } });
    fireEvent.change(field('field-skill'), { target: { value: 'text.split' } });
    expect(nodeOf('greet')!.config).toEqual({ skill: 'text.split', params: { separator: '\n', trim: true, removeEmpty: true } });
    expect(editor().past.length).toBe(before + 1);
  });

  it('shows an invalid value under its field and leaves the node alone', async () => {
    select('greet');
    render(<Inspector readOnly={false} />);
    fireEvent.change(field('field-skill'), { target: { value: 'delay' } });
    fireEvent.change(field('field-params.ms'), { target: { value: '-5' } });
    await settle();
    expect(screen.getByTestId('issues-params.ms').textContent).toContain('must be at least 0');
    fireEvent.change(field('inspector-id'), { target: { value: '9lives' } });
    await settle();
    expect(screen.getByTestId('issues-id').textContent).toContain('must start with a letter');
    fireEvent.focusOut(field('inspector-id'));
    fireEvent.submit(field('inspector-id').form!);
    expect(nodeOf('greet')!.config).toEqual({ skill: 'template', params: { template: 'Hi {{ name }}' } });
    expect(nodeOf('9lives')).toBeUndefined();
    expect(editor().dirty).toBe(false);
    expect(field('inspector-status').textContent).toMatch(/problems: not applied/);
  });

  it('applies a valid edit once, when the person leaves the field, as one undo step', async () => {
    select('greet');
    render(<Inspector readOnly={false} />);
    const before = editor().past.length;
    for (const text of ['G', 'Gr', 'Gre', 'Greeter']) fireEvent.change(field('inspector-name'), { target: { value: text } });
    await settle();
    expect(nodeOf('greet')!.name).toBeUndefined();
    fireEvent.focusOut(field('inspector-name'));
    expect(nodeOf('greet')!.name).toBe('Greeter');
    expect(editor().past.length).toBe(before + 1);
    // Leaving again without a change adds nothing.
    fireEvent.focusOut(field('inspector-name'));
    expect(editor().past.length).toBe(before + 1);
    act(() => editor().undo());
    expect(nodeOf('greet')!.name).toBeUndefined();
    expect(field('inspector-name').value).toBe('');
  });

  it('edits an agent tool as a skill with that skill\'s parameters', () => {
    select('bot');
    render(<Inspector readOnly={false} />);
    expect(field('field-tools.0.skill').value).toBe('delay');
    fireEvent.change(field('field-tools.0.params.ms'), { target: { value: '250' } });
    fireEvent.focusOut(field('field-tools.0.params.ms'));
    expect(nodeOf('bot')!.config).toMatchObject({ tools: [{ name: 'wait', skill: 'delay', params: { ms: 250 } }] });
  });

  it('keeps the whole config as JSON a toggle away, checked the same way', async () => {
    select('greet');
    render(<Inspector readOnly={false} />);
    fireEvent.click(field('inspector-json-toggle'));
    const json = field('inspector-config');
    expect(JSON.parse(json.value)).toEqual({ skill: 'template', params: { template: 'Hi {{ name }}' } });
    fireEvent.change(json, { target: { value: '{ "skill": "delay", "params": {' } });
    await settle();
    expect(field('inspector-json-toggle').disabled).toBe(true);
    fireEvent.change(json, { target: { value: '{ "skill": "delay", "params": { "ms": 10 } }' } });
    fireEvent.focusOut(json);
    expect(nodeOf('greet')!.config).toEqual({ skill: 'delay', params: { ms: 10 } });
    fireEvent.click(field('inspector-json-toggle'));
    expect(field('field-params.ms').value).toBe('10');
  });
});

describe('Inspector on a sub-flow drawn as a group', () => {
  const inner = { version: 1, id: 'inner', name: 'Inner', nodes: [{ id: 'in', kind: 'input' }, { id: 'greet', kind: 'skill', config: { skill: 'template', params: { template: 'Hi' } } }, { id: 'out', kind: 'output' }], edges: [{ from: 'in', to: 'greet' }, { from: 'greet', to: 'out' }] };
  const grouped = { ...flow, nodes: [...(flow as Flow).nodes, { id: 'sub', kind: 'subflow', config: { flow: inner } }] };

  beforeEach(() => editor().load(grouped as Flow, 'f', 1));

  it('shows an inner node by its own id, checks ids against its own flow, and saves the edit into config.flow', () => {
    select('sub/greet');
    render(<Inspector readOnly={false} />);
    expect(field('inspector-id').value).toBe('greet');
    // "out" is taken inside the sub-flow; "bot" only in the main flow, so it is free here.
    fireEvent.change(field('inspector-id'), { target: { value: 'out' } });
    fireEvent.focusOut(field('inspector-id'));
    expect(screen.getByTestId('issues-id').textContent).toContain('another node is already called "out"');
    fireEvent.change(field('inspector-id'), { target: { value: 'bot' } });
    fireEvent.focusOut(field('inspector-id'));
    const sub = editor().document()!.nodes.find((n) => n.id === 'sub') as Extract<Flow['nodes'][number], { kind: 'subflow' }>;
    expect(sub.config.flow.nodes.map((n) => n.id)).toEqual(['in', 'bot', 'out']);
    expect(sub.config.flow.edges).toEqual([
      { from: 'in', to: 'bot' },
      { from: 'bot', to: 'out' },
    ]);
    expect(editor().nodes.some((n) => n.id === 'sub/bot')).toBe(true);
  });

  it('shows a note\'s colour, and a change is one undoable edit', () => {
    // Above the group (a note made over it would be the sub-flow's).
    const id = editor().addNote({ x: 0, y: -300 }, 'hello');
    render(<Inspector readOnly={false} />);
    fireEvent.change(field('note-color'), { target: { value: 'blue' } });
    expect(editor().document()!.notes).toEqual([{ id: 'note', text: 'hello', position: { x: 0, y: -300 }, color: 'blue' }]);
    editor().undo();
    expect(editor().nodes.find((n) => n.id === id)).toMatchObject({ data: { note: { text: 'hello' } } });
    expect(editor().document()!.notes![0]).not.toHaveProperty('color');
  });
});
