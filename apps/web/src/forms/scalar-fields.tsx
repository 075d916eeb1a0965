// The form's leaf fields: text, numbers, switches, choices, and JSON for what has no form.
import { useState } from 'react';
import { Unfinished, sameValue } from './draft.js';
import { dotted, isRecord, type JsonSchema } from './schema.js';
import { Shell, type FieldProps } from './field-shell.js';
export function placeholderOf(schema: JsonSchema): string | undefined {
  if (schema.default === undefined) return undefined;
  if (typeof schema.default === 'string') return /[\n\t]/.test(schema.default) ? JSON.stringify(schema.default) : schema.default;
  return JSON.stringify(schema.default);
}

export function testIdOf(p: FieldProps): string {
  return p.testId ?? `field-${dotted(p.path)}`;
}

export function StringField(p: FieldProps) {
  const s = p.schema;
  const text = typeof p.value === 'string' ? p.value : p.value === undefined || p.value === null ? '' : JSON.stringify(p.value);
  // Prompts, templates, expressions (zod limits them to 10 000 characters or more) get room;
  // names, URLs and short descriptions a line.
  const long = (s.maxLength ?? 0) >= 10_000 || s['x-multiline'] === true || text.includes('\n');
  const change = (next: string) => p.onChange(next === '' && p.place === 'property' ? undefined : next);
  return (
    <Shell label={p.label} required={p.required} description={s.description} issues={p.issues} path={p.path} bare={p.bare}>
      {(a11y) =>
        long ? (
          <textarea {...a11y} rows={textRows(text, 2, 10)} value={text} placeholder={placeholderOf(s)} onChange={(e) => change(e.target.value)} disabled={p.readOnly} spellCheck={false} data-testid={testIdOf(p)} />
        ) : (
          <input {...a11y} type="text" value={text} placeholder={placeholderOf(s)} onChange={(e) => change(e.target.value)} disabled={p.readOnly} data-testid={testIdOf(p)} />
        )
      }
    </Shell>
  );
}

/** Rows for a text area: its lines, long ones counted as the lines they wrap to in a narrow panel. */
export function textRows(text: string, min: number, max: number): number {
  const rows = text.split('\n').reduce((sum, line) => sum + 1 + Math.floor(line.length / 34), 0);
  return Math.min(max, Math.max(min, rows));
}

export function numberText(value: unknown): string {
  if (value instanceof Unfinished) return String(value.draft);
  if (value === undefined || value === null) return '';
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

export function parseNumber(text: string, place: FieldProps['place']): unknown {
  if (text.trim() === '') return place === 'property' ? undefined : new Unfinished('enter a number', text);
  const n = Number(text);
  return Number.isFinite(n) ? n : new Unfinished(`"${text}" is not a number`, text);
}

/**
 * Keeps the text being typed ("1.", "-") while the value is its number; takes the value
 * again when it changes from outside (undo, a reset, another item moved here).
 */
export function useDraftText<T>(value: unknown, format: (value: unknown) => string, parse: (text: string) => T): [string, (text: string) => T] {
  const [text, setText] = useState(() => format(value));
  const [seen, setSeen] = useState(value);
  if (seen !== value) {
    setSeen(value);
    if (value instanceof Unfinished) {
      if (String(value.draft) !== text) setText(String(value.draft));
    } else if (!sameValue(parse(text), value)) setText(format(value));
  }
  return [
    text,
    (next: string) => {
      setText(next);
      return parse(next);
    },
  ];
}

export function NumberField(p: FieldProps) {
  const s = p.schema;
  const [text, edit] = useDraftText(p.value, numberText, (t) => parseNumber(t, p.place));
  const range = s.minimum !== undefined && s.maximum !== undefined && s.maximum < 1e15 ? `${s.minimum}–${s.maximum}` : s.minimum !== undefined ? `≥ ${s.minimum}` : undefined;
  return (
    <Shell label={p.label} required={p.required} description={s.description} issues={p.issues} path={p.path} bare={p.bare}>
      {(a11y) => (
        <input
          {...a11y}
          type="text"
          inputMode={s.type === 'integer' ? 'numeric' : 'decimal'}
          value={text}
          placeholder={placeholderOf(s) ?? range}
          title={range ? `${s.type === 'integer' ? 'A whole number' : 'A number'}, ${range}` : undefined}
          onChange={(e) => p.onChange(edit(e.target.value))}
          disabled={p.readOnly}
          data-testid={testIdOf(p)}
        />
      )}
    </Shell>
  );
}

export function BooleanField(p: FieldProps) {
  const s = p.schema;
  if (p.required) {
    return (
      <Shell label={p.label} required={false} description={s.description} issues={p.issues} path={p.path} inline>
        {(a11y) => <input {...a11y} type="checkbox" checked={p.value === true} onChange={(e) => p.onChange(e.target.checked, true)} disabled={p.readOnly} data-testid={testIdOf(p)} />}
      </Shell>
    );
  }
  // Optional: "not set" is a third state (the default applies), which a checkbox cannot show.
  const current = p.value === true ? 'true' : p.value === false ? 'false' : '';
  return (
    <Shell label={p.label} required={false} description={s.description} issues={p.issues} path={p.path} bare={p.bare}>
      {(a11y) => (
        <select {...a11y} value={current} onChange={(e) => p.onChange(e.target.value === '' ? undefined : e.target.value === 'true', true)} disabled={p.readOnly} data-testid={testIdOf(p)}>
          <option value="">{s.default === undefined ? '— (not set)' : `default (${s.default ? 'yes' : 'no'})`}</option>
          <option value="true">yes</option>
          <option value="false">no</option>
        </select>
      )}
    </Shell>
  );
}

export function EnumField(p: FieldProps) {
  const s = p.schema;
  const options = s.enum as (string | number)[];
  const known = options.some((o) => o === p.value);
  return (
    <Shell label={p.label} required={p.required && s.default === undefined} description={s.description} issues={p.issues} path={p.path} bare={p.bare}>
      {(a11y) => (
        <select
          {...a11y}
          value={p.value === undefined ? '' : String(p.value)}
          onChange={(e) => p.onChange(e.target.value === '' ? undefined : options.find((o) => String(o) === e.target.value), true)}
          disabled={p.readOnly}
          data-testid={testIdOf(p)}
        >
          {(p.value === undefined || !p.required || s.default !== undefined) && (
            <option value="" disabled={p.required && s.default === undefined}>
              {s.default !== undefined ? `default (${String(s.default)})` : p.required ? 'choose…' : '— (not set)'}
            </option>
          )}
          {options.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
          {!known && p.value !== undefined && <option value={String(p.value)}>{`${JSON.stringify(p.value)} (not allowed)`}</option>}
        </select>
      )}
    </Shell>
  );
}

export function ConstField(p: FieldProps) {
  return (
    <Shell label={p.label} required={false} description={p.schema.description} issues={p.issues} path={p.path} bare={p.bare}>
      {(a11y) => (
        <output {...a11y} className="sf-const" data-testid={testIdOf(p)}>
          <code>{JSON.stringify(p.schema.const)}</code>
        </output>
      )}
    </Shell>
  );
}

export function jsonText(value: unknown): string {
  if (value instanceof Unfinished) return String(value.draft);
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

export function parseJson(text: string, place: FieldProps['place']): unknown {
  if (text.trim() === '') return place === 'property' ? undefined : new Unfinished('enter a JSON value', text);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return new Unfinished(`not valid JSON: ${(error as Error).message}`, text);
  }
}

/** What a nested node or flow is, in a few words, for its collapsed field. */
export function summarize(value: unknown): string {
  if (value === undefined) return 'not set';
  if (isRecord(value)) {
    if (typeof value['kind'] === 'string') return `${value['kind']} "${String(value['id'] ?? '?')}"`;
    if (Array.isArray(value['nodes'])) return `${String(value['name'] ?? value['id'] ?? 'flow')}, ${value['nodes'].length} nodes`;
    return `${Object.keys(value).length} fields`;
  }
  return Array.isArray(value) ? `${value.length} items` : JSON.stringify(value);
}

/**
 * A JSON text for a value of any shape. `collapsed`: closed behind a one-line summary
 * (nested nodes and flows), open while it has problems.
 */
export function JsonField(p: FieldProps & { collapsed?: boolean; rows?: number }) {
  const [text, edit] = useDraftText(p.value, jsonText, (t) => parseJson(t, p.place));
  const [open, setOpen] = useState(false);
  const field = (
    <Shell label={p.collapsed ? `${p.label} (JSON)` : p.label} required={p.required} description={p.schema.description} issues={p.issues} path={p.path} bare={p.bare || p.collapsed}>
      {(a11y) => (
        <textarea
          {...a11y}
          className="code"
          rows={p.rows ?? textRows(text, p.collapsed ? 6 : 2, 16)}
          value={text}
          placeholder={placeholderOf(p.schema)}
          onChange={(e) => p.onChange(edit(e.target.value))}
          disabled={p.readOnly}
          spellCheck={false}
          data-testid={testIdOf(p)}
        />
      )}
    </Shell>
  );
  if (!p.collapsed) return field;
  return (
    <details className="sf-nested" open={open || p.issues.length > 0} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <span>
          {p.label}
          {p.required && <span className="sf-required"> *</span>}
        </span>{' '}
        <span className="muted">{summarize(p.value)}</span> <span className="sf-edit-json">Edit as JSON</span>
      </summary>
      {field}
    </details>
  );
}

// ---------------------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------------------

/** A group that folds: open when required, filled in, or holding a problem. */
