import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../context/defaults.js';
import { validateFlow } from '../graph/compile.js';
import { flowDoc, run, type RunSettings } from '../test-harness.js';

/** in -> (optional delay) -> skill -> out */
function skillFlow(skill: string, params: Record<string, unknown>, options: { delayMs?: number } = {}) {
  const before = options.delayMs === undefined ? [] : [{ id: 'wait', kind: 'skill', config: { skill: 'delay', params: { ms: options.delayMs } } }];
  const chain = ['in', ...before.map((n) => n.id), 'step', 'out'];
  return flowDoc(
    [{ id: 'in', kind: 'input' }, ...before, { id: 'step', kind: 'skill', config: { skill, params } }, { id: 'out', kind: 'output' }],
    chain.slice(1).map((to, i) => ({ from: chain[i]!, to })),
  );
}

async function runSkill(skill: string, params: Record<string, unknown>, input: unknown, settings: RunSettings = {}) {
  return (await run(skillFlow(skill, params), { ...settings, input })).result;
}

async function output(skill: string, params: Record<string, unknown>, input: unknown): Promise<unknown> {
  const result = await runSkill(skill, params, input);
  if (result.status !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result.output;
}

/** The error the failing node reports (the run's error adds `node "step" failed: `). */
async function failure(skill: string, params: Record<string, unknown>, input: unknown) {
  const { result, state } = await run(skillFlow(skill, params), { input });
  expect(result.status).toBe('failed');
  expect(state.nodes['step']!.status).toBe('failed');
  return state.nodes['step']!.error!;
}

describe('template', () => {
  it('renders placeholders over the input', async () => {
    expect(await output('template', { template: 'Hello {{ user.name }}, you are {{ user.age + 1 }} next year' }, { user: { name: 'Ada', age: 36 } })).toBe(
      'Hello Ada, you are 37 next year',
    );
  });

  it('renders objects and lists as JSON and missing values as empty text', async () => {
    expect(await output('template', { template: 'obj={{ o }} list={{ l }} missing=[{{ nope }}] null=[{{ n }}] bool={{ b }}' }, { o: { a: 1 }, l: [1, 'x'], n: null, b: false })).toBe(
      'obj={"a":1} list=[1,"x"] missing=[] null=[] bool=false',
    );
  });

  it('passes text without placeholders through unchanged', async () => {
    expect(await output('template', { template: 'plain text' }, { any: 'thing' })).toBe('plain text');
  });
});

describe('json.transform', () => {
  it('reshapes the input with JSONata', async () => {
    expect(await output('json.transform', { expression: '{ "total": $sum(items.price), "names": items.name }' }, { items: [{ name: 'a', price: 2 }, { name: 'b', price: 3 }] })).toEqual({
      total: 5,
      names: ['a', 'b'],
    });
  });

  it('outputs plain JSON values, so the log reads the same after a JSON round trip', async () => {
    const { events, result } = await run(skillFlow('json.transform', { expression: '{ "names": items.name, "doubled": $map(items.n, function($v) { $v * 2 }) }' }), {
      input: { items: [{ name: 'a', n: 1 }, { name: 'b', n: 2 }] },
    });
    expect(result.output).toEqual({ names: ['a', 'b'], doubled: [2, 4] });
    expect(Object.keys((result.output as { names: string[] }).names)).toEqual(['0', '1']);
    expect(Object.getPrototypeOf(result.output)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
  });

  it('gives null, not nothing, when the expression matches nothing', async () => {
    expect(await output('json.transform', { expression: 'missing.field' }, {})).toBeNull();
  });

  it('reports an evaluation error with the expression, not retryable', async () => {
    const error = await failure('json.transform', { expression: '$number("abc") + 1' }, {});
    expect(error).toMatchObject({ code: 'expression', retryable: false, nodeId: 'step' });
    expect(error.message).toContain('expression "$number(\\"abc\\") + 1" failed');
  });
});

describe('json.extract', () => {
  const order = { order: { items: [{ sku: 'A-1' }, { sku: 'B-2' }] } };

  it('picks a value by path', async () => {
    expect(await output('json.extract', { path: 'order.items[1].sku' }, order)).toBe('B-2');
  });

  it('fails when the path finds nothing and there is no default', async () => {
    const error = await failure('json.extract', { path: 'order.customer' }, order);
    expect(error).toMatchObject({ code: 'missing_value', retryable: false });
    expect(error.message).toBe('nothing at path "order.customer" in the input');
  });

  it('uses the default when the path finds nothing, even a falsy default', async () => {
    expect(await output('json.extract', { path: 'order.customer', default: 'guest' }, order)).toBe('guest');
    expect(await output('json.extract', { path: 'order.customer', default: null }, order)).toBeNull();
    expect(await output('json.extract', { path: 'order.customer', default: 0 }, order)).toBe(0);
  });
});

describe('json.parse and json.stringify', () => {
  it('parses the input or a field of it', async () => {
    expect(await output('json.parse', {}, '{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(await output('json.parse', { field: 'body' }, { body: '[true]' })).toEqual([true]);
  });

  it('fails clearly on invalid JSON and on input that is not text', async () => {
    expect((await failure('json.parse', {}, '{oops')).message).toMatch(/^not valid JSON: /);
    const notText = await failure('json.parse', { field: 'body' }, { body: 42 });
    expect(notText).toMatchObject({ code: 'invalid_input', retryable: false });
    expect(notText.message).toBe('expected a JSON string in field "body", got number');
  });

  it('stringifies with optional indentation', async () => {
    expect(await output('json.stringify', {}, { a: 1 })).toBe('{"a":1}');
    expect(await output('json.stringify', { indent: 2 }, { a: 1 })).toBe('{\n  "a": 1\n}');
  });
});

describe('text.split and text.join', () => {
  it('splits on newlines by default, trimming and dropping empty parts', async () => {
    expect(await output('text.split', {}, ' one \n\n two\n')).toEqual(['one', 'two']);
  });

  it('keeps parts as they are when asked', async () => {
    expect(await output('text.split', { separator: ',', trim: false, removeEmpty: false }, 'a, b,,')).toEqual(['a', ' b', '', '']);
  });

  it('joins a list, writing non-text items as JSON', async () => {
    expect(await output('text.join', { separator: ' | ' }, ['a', 1, { b: 2 }])).toBe('a | 1 | {"b":2}');
  });

  it('refuses input of the wrong shape', async () => {
    expect((await failure('text.split', {}, ['not', 'text'])).message).toBe('expected text, got a list');
    expect((await failure('text.join', {}, 'not a list')).message).toBe('expected a list, got string');
  });
});

describe('constant, noop and error.throw', () => {
  it('constant ignores its input', async () => {
    expect(await output('constant', { value: { fixed: [1, 2] } }, { anything: true })).toEqual({ fixed: [1, 2] });
  });

  it('noop passes its input through', async () => {
    expect(await output('noop', {}, { same: 'value' })).toEqual({ same: 'value' });
  });

  it('error.throw fails with its rendered message and code', async () => {
    const error = await failure('error.throw', { message: 'row {{ id }} is invalid', code: 'bad_row' }, { id: 7 });
    expect(error).toMatchObject({ message: 'row 7 is invalid', code: 'bad_row', retryable: false, nodeId: 'step' });
  });
});

describe('delay', () => {
  it('waits on the injected clock, then passes its input on', async () => {
    const { result, events } = await run(skillFlow('noop', {}, { delayMs: 2500 }), { input: { v: 1 } });
    expect(result.output).toEqual({ v: 1 });
    expect(events.at(-1)!.ts - events[0]!.ts).toBe(2500);
  });
});

describe('expressions and the clock', () => {
  it('$now() and $millis() read the injected clock', async () => {
    const clock = createVirtualClock(Date.UTC(2030, 5, 15, 12, 0, 0));
    const { result } = await run(skillFlow('json.transform', { expression: '{ "now": $now(), "millis": $millis() }' }, { delayMs: 1500 }), { clock });
    expect(result.output).toEqual({ now: '2030-06-15T12:00:01.500Z', millis: Date.UTC(2030, 5, 15, 12, 0, 1, 500) });
  });

  it('$random() is refused so runs stay reproducible', async () => {
    const error = await failure('json.transform', { expression: '$random()' }, {});
    expect(error.code).toBe('expression');
    expect(error.message).toContain('$random() is not available: runs must be reproducible');
  });

  it('$run.id and $node.id name the run and the node', async () => {
    const { result } = await run(skillFlow('template', { template: '{{ $node.id }} of {{ $run.id }}' }));
    expect(result.output).toBe(`step of ${result.runId}`);
  });
});

describe('skill validation', () => {
  function issues(skill: string, params: Record<string, unknown>) {
    const result = validateFlow(skillFlow(skill, params));
    if (result.ok) throw new Error('expected the flow to be invalid');
    return result.issues;
  }

  it('names an unknown skill at config.skill and lists the available ones', () => {
    const [issue, ...rest] = issues('teleport', {});
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ path: ['nodes', 1, 'config', 'skill'], nodeId: 'step' });
    expect(issue!.message).toMatch(/^unknown skill "teleport" \(available: .*json\.transform.*\)$/);
  });

  it('names unknown parameters at config.params', () => {
    expect(issues('template', { template: 'x', colour: 'red', size: 2 })).toEqual([
      { path: ['nodes', 1, 'config', 'params'], nodeId: 'step', message: 'unknown parameters "colour", "size" for skill "template"' },
    ]);
  });

  it('locates a missing or mistyped parameter by name', () => {
    const [missing] = issues('json.extract', {});
    expect(missing!.path).toEqual(['nodes', 1, 'config', 'params', 'path']);
    const [mistyped] = issues('text.split', { trim: 'yes' });
    expect(mistyped!.path).toEqual(['nodes', 1, 'config', 'params', 'trim']);
  });

  it('reports a bad expression at the parameter that holds it', () => {
    const [issue] = issues('json.transform', { expression: '$sum(items.price' });
    expect(issue!.path).toEqual(['nodes', 1, 'config', 'params', 'expression']);
    expect(issue!.message).toContain('invalid expression "$sum(items.price"');
  });

  it('reports a bad template placeholder at its parameter', () => {
    const [unclosed] = issues('template', { template: 'Hello {{ name' });
    expect(unclosed).toMatchObject({ path: ['nodes', 1, 'config', 'params', 'template'], message: 'unclosed "{{" at character 6' });
    const [badMessage] = issues('error.throw', { message: 'oops {{ ) }}' });
    expect(badMessage!.path).toEqual(['nodes', 1, 'config', 'params', 'message']);
  });
});
