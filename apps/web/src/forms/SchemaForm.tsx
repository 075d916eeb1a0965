import type { JsonSchema, Path } from './schema.js';
import type { FlowIssue } from '@loom/shared';
import { Field } from './composite-fields.js';
import type { Change, FieldOverride } from './field-shell.js';

export { Field, ObjectField, Section } from './composite-fields.js';
export { IssueList, Shell, type Change, type FieldOverride, type FieldProps } from './field-shell.js';
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

export function SchemaForm({ schema, value, onChange, issues = [], readOnly = false, override, path = [] }: SchemaFormProps) {
  return (
    <div className="schema-form">
      <Field schema={schema} root={schema} value={value} onChange={onChange} path={path} issues={issues} label="" required readOnly={readOnly} refs={[]} override={override} place="root" />
    </div>
  );
}
