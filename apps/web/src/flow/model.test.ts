import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFlow, parseFlowText, type Flow } from '@loom/shared';
import { connectionProblem } from './connect.js';
import { fromCanvas, outputPorts, toCanvas } from './model.js';
import { freshId, paletteEntries } from './palette.js';

const examplesDir = new URL('../../../../examples/', import.meta.url);
const examples: Flow[] = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json'))
  .map((f) => {
    const parsed = parseFlowText(readFileSync(new URL(f, examplesDir), 'utf8'));
    if (!parsed.ok) throw new Error(`${f} does not parse`);
    return parsed.flow;
  });

describe('canvas model', () => {
  it('round-trips every example through the canvas (positions added, nothing else changed)', () => {
    for (const flow of examples) {
      const { nodes, edges } = toCanvas(flow);
      const { nodes: _n, edges: _e, ...meta } = flow;
      const back = fromCanvas(meta, nodes, edges);
      const withoutPositions = { ...back, nodes: back.nodes.map(({ position: _p, ...n }) => n) };
      const original = { ...flow, nodes: flow.nodes.map(({ position: _p, ...n }) => n), edges: flow.edges.map(({ id: _id, ...e }) => e) };
      expect(withoutPositions).toEqual(original);
      expect(parseFlow(back).ok).toBe(true);
      // Nodes without a saved position are laid out by depth: no two on the same spot.
      const spots = new Set(nodes.map((n) => `${n.position.x},${n.position.y}`));
      expect(spots.size).toBe(nodes.length);
    }
  });

  it('gives routers one output handle per route and nodes that continue on error an error handle', () => {
    const triage = examples.find((f) => f.id === 'support-triage')!;
    expect(outputPorts(triage.nodes.find((n) => n.id === 'classify')!)).toEqual(['urgent', 'normal']);
    expect(outputPorts({ id: 'x', kind: 'skill', onError: 'continue', config: { skill: 'template', params: {} } })).toEqual(['error']);
  });
});

describe('connection rules', () => {
  const { nodes, edges } = toCanvas(examples.find((f) => f.id === 'support-triage')!);
  const problem = (source: string, target: string, sourceHandle: string | null = null) => connectionProblem({ source, target, sourceHandle, targetHandle: null }, nodes, edges);

  it('refuses edges out of outputs, into inputs, to itself, duplicates and cycles, each with a reason', () => {
    expect(problem('result', 'reply')).toMatch(/output node/);
    expect(problem('reply', 'ticket')).toMatch(/input node/);
    expect(problem('reply', 'reply')).toMatch(/itself/);
    expect(problem('classify', 'escalate', 'urgent')).toMatch(/already connected/);
    expect(problem('reply', 'classify')).toMatch(/cycle/);
  });

  it('allows a new forward edge', () => {
    expect(problem('ticket', 'reply')).toBeNull();
  });
});

describe('palette', () => {
  it('offers every node kind, and each new node is valid in a flow', () => {
    const entries = paletteEntries(examples.map((flow) => ({ flow })));
    expect(entries.map((e) => e.kind).sort()).toEqual(['agent', 'chain', 'coordinator', 'input', 'master_worker', 'mcp', 'merge', 'output', 'parallel', 'router', 'skill', 'subflow', 'supervisor']);
    for (const entry of entries) {
      const node = entry.make(entry.kind.replace(/_/g, '-'));
      const flow = { version: 1, id: 'palette', name: 'Palette', nodes: [node], edges: [] };
      const parsed = parseFlow(flow, { allowUnconnected: true });
      expect(parsed.ok ? [] : parsed.issues, entry.kind).toEqual([]);
    }
  });

  it('finds a free id', () => {
    expect(freshId('master_worker', new Set())).toBe('master-worker');
    expect(freshId('agent', new Set(['agent', 'agent-2']))).toBe('agent-3');
  });
});
