// What every field shares: its props, the shell around it (label, help, issues), and how
// issues are matched to fields.
import { useId, type ReactNode } from 'react';
import type { FlowIssue } from '@loom/shared';
import { dotted, startsWith, type JsonSchema, type Path, type Shape } from './schema.js';

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
