import { useId, type ReactNode } from 'react';
import type { FlowIssue } from '@loom/shared';
import { Unfinished } from './draft.js';
import { dotted, shapeOf, startsWith, type JsonSchema, type Path, type Shape } from './schema.js';
import { ArrayField, ObjectField, RecordField, UnionField } from './composite-fields.js';
import { BooleanField, ConstField, EnumField, JsonField, NumberField, StringField } from './scalar-fields.js';

export { ObjectField, Section } from './composite-fields.js';
export { JsonField } from './scalar-fields.js';

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
export function ownIssues(issues: readonly FlowIssue[], path: Path, isChild: (segment: string | number) => boolean): FlowIssue[] {
  return issues.filter((i) => !(startsWith(i.path, path) && i.path.length > path.length && isChild(i.path[path.length]!)));
}

export function issuesUnder(issues: readonly FlowIssue[], path: Path): FlowIssue[] {
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
