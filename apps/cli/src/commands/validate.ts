import { loadFlow } from '../load.js';
import { EXIT } from '../usage.js';

export function validateCommand(file: string, out: (line: string) => void): number {
  const { flow, migrations } = loadFlow(file);
  for (const migration of migrations) out(`${file}: migrated: ${migration}`);
  const kinds = new Map<string, number>();
  for (const node of flow.nodes) kinds.set(node.kind, (kinds.get(node.kind) ?? 0) + 1);
  const summary = [...kinds].map(([kind, count]) => `${count} ${kind}`).join(', ');
  out(`${file}: flow "${flow.id}" is valid (${flow.nodes.length} nodes: ${summary}; ${flow.edges.length} edges)`);
  return EXIT.ok;
}
