import { describe, expect, it } from 'vitest';
import { fieldPath, FLOW_LIMITS, formatFlowIssue, parseFlow, parseFlowText, type ParseFlowResult } from './parse.js';
import { NODE_KINDS, type Flow } from './schema.js';
import { flowDoc, minimalFlowDoc, skill } from './__fixtures__/flows.js';

const KINDS = NODE_KINDS.map((kind) => `"${kind}"`).join(', ');

function parsed(result: ParseFlowResult): Flow {
  if (!result.ok) throw new Error(`expected the flow to parse, got:\n${result.issues.map((i) => formatFlowIssue(i)).join('\n')}`);
  return result.flow;
}

/** The issues as a person reads them. */
function messages(result: ParseFlowResult): string[] {
  if (result.ok) throw new Error('expected the flow to be refused, but it parsed');
  return result.issues.map((issue) => formatFlowIssue(issue, 'flow.json'));
}

function text(doc: unknown): string {
  return JSON.stringify(doc, null, 2);
}

describe('parseFlowText on valid flows', () => {
  it('parses a minimal flow and fills in the defaults', () => {
    const result = parseFlowText(text(minimalFlowDoc()));
    expect(result).toEqual({
      ok: true,
      migrations: [],
      flow: {
        version: 1,
        id: 'test-flow',
        name: 'Test flow',
        settings: { concurrency: 64, allowHosts: [] },
        nodes: [
          { id: 'in', kind: 'input', config: { fields: {} } },
          { id: 'out', kind: 'output', config: {} },
        ],
        edges: [{ from: 'in', to: 'out' }],
      },
    });
  });

  it('fills retry defaults only when a node asks for retries', () => {
    const flow = parsed(
      parseFlow(
        flowDoc(
          [{ id: 'in', kind: 'input' }, skill('once'), skill('empty', { retry: {} }), skill('thrice', { retry: { maxAttempts: 3, jitter: 0.5 } }), { id: 'out', kind: 'output' }],
          [{ from: 'in', to: 'once' }, { from: 'once', to: 'empty' }, { from: 'empty', to: 'thrice' }, { from: 'thrice', to: 'out' }],
        ),
      ),
    );
    const [, once, empty, thrice] = flow.nodes;
    expect(once).not.toHaveProperty('retry');
    expect(empty!.retry).toEqual({ maxAttempts: 1, backoffMs: 200, factor: 2, maxBackoffMs: 30_000, jitter: 0 });
    expect(thrice!.retry).toEqual({ maxAttempts: 3, backoffMs: 200, factor: 2, maxBackoffMs: 30_000, jitter: 0.5 });
  });

  it('fills the defaults of every node kind\'s config', () => {
    const flow = parsed(
      parseFlow(
        flowDoc(
          [
            { id: 'in', kind: 'input', config: { fields: { topic: {} } } },
            { id: 'route', kind: 'router', config: { routes: [{ port: 'long', when: '$length(topic) > 10' }] } },
            { id: 'fetch', kind: 'skill', config: { skill: 'http.request' } },
            { id: 'write', kind: 'agent', config: {} },
            { id: 'join', kind: 'merge' },
            { id: 'out', kind: 'output' },
          ],
          [
            { from: 'in', to: 'route' },
            { from: 'route', fromPort: 'long', to: 'fetch' },
            { from: 'route', fromPort: 'default', to: 'write' },
            { from: 'fetch', to: 'join' },
            { from: 'write', to: 'join' },
            { from: 'join', to: 'out' },
          ],
        ),
      ),
    );
    const config = Object.fromEntries(flow.nodes.map((node) => [node.id, node.config]));
    expect(config).toEqual({
      in: { fields: { topic: { type: 'any', required: false } } },
      route: { routes: [{ port: 'long', when: '$length(topic) > 10' }], defaultPort: 'default', mode: 'first' },
      fetch: { skill: 'http.request', params: {} },
      write: { model: 'local/echo', prompt: '{{ $ }}', temperature: 0, tools: [], maxIterations: 6, outputFormat: 'text' },
      join: { mode: 'object' },
      out: {},
    });
  });

  it('keeps values the author wrote instead of defaults', () => {
    const flow = parsed(parseFlow({ ...minimalFlowDoc(), settings: { concurrency: 4, allowHosts: ['*.example.com'] } }));
    expect(flow.settings).toEqual({ concurrency: 4, allowHosts: ['*.example.com'] });
  });
});

describe('notes', () => {
  const note = { id: 'why', text: 'Ask legal before changing the router', position: { x: 10, y: -20 } };

  it('keeps notes as written; a flow without notes has no notes field', () => {
    const flow = parsed(parseFlow({ ...minimalFlowDoc(), notes: [note, { ...note, id: 'size', size: { width: 240, height: 160 }, color: 'blue' }] }));
    expect(flow.notes).toEqual([note, { ...note, id: 'size', size: { width: 240, height: 160 }, color: 'blue' }]);
    expect(parsed(parseFlow(minimalFlowDoc()))).not.toHaveProperty('notes');
  });

  it('refuses a note without text, with an unknown colour, or sharing an id, saying where', () => {
    const { text: _text, ...noText } = note;
    expect(messages(parseFlow({ ...minimalFlowDoc(), notes: [noText] })).join('\n')).toMatch(/notes\[0\]\.text/);
    expect(messages(parseFlow({ ...minimalFlowDoc(), notes: [{ ...note, color: 'mauve' }] })).join('\n')).toMatch(/notes\[0\]\.color/);
    expect(messages(parseFlow({ ...minimalFlowDoc(), notes: [note, note] }))).toEqual(['flow.json: field notes[1].id: duplicate note id "why"']);
  });
});

describe('parseFlow refuses invalid documents with located messages', () => {
  it('names the node and lists the kinds for an unknown node kind', () => {
    const result = parseFlow(flowDoc([{ id: 'in', kind: 'input' }, { id: 'x', kind: 'foo' } as never], [{ from: 'in', to: 'x' }]));
    expect(messages(result)).toEqual([`flow.json: node "x" field kind: unknown node kind "foo" (expected one of ${KINDS})`]);
    expect(!result.ok && result.issues[0]).toMatchObject({ nodeId: 'x', path: ['nodes', 1, 'kind'] });
  });

  it('says so when a node has no kind', () => {
    const result = parseFlow(flowDoc([{ id: 'in', kind: 'input' }, { id: 'x' } as never], [{ from: 'in', to: 'x' }]));
    expect(messages(result)).toEqual([`flow.json: node "x" field kind: missing "kind" (one of ${KINDS})`]);
  });

  it('names a missing required field, inside a node or at the top', () => {
    const missingSkill = flowDoc([{ id: 'in', kind: 'input' }, { id: 'fetch', kind: 'skill', config: {} } as never], [{ from: 'in', to: 'fetch' }]);
    expect(messages(parseFlow(missingSkill))).toEqual(['flow.json: node "fetch" field config.skill: missing required field (string)']);

    const { name: _name, ...nameless } = minimalFlowDoc();
    expect(messages(parseFlow(nameless))).toEqual(['flow.json: field name: missing required field (string)']);
  });

  it('names unknown fields, on a node and at the top', () => {
    const doc = minimalFlowDoc();
    const withColour = { ...doc, nodes: [doc.nodes[0], { ...doc.nodes[1], colour: 'red' }] };
    expect(messages(parseFlow(withColour))).toEqual(['flow.json: node "out": unknown field "colour"']);
    expect(messages(parseFlow({ ...doc, author: 'me', tags: [] }))).toEqual(['flow.json: unknown fields "author", "tags"']);
  });

  it('locates a bad value deep inside a node', () => {
    const doc = flowDoc(
      [{ id: 'in', kind: 'input' }, { id: 'route', kind: 'router', config: { routes: [{ port: 'a', when: 'x' }, { port: 'b', when: '' }] } }],
      [{ from: 'in', to: 'route' }],
    );
    const [message] = messages(parseFlow(doc));
    expect(message).toMatch(/^flow\.json: node "route" field config\.routes\[1\]\.when: /);
  });

  it('reports every problem, not only the first', () => {
    const doc = { ...minimalFlowDoc(), settings: { concurrency: 0 }, edges: [{ from: 'in', to: 'out', colour: 'red' }] };
    const found = messages(parseFlow(doc));
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^flow\.json: field settings\.concurrency: /);
    expect(found[1]).toBe('flow.json: field edges[0]: unknown field "colour"');
  });

  it('refuses a document that is not an object', () => {
    for (const doc of [[], null, 'flow', 1]) {
      expect(messages(parseFlow(doc))).toEqual(['flow.json: a flow must be a JSON object with "version", "id", "name", "nodes" and "edges"']);
    }
  });

  it('refuses reserved node ids such as __proto__', () => {
    const doc = flowDoc([{ id: '__proto__', kind: 'input' }, { id: 'out', kind: 'output' }], [{ from: '__proto__', to: 'out' }]);
    const found = messages(parseFlow(doc));
    expect(found).toContain('flow.json: node "__proto__" field id: is a reserved name');
    expect(messages(parseFlow({ ...minimalFlowDoc(), id: 'constructor' }))).toEqual(['flow.json: field id: is a reserved name']);
  });
});

describe('parseFlow checks the version', () => {
  it('refuses a file without a version', () => {
    const { version: _version, ...unversioned } = minimalFlowDoc();
    const result = parseFlow(unversioned);
    expect(!result.ok && result.issues).toEqual([{ path: ['version'], message: expect.stringContaining('missing "version"') }]);
  });

  it('refuses a file from a newer release and says to upgrade', () => {
    expect(messages(parseFlow({ ...minimalFlowDoc(), version: 99 }))).toEqual([
      'flow.json: field version: flow format 99 is newer than this build understands (1); upgrade to open it',
    ]);
  });

  it('refuses a version that is not a positive integer', () => {
    for (const version of ['1', 0, 1.5, null]) {
      expect(messages(parseFlow({ ...minimalFlowDoc(), version }))).toEqual([
        `flow.json: field version: "version" must be a positive integer, got ${JSON.stringify(version)}`,
      ]);
    }
  });
});

describe('parseFlowText guards against hostile text', () => {
  it('reports malformed JSON with its line and column', () => {
    const result = parseFlowText('{\n  "version": 1,\n  "id": "f",\n  oops\n}');
    expect(messages(result)).toEqual([expect.stringMatching(/^flow\.json: not valid JSON: .* at line 4, column 3$/)]);
  });

  it('reports a trailing comma on the right line', () => {
    const [message] = messages(parseFlowText('{\n  "nodes": [],\n  "edges": [],\n}\n'));
    expect(message).toMatch(/at line 4, column 1$/);
  });

  it('locates an unquoted value and a trailing comma in an array', () => {
    // V8 gives no position for these, the most common hand-editing slips.
    expect(messages(parseFlowText('{\n  "version": 1,\n  "name": Tides\n}'))).toEqual([
      "flow.json: not valid JSON: Unexpected token 'T' at line 3, column 11",
    ]);
    expect(messages(parseFlowText('{\n  "nodes": [\n    {"id": "in", "kind": "input"},\n  ]\n}'))).toEqual([
      "flow.json: not valid JSON: Unexpected token ']' at line 4, column 3",
    ]);
  });

  it('locates text after the end of the flow', () => {
    expect(messages(parseFlowText(`${text(minimalFlowDoc())}\n}`))).toEqual([
      `flow.json: not valid JSON: Unexpected non-whitespace character after JSON at line ${text(minimalFlowDoc()).split('\n').length + 1}, column 1`,
    ]);
  });

  it('reports empty text as invalid JSON', () => {
    expect(messages(parseFlowText(''))).toEqual([expect.stringMatching(/^flow\.json: not valid JSON: /)]);
  });

  it('accepts a file of exactly the size limit and refuses one byte more, naming the limit', () => {
    const body = text(minimalFlowDoc());
    const atLimit = body + ' '.repeat(FLOW_LIMITS.maxBytes - body.length);
    expect(parseFlowText(atLimit).ok).toBe(true);
    expect(messages(parseFlowText(atLimit + ' '))).toEqual([
      `flow.json: file is ${FLOW_LIMITS.maxBytes + 1} bytes; the limit is ${FLOW_LIMITS.maxBytes} bytes`,
    ]);
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    // "é" is 2 bytes: half as many characters as the limit still exceed it.
    const description = 'é'.repeat(Math.ceil(FLOW_LIMITS.maxBytes / 2));
    const wide = text({ ...minimalFlowDoc(), description });
    expect(wide.length).toBeLessThan(FLOW_LIMITS.maxBytes);
    expect(messages(parseFlowText(wide))[0]).toContain(`the limit is ${FLOW_LIMITS.maxBytes} bytes`);
  });

  it(`accepts ${FLOW_LIMITS.maxDepth} levels of nesting and refuses one more`, () => {
    // The flow object, nodes, the node, config and params are 5 levels; params nest further.
    const withParamsDepth = (levels: number) => {
      let params: Record<string, unknown> = {};
      for (let i = 0; i < levels; i++) params = { deeper: params };
      return text(flowDoc([{ id: 'in', kind: 'input' }, skill('s', { config: { skill: 'template', params } })], [{ from: 'in', to: 's' }]));
    };
    expect(parseFlowText(withParamsDepth(FLOW_LIMITS.maxDepth - 5)).ok).toBe(true);
    const [message] = messages(parseFlowText(withParamsDepth(FLOW_LIMITS.maxDepth - 4)));
    expect(message).toMatch(new RegExp(`^flow\\.json: field nodes\\[1\\]\\.config\\.params(\\.deeper)+: nested deeper than ${FLOW_LIMITS.maxDepth} levels$`));
  });

  it('refuses 100,000 levels of nesting without overflowing the stack', () => {
    const n = 100_000;
    expect(messages(parseFlowText('['.repeat(n) + ']'.repeat(n)))[0]).toMatch(/nested deeper than 128 levels$/);
  });

  it('refuses __proto__, constructor and prototype keys anywhere', () => {
    const proto = '{"version":1,"id":"f","name":"F","nodes":[{"id":"in","kind":"input","__proto__":{"polluted":true}}],"edges":[]}';
    expect(messages(parseFlowText(proto))).toEqual(['flow.json: field nodes[0].__proto__: key "__proto__" is not allowed']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();

    const ctor = text(flowDoc([{ id: 'in', kind: 'input' }, skill('s', { config: { skill: 'template', params: { constructor: 1 } } })], [{ from: 'in', to: 's' }]));
    expect(messages(parseFlowText(ctor))).toEqual(['flow.json: field nodes[1].config.params.constructor: key "constructor" is not allowed']);
  });

  it('refuses a node id of __proto__ written as text', () => {
    const doc = '{"version":1,"id":"f","name":"F","nodes":[{"id":"__proto__","kind":"input"}],"edges":[]}';
    expect(messages(parseFlowText(doc))).toEqual(['flow.json: node "__proto__" field id: is a reserved name']);
  });
});

describe('formatFlowIssue', () => {
  it('puts the source, the node and the field before the message', () => {
    expect(formatFlowIssue({ path: ['nodes', 2, 'config', 'skill'], nodeId: 'fetch', message: 'bad' }, 'flows/a.json')).toBe(
      'flows/a.json: node "fetch" field config.skill: bad',
    );
  });

  it('leaves out what it does not know', () => {
    expect(formatFlowIssue({ path: [], message: 'bad' })).toBe('bad');
    expect(formatFlowIssue({ path: ['nodes', 2], nodeId: 'fetch', message: 'bad' })).toBe('node "fetch": bad');
    expect(formatFlowIssue({ path: ['edges', 0, 'to'], message: 'bad' })).toBe('field edges[0].to: bad');
  });
});

describe('fieldPath', () => {
  it('writes paths as people write them, relative to the node when inside one', () => {
    const path = ['nodes', 3, 'config', 'routes', 0, 'when'];
    expect(fieldPath(path, true)).toBe('config.routes[0].when');
    expect(fieldPath(path, false)).toBe('nodes[3].config.routes[0].when');
    expect(fieldPath([0, 1], false)).toBe('[0][1]');
  });
});
