import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  exportFlow,
  findFlowSecrets,
  FLOW_EXPORT_FORMAT,
  FLOW_EXPORT_FORMAT_VERSION,
  flowCredentials,
  parseFlowExport,
  type ParseFlowExportResult,
} from './export.js';
import type { FlowMigration } from './migrations.js';
import { FLOW_LIMITS, formatFlowIssue, parseFlow, parseFlowText, type FlowIssue } from './parse.js';
import type { Flow, FlowInput } from './schema.js';
import { flowDoc, minimalFlowDoc, skill } from './__fixtures__/flows.js';

/**
 * The example flows, as text. `packages/shared` may not import node builtins, tests included
 * (see .dependency-cruiser.cjs), so vitest's `import.meta.glob` reads them instead of node:fs.
 */
// @ts-expect-error `import.meta.glob` is vite's, compiled by vitest; the repo does not load vite's client types.
const exampleFiles = import.meta.glob(['../../../../examples/*.json', '!../../../../examples/*.golden.json'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const examples = Object.entries(exampleFiles).map(([path, text]) => ({ name: path.slice(path.lastIndexOf('/') + 1), text }));

const META = { name: 'Shared flow', description: 'For the team', exportedAt: '2025-01-02T03:04:05.000Z' };

function flowOf(doc: unknown): Flow {
  const result = parseFlow(doc);
  if (!result.ok) throw new Error(`fixture flow is invalid:\n${result.issues.map((i) => formatFlowIssue(i)).join('\n')}`);
  return result.flow;
}

function imported(result: ParseFlowExportResult): Extract<ParseFlowExportResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected the file to import, got:\n${result.issues.map((i) => formatFlowIssue(i)).join('\n')}`);
  return result;
}

function issues(result: ParseFlowExportResult): FlowIssue[] {
  if (result.ok) throw new Error('expected the file to be refused, but it imported');
  return result.issues;
}

function envelope(flow: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: FLOW_EXPORT_FORMAT,
    formatVersion: FLOW_EXPORT_FORMAT_VERSION,
    exportedAt: META.exportedAt,
    name: 'Hand-made',
    flow,
    credentials: [],
    strippedSecrets: [],
    ...extra,
  };
}

const json = (doc: unknown): string => JSON.stringify(doc, null, 2);

describe('exportFlow -> parseFlowExport round trip', () => {
  it('finds the example flows', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
    expect(examples.map((e) => e.name)).toContain('nested-patterns.json');
    expect(examples.some((e) => e.name.endsWith('.golden.json'))).toBe(false);
  });

  it.each(examples)('$name comes back as the same flow, with nothing stripped', ({ text }) => {
    const flow = flowOf(JSON.parse(text));
    const { file, text: exported } = exportFlow(flow, META);
    expect(file.strippedSecrets).toEqual([]);
    expect(file.credentials).toEqual([]);
    expect(JSON.parse(exported)).toEqual(file);

    const back = imported(parseFlowExport(exported));
    expect(back.flow).toEqual(flow);
    expect(back).toMatchObject({ name: META.name, description: META.description, credentials: [], warnings: [] });
    expect(back).not.toHaveProperty('migratedFrom');
  });

  it.each(examples)('$name imports as a bare flow file, named by its own name', ({ text }) => {
    const expected = parseFlowText(text);
    if (!expected.ok) throw new Error('example does not parse');
    const back = imported(parseFlowExport(text));
    expect(back.flow).toEqual(expected.flow);
    expect(back.name).toBe(expected.flow.name);
    expect(back.description).toBe(expected.flow.description);
    expect(back.warnings).toEqual([]);
  });

  it('writes the same bytes for the same flow: 2-space JSON, envelope first, newline at the end', () => {
    const flow = flowOf(minimalFlowDoc());
    const { text } = exportFlow(flow, META);
    expect(exportFlow(flowOf(minimalFlowDoc()), { ...META }).text).toBe(text);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n').slice(0, 7)).toEqual([
      '{',
      '  "format": "loom.flow",',
      '  "formatVersion": 1,',
      '  "exportedAt": "2025-01-02T03:04:05.000Z",',
      '  "name": "Shared flow",',
      '  "description": "For the team",',
      '  "flow": {',
    ]);
  });

  it('leaves description out when there is none', () => {
    const { file, text } = exportFlow(flowOf(minimalFlowDoc()), { name: 'x', exportedAt: META.exportedAt });
    expect(file).not.toHaveProperty('description');
    expect(imported(parseFlowExport(text))).not.toHaveProperty('description');
  });

  it('refuses metadata that would make a file it cannot read back', () => {
    const flow = flowOf(minimalFlowDoc());
    expect(() => exportFlow(flow, { ...META, exportedAt: 'yesterday' })).toThrow(/exportedAt/);
    expect(() => exportFlow(flow, { ...META, name: '' })).toThrow(/name/);
  });

  it('round-trips a flow nested right up to the depth limit', () => {
    // Inside the file the flow sits one level down; its depth still counts from the flow.
    let params: Record<string, unknown> = {};
    for (let i = 0; i < FLOW_LIMITS.maxDepth - 5; i++) params = { deeper: params };
    const flow = flowOf(flowDoc([{ id: 'in', kind: 'input' }, skill('s', { config: { skill: 'template', params } })], [{ from: 'in', to: 's' }]));
    expect(imported(parseFlowExport(exportFlow(flow, META).text)).flow).toEqual(flow);
  });
});

/** A flow with secrets at every level it can hide them, and credential references beside them. */
function leakyFlowDoc(): FlowInput {
  const inner: FlowInput = {
    version: 1,
    id: 'inner',
    name: 'Inner',
    nodes: [
      { id: 'i', kind: 'input' },
      {
        id: 'call',
        kind: 'skill',
        config: {
          skill: 'http.request',
          params: { url: 'https://slack.example.com/post', headers: { authorization: 'Basic dXNlcjpwYXNz' }, auth: { credential: 'slack' }, password: 'hunter2' },
        },
      },
      { id: 'o', kind: 'output' },
    ],
    edges: [{ from: 'i', to: 'call' }, { from: 'call', to: 'o' }],
  };
  return flowDoc(
    [
      { id: 'in', kind: 'input', config: { fields: { region: { type: 'string', default: 'AKIAABCDEFGHIJKLMNOP' } } } },
      {
        id: 'fetch',
        kind: 'skill',
        config: {
          skill: 'http.request',
          params: {
            url: 'https://api.example.com/items',
            headers: {
              Authorization: 'Bearer abc123',
              'x-api-key': '{{ apiKey }}',
              Cookie: '',
              Accept: 'application/json',
              'Proxy-Authorization': "{{ 'Basic abc' }}",
            },
            auth: { credential: 'github', header: 'Authorization', prefix: 'Bearer ' },
          },
        },
      },
      {
        id: 'write',
        kind: 'agent',
        config: {
          maxTokens: 500,
          tools: [
            {
              name: 'search',
              skill: 'http.request',
              params: { apiKey: 'k-123', token: '{{ token }}', auth: { credential: 'github' }, note: 'task-abcdefghijklmnopqrstuvwxyz', retries: 3 },
            },
          ],
        },
      },
      {
        id: 'steps',
        kind: 'chain',
        config: {
          steps: [
            {
              id: 'ask',
              skill: 'template',
              params: { template: 'key: sk-abcdefghijklmnopqrstuvwx', client_secret: 'shh', key: { credential: 'aws' }, list: ['xoxb-1234567890-abcdef', 'plain'] },
            },
          ],
        },
      },
      {
        id: 'desk',
        kind: 'master_worker',
        config: {
          decompose: { by: 'rule', expression: '[$]' },
          workers: [{ id: 'w', node: { id: 'sub', kind: 'subflow', config: { flow: inner } } }],
        },
      },
      { id: 'out', kind: 'output' },
    ],
    [
      { from: 'in', to: 'fetch' },
      { from: 'fetch', to: 'write' },
      { from: 'write', to: 'steps' },
      { from: 'steps', to: 'desk' },
      { from: 'desk', to: 'out' },
    ],
  );
}

const INNER = 'nodes[4].config.workers[0].node.config.flow.nodes[1].config.params';
const LEAKS = [
  { path: 'nodes[0].config.fields.region.default', reason: 'looks like an AWS access key id ("AKIA...")' },
  { path: 'nodes[1].config.params.headers.Authorization', reason: 'value of the "Authorization" header, which carries credentials' },
  { path: 'nodes[1].config.params.headers.Proxy-Authorization', reason: 'value of the "Proxy-Authorization" header, which carries credentials' },
  { path: 'nodes[2].config.tools[0].params.apiKey', reason: '"apiKey" names a secret' },
  { path: 'nodes[3].config.steps[0].params.template', reason: 'looks like an API secret key ("sk-...")' },
  { path: 'nodes[3].config.steps[0].params.client_secret', reason: '"client_secret" names a secret' },
  { path: 'nodes[3].config.steps[0].params.list[0]', reason: 'looks like a Slack token ("xoxb-..." or "xoxp-...")' },
  { path: `${INNER}.headers.authorization`, reason: 'value of the "authorization" header, which carries credentials' },
  { path: `${INNER}.password`, reason: '"password" names a secret' },
];

describe('exportFlow strips secrets', () => {
  it('blanks every literal secret, at any depth, and lists where and why', () => {
    const { file } = exportFlow(flowOf(leakyFlowDoc()), META);
    expect(file.strippedSecrets).toEqual(LEAKS);

    const [input, fetch, write, steps, desk] = file.flow.nodes;
    expect(input!.kind === 'input' && input!.config.fields['region']!.default).toBe('');
    expect(fetch!.kind === 'skill' && fetch!.config.params).toEqual({
      url: 'https://api.example.com/items',
      headers: { Authorization: '', 'x-api-key': '{{ apiKey }}', Cookie: '', Accept: 'application/json', 'Proxy-Authorization': '' },
      auth: { credential: 'github', header: 'Authorization', prefix: 'Bearer ' },
    });
    expect(write!.kind === 'agent' && write!.config.tools[0]!.params).toEqual({
      apiKey: '',
      token: '{{ token }}',
      auth: { credential: 'github' },
      note: 'task-abcdefghijklmnopqrstuvwxyz',
      retries: 3,
    });
    expect(write!.kind === 'agent' && write!.config.maxTokens).toBe(500);
    expect(steps!.kind === 'chain' && steps!.config.steps[0]!.params).toEqual({ template: '', client_secret: '', key: { credential: 'aws' }, list: ['', 'plain'] });
    const worker = desk!.kind === 'master_worker' ? desk!.config.workers[0]!.node : undefined;
    const call = worker?.kind === 'subflow' ? worker.config.flow.nodes[1] : undefined;
    expect(call?.kind === 'skill' && call.config.params).toEqual({
      url: 'https://slack.example.com/post',
      headers: { authorization: '' },
      auth: { credential: 'slack' },
      password: '',
    });
  });

  it('keeps credential references and lists their names once, sorted', () => {
    const { file } = exportFlow(flowOf(leakyFlowDoc()), META);
    expect(file.credentials).toEqual(['aws', 'github', 'slack']);
    expect(flowCredentials(flowOf(leakyFlowDoc()))).toEqual(['aws', 'github', 'slack']);
  });

  it('leaves no secret in the text', () => {
    const { text } = exportFlow(flowOf(leakyFlowDoc()), META);
    for (const secret of ['abc123', 'Basic abc', 'k-123', 'key: sk-', 'shh', 'xoxb-1234567890', 'dXNlcjpwYXNz', 'hunter2', 'AKIAABCD']) {
      expect(text).not.toContain(secret);
    }
  });

  it('does not change the flow it was given', () => {
    const flow = flowOf(leakyFlowDoc());
    const before = structuredClone(flow);
    exportFlow(flow, META);
    expect(findFlowSecrets(flow)).toEqual(LEAKS);
    expect(flow).toEqual(before);
    expect(flowOf(leakyFlowDoc())).toEqual(before);
  });

  it('strips a credential name that is itself a key, instead of listing it', () => {
    const token = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
    const flow = flowOf(flowDoc([{ id: 'in', kind: 'input' }, skill('s', { config: { skill: 'http.request', params: { auth: { credential: token } } } })], [{ from: 'in', to: 's' }]));
    const { file } = exportFlow(flow, META);
    expect(file.credentials).toEqual([]);
    expect(file.strippedSecrets).toEqual([{ path: 'nodes[1].config.params.auth.credential', reason: 'looks like a GitHub personal access token ("ghp_...")' }]);
  });

  it('matches secret keys and headers whatever their case, and each key shape', () => {
    const params = {
      PASSWORD: 'a',
      'Access-Token': 'b',
      private_key: 'c',
      Bearer: 'd',
      headers: { COOKIE: 'e', 'X-Auth-Token': 'f', 'Api-Key': 'g', 'X-Request-Id': 'not a secret' },
      shapes: ['github_pat_abcdefghijklmnopqrstuvwxyz', 'xoxp-1234567890-abc', 'sk-short', 'ghp_short', 'AKIAABCDEFGHIJKLMNOPQ'],
      tokens: 'plural is a count, not a token',
      '{{ x }} and text': 'plain',
    };
    const flow = flowOf(flowDoc([{ id: 'in', kind: 'input' }, skill('s', { config: { skill: 'x', params } })], [{ from: 'in', to: 's' }]));
    expect(findFlowSecrets(flow).map((s) => s.path.replace('nodes[1].config.params.', ''))).toEqual([
      'PASSWORD',
      'Access-Token',
      'private_key',
      'Bearer',
      'headers.COOKIE',
      'headers.X-Auth-Token',
      'headers.Api-Key',
      'shapes[0]',
      'shapes[1]',
    ]);
  });

  it('strips a secret header written as literal text around a template', () => {
    const headers = { Authorization: 'Bearer {{ token }}', 'X-Api-Key': '{{ a }}{{ b }}', Cookie: '{{ }}' };
    const flow = flowOf(flowDoc([{ id: 'in', kind: 'input' }, skill('s', { config: { skill: 'http.request', params: { headers } } })], [{ from: 'in', to: 's' }]));
    expect(findFlowSecrets(flow).map((s) => s.path)).toEqual(['nodes[1].config.params.headers.Authorization', 'nodes[1].config.params.headers.Cookie']);
  });
});

/** An agent with a credential, whose tool is a sub-flow holding a secret and a credential reference of its own. */
function agentWithSubflowToolDoc(credential = 'team-openai'): FlowInput {
  const search = flowDoc(
    [
      { id: 'in', kind: 'input', config: { fields: { text: { type: 'string', required: true } } } },
      {
        id: 'call',
        kind: 'skill',
        config: {
          skill: 'http.request',
          params: { url: 'https://search.example.com', headers: { Authorization: 'Bearer live-abc' }, auth: { credential: 'search-api' } },
        },
      },
      { id: 'nested', kind: 'agent', config: { credential: 'nested-key', tools: [{ name: 'deeper', skill: 'template', params: { password: 'hunter3' } }] } },
      { id: 'out', kind: 'output' },
    ],
    [
      { from: 'in', to: 'call' },
      { from: 'call', to: 'nested' },
      { from: 'nested', to: 'out' },
    ],
    { id: 'search' },
  );
  return flowDoc(
    [
      { id: 'in', kind: 'input' },
      { id: 'bot', kind: 'agent', config: { model: 'openai/gpt-4o', credential, tools: [{ name: 'search', flow: search }] } },
      { id: 'out', kind: 'output' },
    ],
    [
      { from: 'in', to: 'bot' },
      { from: 'bot', to: 'out' },
    ],
  );
}

describe('exportFlow and agents', () => {
  const TOOL_FLOW = 'nodes[1].config.tools[0].flow.nodes';

  it("scans a sub-flow tool's nodes for secrets, at any depth, and lists their credential references", () => {
    const { file, text } = exportFlow(flowOf(agentWithSubflowToolDoc()), META);
    expect(file.strippedSecrets).toEqual([
      { path: `${TOOL_FLOW}[1].config.params.headers.Authorization`, reason: 'value of the "Authorization" header, which carries credentials' },
      { path: `${TOOL_FLOW}[2].config.tools[0].params.password`, reason: '"password" names a secret' },
    ]);
    expect(text).not.toContain('live-abc');
    expect(text).not.toContain('hunter3');
    const bot = file.flow.nodes[1]!;
    const call = bot.kind === 'agent' ? bot.config.tools[0]!.flow?.nodes[1] : undefined;
    expect(call?.kind === 'skill' && call.config.params['headers']).toEqual({ Authorization: '' });
    expect(call?.kind === 'skill' && call.config.params['auth']).toEqual({ credential: 'search-api' });
  });

  it("lists every agent's config.credential, nested ones included, beside the params references", () => {
    const flow = flowOf(agentWithSubflowToolDoc());
    expect(flowCredentials(flow)).toEqual(['nested-key', 'search-api', 'team-openai']);
    const { file, text } = exportFlow(flow, META);
    expect(file.credentials).toEqual(['nested-key', 'search-api', 'team-openai']);
    const back = imported(parseFlowExport(text));
    expect(back.credentials).toEqual(['nested-key', 'search-api', 'team-openai']);
    expect(back.flow.nodes[1]).toMatchObject({ config: { credential: 'team-openai' } });
  });

  it('removes an agent credential that is itself a key, and the file still imports', () => {
    const key = 'sk-abcdefghijklmnopqrstuvwxyz012345';
    const flow = flowOf(agentWithSubflowToolDoc(key));
    expect(flowCredentials(flow)).toEqual(['nested-key', 'search-api']);
    expect(findFlowSecrets(flow)).toContainEqual({ path: 'nodes[1].config.credential', reason: 'looks like an API secret key ("sk-...")' });
    const { file, text } = exportFlow(flow, META);
    expect(text).not.toContain(key);
    expect(file.flow.nodes[1]!.kind === 'agent' && file.flow.nodes[1]!.config).not.toHaveProperty('credential');
    const back = imported(parseFlowExport(text));
    expect(back.warnings[0]!.message).toContain('nodes[1].config.credential');
    expect(back.credentials).toEqual(['nested-key', 'search-api']);
  });
});

describe('parseFlowExport reads a stripped file', () => {
  it('warns that secrets were removed, naming where to put them back', () => {
    const flow = flowOf(leakyFlowDoc());
    const back = imported(parseFlowExport(exportFlow(flow, META).text));
    expect(back.credentials).toEqual(['aws', 'github', 'slack']);
    expect(back.warnings).toEqual([
      { path: ['strippedSecrets'], message: `this flow had secrets removed at export: set them again (${LEAKS.map((l) => l.path).join(', ')})` },
    ]);
    expect(findFlowSecrets(back.flow)).toEqual([]);
  });

  it('trusts the flow over a "credentials" list that disagrees with it', () => {
    const flow = flowOf(leakyFlowDoc());
    const file = { ...exportFlow(flow, META).file, credentials: ['github', 'stale'], strippedSecrets: [] };
    const back = imported(parseFlowExport(json(file)));
    expect(back.credentials).toEqual(['aws', 'github', 'slack']);
    expect(back.warnings).toEqual([
      { path: ['credentials'], message: '"credentials" lists "github", "stale" but the flow references "aws", "github", "slack"; using the flow\'s references' },
    ]);
  });
});

describe('parseFlowExport refuses bad files with located issues', () => {
  const good = () => envelope(minimalFlowDoc());

  it('reports malformed JSON with its line and column', () => {
    expect(issues(parseFlowExport('{\n  "format": "loom.flow",\n  oops\n}'))).toEqual([
      { path: [], message: expect.stringMatching(/^not valid JSON: .* at line 3, column 3$/) },
    ]);
  });

  it('refuses a file over the size limit', () => {
    const text = json(good()) + ' '.repeat(FLOW_LIMITS.maxBytes);
    expect(issues(parseFlowExport(text))).toEqual([{ path: [], message: `file is ${text.length} bytes; the limit is ${FLOW_LIMITS.maxBytes} bytes` }]);
  });

  it('refuses a flow nested deeper than the limit, at its path in the file', () => {
    let params: Record<string, unknown> = {};
    for (let i = 0; i < FLOW_LIMITS.maxDepth - 4; i++) params = { deeper: params };
    const flow = flowDoc([{ id: 'in', kind: 'input' }, skill('s', { config: { skill: 'template', params } })], [{ from: 'in', to: 's' }]);
    const [issue] = issues(parseFlowExport(json(envelope(flow))));
    expect(issue!.message).toBe(`nested deeper than ${FLOW_LIMITS.maxDepth} levels`);
    expect(issue!.path.slice(0, 6)).toEqual(['flow', 'nodes', 1, 'config', 'params', 'deeper']);
    expect(issue!.path).toHaveLength(FLOW_LIMITS.maxDepth + 1);
  });

  it('refuses 100,000 levels of nesting without overflowing the stack', () => {
    const n = 100_000;
    const text = `{"format":"loom.flow","flow":${'['.repeat(n)}${']'.repeat(n)}}`;
    expect(issues(parseFlowExport(text))[0]!.message).toBe(`nested deeper than ${FLOW_LIMITS.maxDepth} levels`);
    expect(issues(parseFlowExport('['.repeat(n) + ']'.repeat(n)))[0]!.message).toBe(`nested deeper than ${FLOW_LIMITS.maxDepth} levels`);
  });

  it('refuses __proto__, constructor and prototype keys in the envelope and in the flow', () => {
    const top = json(good()).replace('{', '{\n  "__proto__": { "polluted": true },');
    expect(issues(parseFlowExport(top))).toEqual([{ path: ['__proto__'], message: 'key "__proto__" is not allowed' }]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();

    const secret = json(envelope(minimalFlowDoc(), { strippedSecrets: [{ path: 'a', reason: 'b', prototype: 1 }] }));
    expect(issues(parseFlowExport(secret))).toEqual([{ path: ['strippedSecrets', 0, 'prototype'], message: 'key "prototype" is not allowed' }]);

    const flow = flowDoc([{ id: 'in', kind: 'input' }, skill('s', { config: { skill: 'template', params: { constructor: 1 } } })], [{ from: 'in', to: 's' }]);
    expect(issues(parseFlowExport(json(envelope(flow))))).toEqual([
      { path: ['flow', 'nodes', 1, 'config', 'params', 'constructor'], message: 'key "constructor" is not allowed' },
    ]);
    expect(issues(parseFlowExport(json(flow)))).toEqual([{ path: ['nodes', 1, 'config', 'params', 'constructor'], message: 'key "constructor" is not allowed' }]);
  });

  it('refuses another format, or none, before reading anything else', () => {
    expect(issues(parseFlowExport(json({ ...good(), format: 'n8n.workflow', name: 7 })))).toEqual([
      { path: ['format'], message: 'unknown format "n8n.workflow" (expected "loom.flow")' },
    ]);
    const { format: _format, ...formatless } = good();
    expect(issues(parseFlowExport(json(formatless)))).toEqual([{ path: ['format'], message: 'missing "format" (an export file has "format": "loom.flow")' }]);
  });

  it('refuses an export format from a newer release and says to upgrade', () => {
    expect(issues(parseFlowExport(json({ ...good(), formatVersion: 2 })))).toEqual([
      { path: ['formatVersion'], message: 'export format 2 is newer than this build understands (1); upgrade to open it' },
    ]);
    expect(issues(parseFlowExport(json({ ...good(), formatVersion: '1' })))).toEqual([
      { path: ['formatVersion'], message: '"formatVersion" must be a positive integer, got "1"' },
    ]);
    const { formatVersion: _v, ...versionless } = good();
    expect(issues(parseFlowExport(json(versionless)))).toEqual([
      { path: ['formatVersion'], message: 'missing "formatVersion" (this build reads export format 1 to 1)' },
    ]);
  });

  it('refuses a flow from a newer release inside a current envelope', () => {
    expect(issues(parseFlowExport(json(envelope({ ...minimalFlowDoc(), version: 99 }))))).toEqual([
      { path: ['flow', 'version'], message: 'flow format 99 is newer than this build understands (1); upgrade to open it' },
    ]);
  });

  it('reports every problem of the envelope and the flow together, flow paths under "flow."', () => {
    const flow = flowDoc([{ id: 'in', kind: 'input' }, { id: 'x', kind: 'foo' } as never, skill('s', { colour: 'red' } as never)], [{ from: 'in', to: 'x' }]);
    const file = envelope(flow, { exportedAt: 'yesterday', credentials: [1], author: 'me' });
    const found = issues(parseFlowExport(json(file)));
    expect(found.map((i) => [i.path.join('/'), i.nodeId])).toEqual([
      ['exportedAt', undefined],
      ['credentials/0', undefined],
      ['', undefined],
      ['flow/nodes/1/kind', 'x'],
      ['flow/nodes/2', 's'],
    ]);
    expect(found[2]!.message).toBe('unknown field "author"');
    expect(found.map((i) => formatFlowIssue(i, 'shared.json')).slice(3)).toEqual([
      expect.stringMatching(/^shared\.json: node "x" field flow\.nodes\[1\]\.kind: unknown node kind "foo"/),
      'shared.json: node "s" field flow.nodes[2]: unknown field "colour"',
    ]);
  });

  it('runs the graph checks on the flow inside', () => {
    const flow = flowDoc([{ id: 'in', kind: 'input' }, { id: 'out', kind: 'output' }], [{ from: 'in', to: 'gone' }]);
    expect(issues(parseFlowExport(json(envelope(flow))))).toEqual([
      { path: ['flow', 'edges', 0, 'to'], message: 'edge in -> gone: no node "gone"' },
      { path: ['flow', 'nodes', 1], nodeId: 'out', message: 'output node has no incoming edge, so it would never run' },
    ]);
  });

  it('names a missing or malformed flow', () => {
    const { flow: _flow, ...flowless } = good();
    expect(issues(parseFlowExport(json(flowless)))).toEqual([{ path: ['flow'], message: 'missing required field (the flow document)' }]);
    expect(issues(parseFlowExport(json({ ...good(), flow: [] })))).toEqual([
      { path: ['flow'], message: 'a flow must be a JSON object with "version", "id", "name", "nodes" and "edges"' },
    ]);
  });

  it('locates problems in a bare flow file without the prefix', () => {
    const { name: _name, ...nameless } = minimalFlowDoc();
    expect(issues(parseFlowExport(json(nameless)))).toEqual([{ path: ['name'], message: 'missing required field (string)' }]);
  });
});

describe('parseFlowExport migrates older flows', () => {
  afterEach(() => {
    vi.doUnmock('./schema.js');
    vi.resetModules();
  });

  /** A pretend v2 flow format with `tags`, as a later release would add it (see migrations.test.ts). */
  const v1ToV2: FlowMigration = { from: 1, to: 2, description: 'v2: flows have tags', up: (doc) => ({ ...doc, tags: ['from-v1'] }) };

  async function loadV2Build(): Promise<typeof import('./export.js')> {
    vi.resetModules();
    vi.doMock('./schema.js', async (importOriginal) => {
      const real = await importOriginal<typeof import('./schema.js')>();
      const FlowV2 = real.FlowV1.extend({ version: z.literal(2), tags: z.array(z.string()).default([]) });
      return { ...real, FLOW_FORMAT_VERSION: 2, Flow: FlowV2 };
    });
    return import('./export.js');
  }

  it('lifts a v1 flow from an export file and says which version it came from', async () => {
    const { text } = exportFlow(flowOf(minimalFlowDoc()), META);
    const v2 = await loadV2Build();
    const back = imported(v2.parseFlowExport(text, { migrations: [v1ToV2] }));
    expect(back.migratedFrom).toBe(1);
    expect(back.flow).toMatchObject({ version: 2, tags: ['from-v1'], id: 'test-flow' });
    expect(back.name).toBe(META.name);
  });

  it('lifts a bare v1 flow file the same way', async () => {
    const v2 = await loadV2Build();
    const back = imported(v2.parseFlowExport(json(minimalFlowDoc()), { migrations: [v1ToV2] }));
    expect(back).toMatchObject({ migratedFrom: 1, name: 'Test flow', flow: { version: 2, tags: ['from-v1'] } });
  });

  it('names the missing migration at the flow\'s version in the file', async () => {
    const { text } = exportFlow(flowOf(minimalFlowDoc()), META);
    const v2 = await loadV2Build();
    expect(issues(v2.parseFlowExport(text))).toEqual([{ path: ['flow', 'version'], message: 'no migration from flow format 1 to 2' }]);
  });
});
