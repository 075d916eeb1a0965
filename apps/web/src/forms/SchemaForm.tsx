import { Fragment, useId, useState, type ReactNode } from 'react';
import type { FlowIssue } from '@loom/shared';
import { Unfinished, sameValue } from './draft.js';
import { dotted, humanize, isRecord, newItem, shapeOf, startsWith, type JsonSchema, type Path, type Shape } from './schema.js';

/**
 * A form generated from a JSON Schema (the subset zod's `toJSONSchema` writes): objects,
 * strings, numbers, booleans, enums, lists, maps, unions told apart by a constant field, and
 * `$ref`s into `$defs`. A recursive definition (a node inside a node) and anything else the
 * form does not know is a JSON text field for that part only.
 *
 * The form is controlled: `onChange(next, commit)` gets the whole new value. `commit` is true
 * for whole gestures (a choice in a list, a checkbox, adding or removing an item) and false
 * while the person types, so a caller can apply choices at once and text when it is done.
 * Text that is not a value yet (bad JSON, "1e") is kept in the value as `Unfinished`.
 *
 * Issues carry paths relative to the form's value; each shows under the field it names, or
 * under the nearest field above it; the ones no field claims are listed at the top.
 */
export interface SchemaFormProps {
  schema: JsonSchema;
  value: unknown;
  onChange: Change;
  issues?: readonly FlowIssue[];
  readOnly?: boolean;
  /** Renders a field differently; return undefined to keep the generic field. */
  override?: FieldOverride;
  /** Where the value sits in a larger document; issue paths include it. */
  path?: Path;
}

export type Change = (value: unknown, commit?: boolean) => void;

export interface FieldProps {
  /** Already resolved (no `$ref` at the top) when an override or a field component gets it. */
  schema: JsonSchema;
  /** The schema `$ref`s are resolved against. */
  root: JsonSchema;
  value: unknown;
  onChange: Change;
  path: Path;
  /** The issues at or below `path`. */
  issues: readonly FlowIssue[];
  label: string;
  required: boolean;
  readOnly: boolean;
  /** Definitions being expanded around this field (a cycle guard). */
  refs: string[];
  override: FieldOverride | undefined;
  /** `property`: an object's field, absent when empty; `item`: a list item or map value; `root`: the form. */
  place: 'root' | 'property' | 'item';
  /** Label for screen readers only (list items in a row). */
  bare?: boolean;
  /** Replaces the `field-<dotted.path>` test id of the input. */
  testId?: string;
}

export type FieldOverride = (props: FieldProps & { shape: Shape }) => ReactNode | undefined;

export function SchemaForm({ schema, value, onChange, issues = [], readOnly = false, override, path = [] }: SchemaFormProps) {
  return (
    <div className="schema-form">
      <Field schema={schema} root={schema} value={value} onChange={onChange} path={path} issues={issues} label="" required readOnly={readOnly} refs={[]} override={override} place="root" />
    </div>
  );
}

/** One value of any shape: dispatches on the schema. */
export function Field(props: FieldProps) {
  const shape = shapeOf(props.schema, props.root, props.refs);
  const p = { ...props, schema: shape.schema, refs: shape.refs };
  const custom = props.override?.({ ...p, shape });
  if (custom !== undefined) return <>{custom}</>;
  switch (shape.kind) {
    case 'string':
      return <StringField {...p} />;
    case 'number':
      return <NumberField {...p} />;
    case 'boolean':
      return <BooleanField {...p} />;
    case 'enum':
      return <EnumField {...p} />;
    case 'const':
      return <ConstField {...p} />;
    case 'object':
      return <ObjectField {...p} />;
    case 'record':
      return <RecordField {...p} />;
    case 'array':
      return <ArrayField {...p} />;
    case 'union':
      return <UnionField {...p} variants={shape.variants} discriminator={shape.discriminator} />;
    case 'nested':
      return <JsonField {...p} collapsed />;
    default:
      return <JsonField {...p} />;
  }
}

// ---------------------------------------------------------------------------------------
// Issues
// ---------------------------------------------------------------------------------------

/** Issues at `path` itself, or below it where `isChild` says no child field shows them. */
function ownIssues(issues: readonly FlowIssue[], path: Path, isChild: (segment: string | number) => boolean): FlowIssue[] {
  return issues.filter((i) => !(startsWith(i.path, path) && i.path.length > path.length && isChild(i.path[path.length]!)));
}

function issuesUnder(issues: readonly FlowIssue[], path: Path): FlowIssue[] {
  return issues.filter((i) => startsWith(i.path, path));
}

function relative(path: Path, at: Path): string {
  if (!startsWith(path, at)) return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '') || '(top)';
  return path
    .slice(at.length)
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('');
}

/** The messages under a field; an issue deeper than the field names the rest of its path. */
export function IssueList({ issues, path, id, testId }: { issues: readonly FlowIssue[]; path: Path; id?: string; testId?: string }) {
  if (issues.length === 0) return null;
  return (
    <ul className="field-errors sf-issues" id={id} data-testid={testId ?? `issues-${dotted(path)}`}>
      {issues.map((issue, i) => {
        const rest = relative(issue.path, path);
        return (
          <li key={i}>
            {rest && <code>{rest}</code>} {issue.message}
          </li>
        );
      })}
    </ul>
  );
}

// ---------------------------------------------------------------------------------------
// Leaves
// ---------------------------------------------------------------------------------------

/** Label, control, help text and messages of one field. `children` gets the control's id and aria attributes. */
export function Shell({
  label,
  required,
  description,
  issues,
  path,
  bare,
  inline,
  children,
}: {
  label: string;
  required: boolean;
  description?: string | undefined;
  issues: readonly FlowIssue[];
  path: Path;
  bare?: boolean | undefined;
  /** Control before the label (a checkbox). */
  inline?: boolean;
  children: (a11y: { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined }) => ReactNode;
}) {
  const id = useId();
  const described = [description ? `${id}-help` : '', issues.length ? `${id}-issues` : ''].filter(Boolean).join(' ') || undefined;
  const control = children({ id, 'aria-invalid': issues.length > 0, 'aria-describedby': described });
  const text = (
    <>
      {label}
      {required && !bare && (
        <span className="sf-required" title="required">
          {' '}*
        </span>
      )}
    </>
  );
  return (
    <div className={`sf-field${issues.length ? ' invalid' : ''}${bare ? ' bare' : ''}`}>
      {inline ? (
        <label className="sf-inline" htmlFor={id}>
          {control} {text}
        </label>
      ) : (
        <>
          <label htmlFor={id} className={bare ? 'sr-only' : undefined}>
            {text}
          </label>
          {control}
        </>
      )}
      {description && (
        <p className="sf-help" id={`${id}-help`}>
          {description}
        </p>
      )}
      <IssueList issues={issues} path={path} id={`${id}-issues`} />
    </div>
  );
}

function placeholderOf(schema: JsonSchema): string | undefined {
  if (schema.default === undefined) return undefined;
  if (typeof schema.default === 'string') return /[\n\t]/.test(schema.default) ? JSON.stringify(schema.default) : schema.default;
  return JSON.stringify(schema.default);
}

function testIdOf(p: FieldProps): string {
  return p.testId ?? `field-${dotted(p.path)}`;
}

function StringField(p: FieldProps) {
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
function textRows(text: string, min: number, max: number): number {
  const rows = text.split('\n').reduce((sum, line) => sum + 1 + Math.floor(line.length / 34), 0);
  return Math.min(max, Math.max(min, rows));
}

function numberText(value: unknown): string {
  if (value instanceof Unfinished) return String(value.draft);
  if (value === undefined || value === null) return '';
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function parseNumber(text: string, place: FieldProps['place']): unknown {
  if (text.trim() === '') return place === 'property' ? undefined : new Unfinished('enter a number', text);
  const n = Number(text);
  return Number.isFinite(n) ? n : new Unfinished(`"${text}" is not a number`, text);
}

/**
 * Keeps the text being typed ("1.", "-") while the value is its number; takes the value
 * again when it changes from outside (undo, a reset, another item moved here).
 */
function useDraftText<T>(value: unknown, format: (value: unknown) => string, parse: (text: string) => T): [string, (text: string) => T] {
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

function NumberField(p: FieldProps) {
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

function BooleanField(p: FieldProps) {
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

function EnumField(p: FieldProps) {
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

function ConstField(p: FieldProps) {
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

function jsonText(value: unknown): string {
  if (value instanceof Unfinished) return String(value.draft);
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

function parseJson(text: string, place: FieldProps['place']): unknown {
  if (text.trim() === '') return place === 'property' ? undefined : new Unfinished('enter a JSON value', text);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return new Unfinished(`not valid JSON: ${(error as Error).message}`, text);
  }
}

/** What a nested node or flow is, in a few words, for its collapsed field. */
function summarize(value: unknown): string {
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
export function Section({ label, required, filled, count, issues, testId, children }: { label: string; required: boolean; filled: boolean; count?: number | undefined; issues: number; testId: string; children: ReactNode }) {
  const [open, setOpen] = useState(required || filled);
  return (
    <details className="sf-section" open={open || issues > 0} onToggle={(e) => setOpen(e.currentTarget.open)} data-testid={testId}>
      <summary>
        {label}
        {required && <span className="sf-required"> *</span>}
        {count !== undefined && <span className="badge">{count}</span>}
        {issues > 0 && <span className="sf-issue-count">{issues === 1 ? '1 problem' : `${issues} problems`}</span>}
      </summary>
      <div className="sf-section-body">{children}</div>
    </details>
  );
}

function wrap(p: FieldProps, body: ReactNode, filled: boolean, count?: number) {
  if (p.place !== 'property') return body;
  return (
    <Section label={p.label} required={p.required} filled={filled} count={count} issues={p.issues.length} testId={`section-${dotted(p.path)}`}>
      {p.schema.description && <p className="sf-help">{p.schema.description}</p>}
      {body}
    </Section>
  );
}

/**
 * An object's fields in schema order. `slots` replace the generic field of some properties
 * (the inspector's skill picker); their issues are theirs to show.
 */
export function ObjectField(p: FieldProps & { slots?: Record<string, ReactNode> }) {
  const obj = isRecord(p.value) ? p.value : {};
  const properties = p.schema.properties ?? {};
  const keys = Object.keys(properties);
  const required = new Set(p.schema.required ?? []);
  const own = ownIssues(p.issues, p.path, (segment) => keys.includes(String(segment)));
  const set = (key: string, v: unknown, commit?: boolean) => {
    const next = { ...obj };
    if (v === undefined) delete next[key];
    else next[key] = v;
    // An optional group left empty is left out, rather than kept as {} with its required fields missing.
    p.onChange(p.place === 'property' && !p.required && Object.keys(next).length === 0 ? undefined : next, commit);
  };
  const body = (
    <div className="sf-object">
      <IssueList issues={own} path={p.path} testId={p.place === 'root' ? 'form-issues' : undefined} />
      {keys.length === 0 && <p className="muted sf-none">Nothing to set.</p>}
      {keys.map((key) =>
        p.slots?.[key] !== undefined ? (
          <Fragment key={key}>{p.slots[key]}</Fragment>
        ) : (
          <Field
            key={key}
            schema={properties[key]!}
            root={p.root}
            value={obj[key]}
            onChange={(v, commit) => set(key, v, commit)}
            path={[...p.path, key]}
            issues={issuesUnder(p.issues, [...p.path, key])}
            label={properties[key]!.title ?? humanize(key)}
            required={required.has(key)}
            readOnly={p.readOnly}
            refs={p.refs}
            override={p.override}
            place="property"
          />
        ),
      )}
    </div>
  );
  return wrap(p, body, Object.keys(obj).length > 0);
}

function ItemButtons({ path, index, count, readOnly, onMove, onRemove, what }: { path: Path; index: number; count: number; readOnly: boolean; onMove: (by: -1 | 1) => void; onRemove: () => void; what: string }) {
  const at = dotted([...path, index]);
  return (
    <span className="sf-item-buttons">
      <button type="button" onClick={() => onMove(-1)} disabled={readOnly || index === 0} aria-label={`Move ${what} ${index + 1} up`} title="Move up" data-testid={`up-${at}`}>
        ↑
      </button>
      <button type="button" onClick={() => onMove(1)} disabled={readOnly || index === count - 1} aria-label={`Move ${what} ${index + 1} down`} title="Move down" data-testid={`down-${at}`}>
        ↓
      </button>
      <button type="button" className="danger" onClick={onRemove} disabled={readOnly} aria-label={`Remove ${what} ${index + 1}`} title="Remove" data-testid={`remove-${at}`}>
        ✕
      </button>
    </span>
  );
}

const COMPACT: readonly Shape['kind'][] = ['string', 'number', 'boolean', 'enum', 'const'];

function itemTitle(item: unknown, index: number): string {
  if (isRecord(item)) {
    for (const key of ['id', 'name', 'port']) if (typeof item[key] === 'string' && item[key]) return `${index + 1}. ${item[key] as string}`;
  }
  return `${index + 1}.`;
}

function ArrayField(p: FieldProps) {
  const items = Array.isArray(p.value) ? p.value : [];
  const itemSchema = p.schema.items as JsonSchema;
  const compact = COMPACT.includes(shapeOf(itemSchema, p.root, p.refs).kind);
  const own = ownIssues(p.issues, p.path, (segment) => typeof segment === 'number' && segment < items.length);
  const what = p.label ? p.label.toLowerCase() : 'item';
  const move = (index: number, by: -1 | 1) => {
    const next = [...items];
    [next[index], next[index + by]] = [next[index + by], next[index]];
    p.onChange(next, true);
  };
  const full = p.schema.maxItems !== undefined && items.length >= p.schema.maxItems;
  const body = (
    <div className="sf-array">
      <IssueList issues={own} path={p.path} />
      {items.length === 0 && <p className="muted sf-none">None yet.</p>}
      {items.map((item, i) => {
        const field = (
          <Field
            schema={itemSchema}
            root={p.root}
            value={item}
            onChange={(v, commit) => p.onChange(items.map((old, j) => (j === i ? v : old)), commit)}
            path={[...p.path, i]}
            issues={issuesUnder(p.issues, [...p.path, i])}
            label={`${p.label || 'Item'} ${i + 1}`}
            required
            readOnly={p.readOnly}
            refs={p.refs}
            override={p.override}
            place="item"
            bare={compact}
          />
        );
        const buttons = <ItemButtons path={p.path} index={i} count={items.length} readOnly={p.readOnly} what={what} onMove={(by) => move(i, by)} onRemove={() => p.onChange(items.filter((_, j) => j !== i), true)} />;
        return compact ? (
          <div className="sf-row-item" key={i}>
            {field}
            {buttons}
          </div>
        ) : (
          <div className="sf-item" key={i}>
            <div className="sf-item-head">
              <strong>{itemTitle(item, i)}</strong>
              {buttons}
            </div>
            {field}
          </div>
        );
      })}
      {!p.readOnly && (
        <button type="button" className="sf-add" onClick={() => p.onChange([...items, newItem(itemSchema, p.root)], true)} disabled={full} data-testid={`add-${dotted(p.path)}`}>
          + Add {p.label ? singular(p.label.toLowerCase()) : 'item'}
        </button>
      )}
    </div>
  );
  return wrap(p, body, items.length > 0, items.length);
}

function singular(word: string): string {
  return word.endsWith('ies') ? `${word.slice(0, -3)}y` : word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

type Rows = [string, unknown][];

/** Key/value rows of a map (`additionalProperties`). Rows whose keys clash are kept as `Unfinished`. */
function RecordField(p: FieldProps) {
  const rows: Rows = p.value instanceof Unfinished ? (p.value.draft as Rows) : isRecord(p.value) ? Object.entries(p.value) : [];
  const valueSchema = p.schema.additionalProperties as JsonSchema;
  const compact = COMPACT.includes(shapeOf(valueSchema, p.root, p.refs).kind);
  const keys = new Set(rows.map(([k]) => k));
  const own = ownIssues(p.issues, p.path, (segment) => keys.has(String(segment)));
  const emit = (next: Rows, commit?: boolean) => {
    const names = next.map(([k]) => k);
    const clash = names.find((k, i) => names.indexOf(k) !== i);
    if (names.includes('')) return p.onChange(new Unfinished('every row needs a key', next), commit);
    if (clash !== undefined) return p.onChange(new Unfinished(`the key "${clash}" is used twice`, next), commit);
    p.onChange(Object.fromEntries(next), commit);
  };
  const freshKey = () => {
    for (let n = 1; ; n++) if (!keys.has(n === 1 ? 'key' : `key${n}`)) return n === 1 ? 'key' : `key${n}`;
  };
  const what = p.label ? p.label.toLowerCase() : 'entry';
  const body = (
    <div className="sf-record">
      <IssueList issues={own} path={p.path} />
      {rows.length === 0 && <p className="muted sf-none">None yet.</p>}
      {rows.map(([key, value], i) => {
        const keyInput = (
          <input
            className="sf-key"
            value={key}
            onChange={(e) => emit(rows.map((row, j) => (j === i ? [e.target.value, row[1]] : row)))}
            disabled={p.readOnly}
            aria-label={`${p.label || 'Entry'} ${i + 1}: name`}
            placeholder="name"
            data-testid={`field-${dotted([...p.path, key])}-key`}
          />
        );
        const field = (
          <Field
            schema={valueSchema}
            root={p.root}
            value={value}
            onChange={(v, commit) => emit(rows.map((row, j) => (j === i ? [row[0], v] : row)), commit)}
            path={[...p.path, key]}
            issues={issuesUnder(p.issues, [...p.path, key])}
            label={`${p.label || 'Entry'} "${key}"`}
            required
            readOnly={p.readOnly}
            refs={p.refs}
            override={p.override}
            place="item"
            bare={compact}
          />
        );
        const remove = (
          <button type="button" className="danger" onClick={() => emit(rows.filter((_, j) => j !== i), true)} disabled={p.readOnly} aria-label={`Remove ${what} "${key}"`} title="Remove" data-testid={`remove-${dotted([...p.path, key])}`}>
            ✕
          </button>
        );
        return compact ? (
          <div className="sf-row-item sf-record-row" key={i}>
            {keyInput}
            {field}
            {remove}
          </div>
        ) : (
          <div className="sf-item" key={i}>
            <div className="sf-item-head">
              {keyInput}
              {remove}
            </div>
            {field}
          </div>
        );
      })}
      {!p.readOnly && (
        <button type="button" className="sf-add" onClick={() => emit([...rows, [freshKey(), newItem(valueSchema, p.root)]], true)} data-testid={`add-${dotted(p.path)}`}>
          + Add {p.label ? singular(p.label.toLowerCase()) : 'entry'}
        </button>
      )}
    </div>
  );
  return wrap(p, body, rows.length > 0, rows.length);
}

/** One of several object shapes, chosen by a constant field (a decomposition's `by`). */
function UnionField(p: FieldProps & { variants: JsonSchema[]; discriminator: string }) {
  const key = p.discriminator;
  const obj = isRecord(p.value) ? p.value : {};
  const constOf = (v: JsonSchema) => v.properties![key]!.const;
  const variant = p.variants.find((v) => sameValue(constOf(v), obj[key]));
  const keyPath = [...p.path, key];
  const choose = (raw: string) => {
    const next = p.variants.find((v) => String(constOf(v)) === raw);
    if (!next) return p.onChange(undefined, true);
    const fresh = newItem(next, p.root) as Record<string, unknown>;
    p.onChange({ ...fresh, [key]: constOf(next) }, true);
  };
  const selectIssues = p.issues.filter((i) => i.path.length <= p.path.length || startsWith(i.path, keyPath));
  const rest = p.issues.filter((i) => !selectIssues.includes(i));
  const body = (
    <div className="sf-union">
      <Shell label={humanize(key)} required description={undefined} issues={selectIssues} path={keyPath}>
        {(a11y) => (
          <select {...a11y} value={variant ? String(constOf(variant)) : ''} onChange={(e) => choose(e.target.value)} disabled={p.readOnly} data-testid={`field-${dotted(keyPath)}`}>
            {!variant && (
              <option value="" disabled>
                choose…
              </option>
            )}
            {p.variants.map((v) => (
              <option key={String(constOf(v))} value={String(constOf(v))}>
                {String(constOf(v))}
              </option>
            ))}
          </select>
        )}
      </Shell>
      {variant && (
        <ObjectField
          {...p}
          schema={{ ...variant, properties: Object.fromEntries(Object.entries(variant.properties!).filter(([k]) => k !== key)), required: (variant.required ?? []).filter((k) => k !== key) }}
          issues={rest}
          place="item"
        />
      )}
    </div>
  );
  return wrap(p, body, variant !== undefined);
}

