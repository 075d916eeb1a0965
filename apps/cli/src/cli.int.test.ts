import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeEventsNdjson, RunEvent } from '@loom/shared';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as `pnpm flow` does, from the repository root. */
function flow(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(TSX, [MAIN, ...args], { cwd: ROOT, env: { ...process.env, INIT_CWD: ROOT } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'loom-cli-'));
const writeTmp = (name: string, content: string) => {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
};

describe('pnpm flow validate', () => {
  // One CLI process per example grows with the examples: a few at a time, with room on a busy 2-core machine.
  it('accepts every example', { timeout: 120_000 }, async () => {
    const examples = readdirSync(join(ROOT, 'examples'))
      .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json'))
      .map((f) => f.replace(/\.json$/, ''));
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const results: CliResult[] = [];
    for (let i = 0; i < examples.length; i += 3) {
      results.push(...(await Promise.all(examples.slice(i, i + 3).map((example) => flow('validate', `examples/${example}.json`)))));
    }
    for (const [i, example] of examples.entries()) {
      const result = results[i]!;
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(new RegExp(`examples/${example}.json: flow "${example}" is valid`));
      expect(result.code).toBe(0);
    }
  });

  it('names the file, node and field of each problem and exits 2', async () => {
    const file = writeTmp(
      'bad.json',
      JSON.stringify({
        version: 1,
        id: 'bad',
        name: 'Bad',
        nodes: [
          { id: 'in', kind: 'input' },
          { id: 'greet', kind: 'skill', config: { skill: 'template', params: { template: 'Hi {{ name ' } } },
          { id: 'call', kind: 'skill', config: { skill: 'http.request', params: { url: 'https://x', methd: 'GET' } } },
        ],
        edges: [
          { from: 'in', to: 'greet' },
          { from: 'in', to: 'call' },
        ],
      }),
    );
    const result = await flow('validate', file);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${file}: node "greet" field config.params.template: unclosed "{{" at character 3`);
    expect(result.stderr).toContain(`${file}: node "call" field config.params: unknown parameter "methd" for skill "http.request"`);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('reports an unknown kind, a dangling edge, a cycle, malformed JSON, a missing and an oversized file', async () => {
    const cases: [string, string, RegExp][] = [
      ['kind.json', JSON.stringify({ version: 1, id: 'k', name: 'k', nodes: [{ id: 'a', kind: 'input' }, { id: 'b', kind: 'teleport', config: {} }], edges: [] }), /node "b" field kind: unknown node kind "teleport"/],
      ['dangling.json', JSON.stringify({ version: 1, id: 'd', name: 'd', nodes: [{ id: 'a', kind: 'input' }], edges: [{ from: 'a', to: 'ghost' }] }), /field edges\[0\]\.to: edge a -> ghost: no node "ghost"/],
      [
        'cycle.json',
        JSON.stringify({
          version: 1, id: 'c', name: 'c',
          nodes: [{ id: 'a', kind: 'input' }, { id: 'b', kind: 'skill', config: { skill: 'noop' } }, { id: 'c', kind: 'skill', config: { skill: 'noop' } }],
          edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'b' }],
        }),
        /cycle b -> c -> b/,
      ],
      ['malformed.json', '{\n  "version": 1,\n  "id": }', /malformed\.json: not valid JSON: .*line 3, column 9/],
      ['big.json', ' '.repeat(10 * 1024 * 1024 + 1), /big\.json: file is 10485761 bytes; the limit is 10485760 bytes/],
    ];
    const results = await Promise.all(cases.map(([name, content]) => flow('validate', writeTmp(name, content))));
    for (const [i, [name, , expected]] of cases.entries()) {
      const result = results[i]!;
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toMatch(expected);
    }
    const missing = await flow('validate', join(tmp, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: file not found/);
  });
});

describe('pnpm flow run', () => {
  it('--json prints one valid run event per line and nothing else', async () => {
    const result = await flow('run', 'examples/support-triage.json', '--input', JSON.stringify({ subject: 'Late order', body: 'Where is it?' }), '--json');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    const events = lines.map((line) => RunEvent.parse(JSON.parse(line)));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]!.type).toBe('run.started');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
    expect(events.some((e) => e.type === 'llm.response')).toBe(true);
  });

  it('prints progress and the output for a person, exit 0', async () => {
    const result = await flow('run', 'examples/hello.json', '--input', '{"name":"Grace"}');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ greet');
    expect(result.stdout).toContain('output: Hello, Grace! Welcome to Loom.');
  });

  it('exits 1 when the run fails, naming the node', async () => {
    const result = await flow('run', 'packages/engine/src/replay/__fixtures__/failing-step.json', '--input', '{"items":[1]}');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('attempt 1 failed: need at least 3 items, got 1; retrying in 250 ms');
    expect(result.stdout).toContain('failed: node "check" failed: need at least 3 items, got 1');
  });

  it('exits 2 for a missing required input or malformed --input, before running anything', async () => {
    const missing = await flow('run', 'examples/hello.json', '--json');
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('examples/hello.json: input node "in": missing required input "name"');
    const malformed = await flow('run', 'examples/hello.json', '--input', '{name: Ada}');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^--input: not valid JSON/);
    const usage = await flow('run');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('run needs flow.json');
  });
});

describe('pnpm flow replay', () => {
  it('rebuilds the final state and output from a saved log', async () => {
    const log = join(tmp, 'report.ndjson');
    const input = JSON.stringify({ orders: [{ customer: 'ana', amount: 3 }, { customer: 'bo', amount: 4 }] });
    const run = await flow('run', 'examples/parallel-report.json', '--input', input, '--events', log);
    expect(run.code).toBe(0);
    const events = decodeEventsNdjson(readFileSync(log, 'utf8'));
    const finished = events.at(-1) as Extract<RunEvent, { type: 'run.finished' }>;

    const replay = await flow('replay', log, '--json');
    expect(replay.code).toBe(0);
    const state = JSON.parse(replay.stdout) as { status: string; output: unknown; nodes: Record<string, { status: string }> };
    expect(state.status).toBe('succeeded');
    expect(state.output).toEqual(finished.output);
    expect(Object.keys(state.nodes)).toHaveLength(10);

    const human = await flow('replay', log);
    expect(human.stdout).toContain('output: 2 orders, revenue 7, top customer bo, customers: ana, bo');
  });

  it('exits 1 for a failed run and 2 for a broken log, naming the line', async () => {
    const failed = await flow('replay', 'packages/engine/src/replay/__fixtures__/golden/failing-step.ndjson');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('✗ check');

    const lines = readFileSync(join(ROOT, 'packages/engine/src/replay/__fixtures__/golden/hello.ndjson'), 'utf8').split('\n');
    const gap = writeTmp('gap.ndjson', [lines[0], lines[2]].join('\n'));
    const result = await flow('replay', gap);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected seq 2, got 3');
    const garbage = writeTmp('garbage.ndjson', `${lines[0]}\nnot json\n`);
    expect((await flow('replay', garbage)).stderr).toContain('line 2: not valid JSON');
  });
});
