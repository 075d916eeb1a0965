import { describe, expect, it } from 'vitest';
import { checkFlowGraph } from './graph.js';
import { formatFlowIssue, parseFlow, type ParseFlowResult } from './parse.js';
import { Flow, type FlowInput } from './schema.js';
import { flowDoc, skill } from './__fixtures__/flows.js';

type NodeInput = FlowInput['nodes'][number];
type EdgeInput = FlowInput['edges'][number];

const input: NodeInput = { id: 'in', kind: 'input' };
const output: NodeInput = { id: 'out', kind: 'output' };
const ACYCLIC = 'flows must be acyclic (use retries or a pattern node to repeat work)';

function messages(result: ParseFlowResult): string[] {
  if (result.ok) throw new Error('expected the flow to be refused, but it parsed');
  return result.issues.map((issue) => formatFlowIssue(issue, 'flow.json'));
}

function check(nodes: NodeInput[], edges: EdgeInput[]): ParseFlowResult {
  return parseFlow(flowDoc(nodes, edges));
}

const router: NodeInput = {
  id: 'route',
  kind: 'router',
  config: { routes: [{ port: 'yes', when: 'ok' }, { port: 'no', when: '$not(ok)' }] },
};

describe('checkFlowGraph accepts well-formed flows', () => {
  it('accepts routers, merges and error ports used as intended', () => {
    const result = check(
      [input, router, skill('fetch', { onError: 'continue' }), skill('apologise'), skill('fallback'), { id: 'join', kind: 'merge' }, output],
      [
        { from: 'in', to: 'route' },
        { from: 'route', fromPort: 'yes', to: 'fetch' },
        { from: 'route', fromPort: 'default', to: 'fallback' },
        { from: 'fetch', fromPort: 'error', to: 'apologise' },
        { from: 'fetch', to: 'join', toPort: 'page' },
        { from: 'apologise', to: 'join', toPort: 'apology' },
        { from: 'fallback', to: 'join' },
        { from: 'join', to: 'out' },
      ],
    );
    expect(result.ok).toBe(true);
  });

  it('accepts a diamond, which shares a node but has no cycle', () => {
    const result = check(
      [input, skill('a'), skill('b'), { id: 'join', kind: 'merge' }, output],
      [{ from: 'in', to: 'a' }, { from: 'in', to: 'b' }, { from: 'a', to: 'join' }, { from: 'b', to: 'join' }, { from: 'join', to: 'out' }],
    );
    expect(result.ok).toBe(true);
  });
});

describe('checkFlowGraph refuses broken graphs', () => {
  it('reports a duplicate node id once, pointing at the first use', () => {
    const result = check([input, skill('a'), skill('a'), output], [{ from: 'in', to: 'a' }, { from: 'a', to: 'out' }]);
    expect(messages(result)).toEqual(['flow.json: node "a" field id: duplicate node id "a" (also nodes[1])']);
    expect(!result.ok && result.issues[0]!.path).toEqual(['nodes', 2, 'id']);
  });

  it('reports a duplicate edge id', () => {
    const result = check([input, output], [{ id: 'e1', from: 'in', to: 'out' }, { id: 'e1', from: 'in', to: 'out' }]);
    expect(messages(result)).toContain('flow.json: field edges[1].id: duplicate edge id "e1"');
  });

  it('refuses two edges that deliver a value under the same name to one node', () => {
    const twice = check([input, output], [{ from: 'in', to: 'out' }, { from: 'in', to: 'out' }]);
    expect(messages(twice)).toEqual(['flow.json: field edges[1]: edge in -> out: edges[0] already delivers a value named "in" to "out" (give one of them another toPort)']);
    const distinct = check([input, output], [{ from: 'in', to: 'out', toPort: 'a' }, { from: 'in', to: 'out', toPort: 'b' }]);
    expect(distinct.ok).toBe(true);
  });

  it('refuses port and key names that could not be object keys safely', () => {
    const result = check([input, output], [{ from: 'in', to: 'out', toPort: '__proto__' }]);
    expect(messages(result)).toEqual(['flow.json: field edges[0].toPort: is a reserved name']);
  });

  it('names the edge and the missing node of a dangling edge', () => {
    const result = check(
      [input, output],
      [{ from: 'in', to: 'out' }, { id: 'to-ghost', from: 'in', to: 'ghost' }, { from: 'phantom', to: 'out' }],
    );
    expect(messages(result)).toEqual([
      'flow.json: field edges[1].to: edge "to-ghost" in -> ghost: no node "ghost"',
      'flow.json: field edges[2].from: edge phantom -> out: no node "phantom"',
    ]);
  });

  it('reports a cycle with its path in edge order', () => {
    // File order (c before a) differs from the cycle's order; the message follows the edges.
    const result = check(
      [input, skill('c'), skill('a'), skill('b'), output],
      [{ from: 'in', to: 'a' }, { from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'a' }, { from: 'c', to: 'out' }],
    );
    expect(messages(result)).toEqual([`flow.json: field edges: cycle a -> b -> c -> a: ${ACYCLIC}`]);
  });

  it('reports a cycle that no input reaches', () => {
    const result = check([input, output, skill('x'), skill('y')], [{ from: 'in', to: 'out' }, { from: 'x', to: 'y' }, { from: 'y', to: 'x' }]);
    expect(messages(result)).toEqual([`flow.json: field edges: cycle x -> y -> x: ${ACYCLIC}`]);
  });

  it('reports a node connected to itself', () => {
    const result = check([input, skill('a'), output], [{ from: 'in', to: 'a' }, { from: 'a', to: 'a' }, { from: 'a', to: 'out' }]);
    expect(messages(result)).toEqual([
      'flow.json: field edges[1]: edge a -> a: a node cannot connect to itself',
      `flow.json: field edges: cycle a -> a: ${ACYCLIC}`,
    ]);
  });

  it('asks for fromPort on a router edge and lists the router\'s ports', () => {
    const result = check([input, router, output], [{ from: 'in', to: 'route' }, { from: 'route', to: 'out' }]);
    expect(messages(result)).toEqual(['flow.json: field edges[1].fromPort: edge route -> out: router "route" edges need "fromPort" (one of yes, no, default)']);
  });

  it('refuses a router port that has no route', () => {
    const result = check([input, router, output], [{ from: 'in', to: 'route' }, { from: 'route', fromPort: 'maybe', to: 'out' }]);
    expect(messages(result)).toEqual(['flow.json: field edges[1].fromPort: edge route -> out: router "route" has no port "maybe" (ports: yes, no, default)']);
  });

  it('lists a custom default port once even when a route shares its name', () => {
    const custom: NodeInput = { id: 'route', kind: 'router', config: { routes: [{ port: 'yes', when: 'ok' }, { port: 'else', when: 'x' }], defaultPort: 'else' } };
    const result = check([input, custom, output], [{ from: 'in', to: 'route' }, { from: 'route', fromPort: 'default', to: 'out' }]);
    expect(messages(result)).toEqual(['flow.json: field edges[1].fromPort: edge route -> out: router "route" has no port "default" (ports: yes, else)']);
  });

  it('refuses the error port on a node without onError: "continue"', () => {
    const result = check(
      [input, skill('fetch'), skill('apologise'), output],
      [{ from: 'in', to: 'fetch' }, { from: 'fetch', fromPort: 'error', to: 'apologise' }, { from: 'fetch', to: 'out' }],
    );
    expect(messages(result)).toEqual(['flow.json: field edges[1].fromPort: edge fetch -> apologise: port "error" needs onError: "continue" on node "fetch"']);
  });

  it('refuses a named output port on a node that has only one', () => {
    const result = check([input, skill('fetch'), output], [{ from: 'in', to: 'fetch' }, { from: 'fetch', fromPort: 'body', to: 'out' }]);
    expect(messages(result)).toEqual(['flow.json: field edges[1].fromPort: edge fetch -> out: skill node "fetch" has no output port "body"']);
  });

  it('refuses edges into an input node and out of an output node', () => {
    const result = check(
      [input, { id: 'in2', kind: 'input' }, output, skill('after')],
      [{ from: 'in', to: 'out' }, { from: 'in', to: 'in2' }, { from: 'out', to: 'after' }],
    );
    expect(messages(result)).toEqual([
      'flow.json: field edges[1].to: edge in -> in2: input node "in2" cannot have incoming edges',
      'flow.json: field edges[2].from: edge out -> after: output node "out" cannot have outgoing edges',
    ]);
  });

  it('refuses a node that nothing feeds, since it would never run', () => {
    const result = check([input, skill('orphan'), output], [{ from: 'in', to: 'out' }, { from: 'orphan', to: 'out' }]);
    expect(messages(result)).toEqual(['flow.json: node "orphan": skill node has no incoming edge, so it would never run']);
  });

  it('does not complain about an input node without incoming edges', () => {
    expect(check([input, { id: 'in2', kind: 'input' }, output], [{ from: 'in', to: 'out' }, { from: 'in2', to: 'out' }]).ok).toBe(true);
  });
});

describe('checkFlowGraph at the size limit', () => {
  const size = 100_000;
  function chain(extraEdges: EdgeInput[] = []): FlowInput {
    const nodes: NodeInput[] = [{ id: 'n0', kind: 'input' }];
    for (let i = 1; i < size - 1; i++) nodes.push(skill(`n${i}`));
    nodes.push({ id: `n${size - 1}`, kind: 'output' });
    const edges: EdgeInput[] = nodes.slice(1).map((node, i) => ({ from: `n${i}`, to: node.id }));
    return flowDoc(nodes, [...edges, ...extraEdges]);
  }

  it(`accepts a ${size.toLocaleString('en')}-node chain without overflowing the stack`, () => {
    const result = parseFlow(chain());
    expect(result.ok && result.flow.nodes).toHaveLength(size);
  });

  it(`finds a cycle through a ${size.toLocaleString('en')}-node chain`, () => {
    const flow = Flow.parse(chain([{ from: `n${size - 2}`, to: 'n1' }]));
    const issues = checkFlowGraph(flow);
    expect(issues).toHaveLength(1);
    const message = issues[0]!.message;
    expect(message.startsWith('cycle n1 -> n2 -> n3 -> ')).toBe(true);
    expect(message.endsWith(` -> n${size - 3} -> n${size - 2} -> n1: ${ACYCLIC}`)).toBe(true);
    // n1 ... n99998, then n1 again.
    expect(message.split(' -> ')).toHaveLength(size - 1);
  });
});
