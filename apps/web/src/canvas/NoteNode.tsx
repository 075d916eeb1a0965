import { NodeResizer, type NodeProps } from '@xyflow/react';
import { createContext, memo, useContext, useState } from 'react';
import { NOTE_SIZE, scopedId, type NoteCanvasNode } from '../flow/model.js';
import { useEditor } from '../stores/editor.js';

/** Whether the canvas is read-only (a shared flow): notes are then not editable. */
export const CanvasReadOnly = createContext(false);

/**
 * A sticky note: text for people, saved with the flow, never run. Double-click to edit the
 * text (applied as one undoable change when the field is left); drag the corners to resize.
 */
function NoteView({ id, data, selected, width, height, parentId }: NodeProps<NoteCanvasNode>) {
  const readOnly = useContext(CanvasReadOnly);
  const [draft, setDraft] = useState<string | null>(null);
  const note = data.note;
  const finish = () => {
    if (draft !== null) useEditor.getState().updateNote(id, { text: draft });
    setDraft(null);
  };
  // React Flow passes the measured size (or the one a resize set), 0 before it measured: the note
  // is drawn at it, at the default size until measured. (A 100% size shrank it to its text once
  // measured: its node box has no size of its own until someone resizes it.)
  const size = { width: width || NOTE_SIZE.width, height: height || NOTE_SIZE.height };
  // A sub-flow's note is named after its group (`sub/why`), a top-level one by its own id.
  const testId = scopedId(parentId, note.id);
  return (
    <>
      <NodeResizer isVisible={selected && !readOnly} minWidth={120} minHeight={60} color="var(--accent)" />
      <div
        className={`loom-note note-${note.color ?? 'yellow'} ${selected ? 'selected' : ''}`}
        style={size}
        data-testid={`note-${testId}`}
        onDoubleClick={() => !readOnly && draft === null && setDraft(note.text)}
      >
        {draft !== null ? (
          <textarea
            className="loom-note-editor nodrag nowheel"
            autoFocus
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onBlur={finish}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setDraft(null);
              else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) finish();
            }}
            aria-label="Note text"
            data-testid="note-editor"
          />
        ) : (
          <div className="loom-note-text" data-testid={`note-text-${testId}`}>
            {note.text || <span className="muted">Double-click to write a note</span>}
          </div>
        )}
      </div>
    </>
  );
}

export const NoteNode = memo(NoteView, (a, b) => a.id === b.id && a.data === b.data && a.selected === b.selected && a.width === b.width && a.height === b.height && a.parentId === b.parentId);
