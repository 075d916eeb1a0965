// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeConfigJsonSchema, type FlowIssue } from '@loom/shared';
import { Unfinished } from './draft.js';
import { SchemaForm } from './SchemaForm.js';
import type { JsonSchema } from './schema.js';

afterEach(cleanup);

/** The form with its value in state, as a caller holds it; every change is recorded. */
function mount(schema: JsonSchema, initial: unknown, issues: FlowIssue[] = []) {
  const changes: { value: unknown; commit: boolean }[] = [];
  function Harness() {
    const [value, setValue] = useState(initial);
    return (
      <SchemaForm
        schema={schema}
        value={value}
        issues={issues}
        onChange={(next, commit) => {
          changes.push({ value: next, commit: commit === true });
          setValue(next);
        }}
      />
    );
  }
  render(<Harness />);
  return { changes, last: () => changes.at(-1)?.value as Record<string, unknown> };
}

const field = (path: string) => screen.getByTestId(`field-${path}`) as HTMLInputElement;
const type = (path: string, value: string) => fireEvent.change(field(path), { target: { value } });

const agent = nodeConfigJsonSchema('agent') as JsonSchema;
const router = nodeConfigJsonSchema('router') as JsonSchema;

describe('SchemaForm', () => {
  it('renders one labelled field per property of a node kind\'s config, defaults as placeholders', () => {
    mount(agent, { model: 'local/echo' });
    expect(field('model').value).toBe('local/echo');
    expect(screen.getByLabelText('Model')).toBe(field('model'));
    expect(field('prompt').tagName).toBe('TEXTAREA');
    expect(field('prompt').placeholder).toBe('{{ $ }}');
    expect(field('temperature').placeholder).toBe('0');
    expect(screen.getByLabelText('Max iterations')).toBe(field('maxIterations'));
    expect(screen.getByTestId('section-tools')).toBeTruthy();
    // An optional boolean without a default has three states.
    expect(field('stream').tagName).toBe('SELECT');
  });

  it('gives the new value as the person types: text, numbers, and empty fields left out', () => {
    const form = mount(agent, { model: 'local/echo', temperature: 0.2 });
    type('model', 'openai/gpt-4o');
    expect(form.last()).toEqual({ model: 'openai/gpt-4o', temperature: 0.2 });
    expect(form.changes.at(-1)!.commit).toBe(false);
    type('temperature', '1.');
    expect(form.last()['temperature']).toBe(1);
    expect(field('temperature').value).toBe('1.'); // the text being typed is kept
    type('temperature', '1.5');
    expect(form.last()['temperature']).toBe(1.5);
    type('temperature', 'warm');
    expect(form.last()['temperature']).toBeInstanceOf(Unfinished);
    type('temperature', '');
    expect(form.last()).toEqual({ model: 'openai/gpt-4o' });
  });

  it('shows an enum as a list whose choice is a whole gesture', () => {
    const form = mount(agent, {});
    const select = field('outputFormat');
    expect(select.tagName).toBe('SELECT');
    expect([...(select as unknown as HTMLSelectElement).options].map((o) => o.textContent)).toEqual(['default (text)', 'text', 'json']);
    fireEvent.change(select, { target: { value: 'json' } });
    expect(form.changes.at(-1)).toEqual({ value: { outputFormat: 'json' }, commit: true });
    fireEvent.change(select, { target: { value: '' } });
    expect(form.last()).toEqual({});
  });

  it('adds, edits, reorders and removes list items', () => {
    const form = mount(router, { routes: [{ port: 'yes', when: 'true' }] });
    fireEvent.click(screen.getByTestId('add-routes'));
    expect(form.last()['routes']).toEqual([{ port: 'yes', when: 'true' }, {}]);
    type('routes.1.port', 'maybe');
    type('routes.1.when', 'x > 1');
    expect(form.last()['routes']).toEqual([
      { port: 'yes', when: 'true' },
      { port: 'maybe', when: 'x > 1' },
    ]);
    fireEvent.click(screen.getByTestId('up-routes.1'));
    expect((form.last()['routes'] as { port: string }[]).map((r) => r.port)).toEqual(['maybe', 'yes']);
    expect(field('routes.0.port').value).toBe('maybe');
    fireEvent.click(screen.getByTestId('remove-routes.0'));
    expect(form.last()['routes']).toEqual([{ port: 'yes', when: 'true' }]);
    expect(form.changes.at(-1)!.commit).toBe(true);
  });

  it('lists strings in rows, one input each', () => {
    const schema: JsonSchema = { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } } } };
    const form = mount(schema, { tags: ['a'] });
    fireEvent.click(screen.getByTestId('add-tags'));
    type('tags.1', 'b');
    expect(form.last()).toEqual({ tags: ['a', 'b'] });
    expect(screen.getByLabelText('Tags 2')).toBe(field('tags.1'));
  });

  it('edits a map as key/value rows, and holds clashing keys back', () => {
    const schema: JsonSchema = { type: 'object', properties: { headers: { type: 'object', additionalProperties: { type: 'string' } } } };
    const form = mount(schema, { headers: { accept: 'text/plain' } });
    expect(field('headers.accept').value).toBe('text/plain');
    fireEvent.click(screen.getByTestId('add-headers'));
    expect(form.last()).toEqual({ headers: { accept: 'text/plain', key: '' } });
    fireEvent.change(screen.getByTestId('field-headers.key-key'), { target: { value: 'accept' } });
    const clash = form.last()['headers'];
    expect(clash).toBeInstanceOf(Unfinished);
    expect((clash as Unfinished).message).toBe('the key "accept" is used twice');
    // The rows stay on screen while the key is wrong.
    expect(screen.getAllByDisplayValue('accept')).toHaveLength(2);
    fireEvent.change(screen.getAllByDisplayValue('accept')[1]!, { target: { value: 'x-token' } });
    type('headers.x-token', 'abc');
    expect(form.last()).toEqual({ headers: { accept: 'text/plain', 'x-token': 'abc' } });
    fireEvent.click(screen.getByTestId('remove-headers.accept'));
    expect(form.last()).toEqual({ headers: { 'x-token': 'abc' } });
  });

  it('edits a map of objects (an input node\'s fields) with a form per row', () => {
    const form = mount(nodeConfigJsonSchema('input') as JsonSchema, { fields: { name: { type: 'string' } } });
    fireEvent.change(field('fields.name.type'), { target: { value: 'integer' } });
    // Optional with a default: "default (no)", yes, no.
    fireEvent.change(field('fields.name.required'), { target: { value: 'true' } });
    expect(form.last()).toEqual({ fields: { name: { type: 'integer', required: true } } });
    // Any value: JSON.
    type('fields.name.default', '3');
    expect(form.last()).toEqual({ fields: { name: { type: 'integer', required: true, default: 3 } } });
  });

  it('puts each issue under its field, deeper ones under the nearest field, the rest at the top', () => {
    mount(router, { routes: [{ port: 'yes', when: 'true' }], mode: 'first' }, [
      { path: ['routes', 0, 'port'], message: 'bad port' },
      { path: ['mode'], message: 'bad mode' },
      { path: ['routes'], message: 'too many routes' },
      { path: [], message: 'unknown field "extra"' },
      { path: ['elsewhere', 'deep'], message: 'somewhere else' },
    ]);
    expect(screen.getByTestId('issues-routes.0.port').textContent).toContain('bad port');
    expect(field('routes.0.port').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByTestId('issues-mode').textContent).toContain('bad mode');
    expect(screen.getByTestId('issues-routes').textContent).toContain('too many routes');
    expect(screen.getByTestId('issues-routes').textContent).not.toContain('bad port');
    const top = screen.getByTestId('form-issues').textContent!;
    expect(top).toContain('unknown field "extra"');
    expect(top).toContain('elsewhere.deep');
    expect(top).not.toContain('bad');
  });

  it('edits what it cannot render as JSON, for that part only', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        maybe: { type: ['string', 'null'] },
        pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false },
        name: { type: 'string' },
      },
    };
    const form = mount(schema, { maybe: null });
    expect(field('maybe').tagName).toBe('TEXTAREA');
    expect(field('maybe').value).toBe('null');
    expect(field('name').tagName).toBe('INPUT');
    type('pair', '["a", ');
    expect(form.last()['pair']).toBeInstanceOf(Unfinished);
    expect((form.last()['pair'] as Unfinished).message).toMatch(/^not valid JSON/);
    type('pair', '["a", 1]');
    expect(form.last()['pair']).toEqual(['a', 1]);
    expect(field('pair').value).toBe('["a", 1]'); // the person's formatting stays
  });

  it('shows nested nodes (a recursive $ref) as collapsed JSON, and decompositions by their `by`', () => {
    mount(nodeConfigJsonSchema('supervisor') as JsonSchema, { agents: { planning: { id: 'plan', kind: 'agent', config: {} } } });
    const planning = field('agents.planning');
    expect(planning.tagName).toBe('TEXTAREA');
    const details = planning.closest('details')!;
    expect(details.open).toBe(false);
    expect(within(details.querySelector('summary')!).getByText('agent "plan"')).toBeTruthy();
    expect(details.querySelector('summary')!.textContent).toContain('Edit as JSON');

    cleanup();
    const form = mount(nodeConfigJsonSchema('master_worker') as JsonSchema, { decompose: { by: 'rule', expression: 'items' }, workers: [] });
    const by = field('decompose.by') as unknown as HTMLSelectElement;
    expect([...by.options].map((o) => o.value)).toEqual(['rule', 'node']);
    expect(field('decompose.expression').value).toBe('items');
    fireEvent.change(by, { target: { value: 'node' } });
    expect(form.last()['decompose']).toEqual({ by: 'node' });
    expect(screen.queryByTestId('field-decompose.expression')).toBeNull();
    expect(field('decompose.node').tagName).toBe('TEXTAREA');
  });

  it('disables every control when read-only', () => {
    render(<SchemaForm schema={router} value={{ routes: [{ port: 'a', when: 'b' }] }} onChange={() => undefined} readOnly />);
    expect(field('routes.0.port').disabled).toBe(true);
    expect(screen.queryByTestId('add-routes')).toBeNull();
  });
});
