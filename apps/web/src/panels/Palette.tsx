import { useReactFlow } from '@xyflow/react';
import { useMemo, useState } from 'react';
import type { PaletteEntry } from '../flow/palette.js';
import { useEditor } from '../stores/editor.js';

const DRAG_TYPE = 'application/x-loom-kind';

/** Every node kind and registered MCP tool, searchable; drag one onto the canvas or click to add it in the middle. */
export function Palette({ entries }: { entries: PaletteEntry[] }) {
  const [query, setQuery] = useState('');
  const addNode = useEditor((s) => s.addNode);
  const flow = useReactFlow();
  const shown = useMemo(() => entries.filter((e) => `${e.title} ${e.kind} ${e.description}`.toLowerCase().includes(query.toLowerCase())), [entries, query]);
  const groups = ['Flow', 'Steps', 'Patterns', 'MCP tools'] as const;
  const addAtCenter = (entry: PaletteEntry) => {
    const box = document.querySelector('.canvas')?.getBoundingClientRect();
    const position = box ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : { x: 0, y: 0 };
    addNode(entry.make, position);
  };
  return (
    <aside className="palette" data-testid="palette">
      <input className="search" placeholder="Search nodes" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="Search nodes" data-testid="palette-search" />
      {groups.map((group) => {
        const items = shown.filter((e) => e.group === group);
        if (items.length === 0) return null;
        return (
          <section key={group}>
            <h3>{group}</h3>
            {items.map((entry) => (
              <button
                key={entry.key}
                className={entry.flagged ? 'palette-item flagged' : 'palette-item'}
                draggable
                data-testid={`palette-${entry.key}`}
                title={entry.description}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_TYPE, entry.key);
                  e.dataTransfer.effectAllowed = 'copy';
                }}
                onClick={() => addAtCenter(entry)}
              >
                <strong>
                  {entry.title}
                  {entry.flagged && <span className="badge warn" data-testid={`flagged-${entry.key}`}> changed</span>}
                </strong>
                <span className="muted">{entry.description}</span>
              </button>
            ))}
          </section>
        );
      })}
      {shown.length === 0 && <p className="empty">No node kind matches “{query}”.</p>}
    </aside>
  );
}

/**
 * Drop handler for the canvas: adds the dragged kind where it was dropped, into the sub-flow
 * of an open group it lands on (`dropNode`).
 */
export function usePaletteDrop(entries: PaletteEntry[]) {
  const flow = useReactFlow();
  const dropNode = useEditor((s) => s.dropNode);
  return {
    onDragOver(e: React.DragEvent) {
      if (e.dataTransfer.types.includes(DRAG_TYPE)) {
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }
    },
    onDrop(e: React.DragEvent) {
      const key = e.dataTransfer.getData(DRAG_TYPE);
      const entry = entries.find((x) => x.key === key);
      if (!entry) return;
      e.preventDefault();
      dropNode(entry.make, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    },
  };
}
