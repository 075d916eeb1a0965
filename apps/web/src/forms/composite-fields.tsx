// The form's container fields: objects, lists, maps and unions, each holding `Field`s.
import { Fragment, useState, type ReactNode } from 'react';
import { Unfinished, sameValue } from './draft.js';
import { dotted, humanize, isRecord, newItem, shapeOf, startsWith, type JsonSchema, type Path, type Shape } from './schema.js';
import { IssueList, issuesUnder, ownIssues, Shell, type FieldProps } from './field-shell.js';
import { BooleanField, ConstField, EnumField, JsonField, NumberField, StringField } from './scalar-fields.js';
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


export function wrap(p: FieldProps, body: ReactNode, filled: boolean, count?: number) {
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

export function ItemButtons({ path, index, count, readOnly, onMove, onRemove, what }: { path: Path; index: number; count: number; readOnly: boolean; onMove: (by: -1 | 1) => void; onRemove: () => void; what: string }) {
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

export const COMPACT: readonly Shape['kind'][] = ['string', 'number', 'boolean', 'enum', 'const'];

export function itemTitle(item: unknown, index: number): string {
  if (isRecord(item)) {
    for (const key of ['id', 'name', 'port']) if (typeof item[key] === 'string' && item[key]) return `${index + 1}. ${item[key] as string}`;
  }
  return `${index + 1}.`;
}

export function ArrayField(p: FieldProps) {
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

export function singular(word: string): string {
  return word.endsWith('ies') ? `${word.slice(0, -3)}y` : word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

type Rows = [string, unknown][];

/** Key/value rows of a map (`additionalProperties`). Rows whose keys clash are kept as `Unfinished`. */
export function RecordField(p: FieldProps) {
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
export function UnionField(p: FieldProps & { variants: JsonSchema[]; discriminator: string }) {
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
