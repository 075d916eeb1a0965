import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { FlowNode, nodeConfigJsonSchema, zodIssuesToFlowIssues, type FlowIssue, type FlowNote, type NodeKind } from '@loom/shared';
import { isFlowNode, isNote, NOTE_COLORS, type NoteCanvasNode } from '../flow/model.js';
import { sameValue, stripUnfinished } from '../forms/draft.js';
import { Field, IssueList, JsonField, ObjectField, SchemaForm, Section, Shell, type FieldOverride, type FieldProps } from '../forms/SchemaForm.js';
import { defaultsOf, dotted, isRecord, startsWith, type JsonSchema, type Path } from '../forms/schema.js';
import { validateValue } from '../forms/validate.js';
import { flowNodeAt, useEditor } from '../stores/editor.js';
import { loadSkills, useSkills, type SkillInfo } from '../stores/skills.js';
import { loadMcpTools, useMcpTools, type McpToolInfo } from '../stores/mcp.js';

/** Quiet time after a keystroke before the draft is checked again. */
const VALIDATE_DELAY_MS = 150;

/**
 * The selected node's settings: the fields every node has, then a form generated from the
 * JSON Schema of its kind's configuration (or that configuration as JSON, for power users).
 * The draft is checked against the node schema as the person types, each problem under its
 * field. A valid draft reaches the canvas as one undoable step when a choice is made, when
 * the person leaves a field or presses Enter; never a keystroke at a time, never invalid.
 */
export function Inspector({ readOnly }: { readOnly: boolean }) {
  // useShallow: the filtered array is new on every call; compare its items instead.
  const selected = useEditor(useShallow((s) => s.nodes.filter((n) => n.selected)));
  if (selected.length === 0) return <aside className="inspector empty" data-testid="inspector">Select a node to see its settings. Drag nodes from the palette; connect an output handle to an input handle.</aside>;
  if (selected.length > 1) return <aside className="inspector" data-testid="inspector">{selected.length} nodes selected. Copy (Ctrl+C), paste (Ctrl+V) or delete them (Delete).</aside>;
  const node = selected[0]!;
  if (isNote(node)) return <NoteForm key={node.id} note={node} readOnly={readOnly} />;
  return <NodeForm key={node.id} nodeId={node.id} readOnly={readOnly} />;
}

const configSchemas = new Map<NodeKind, JsonSchema>();

/** The kind's config schema; built once per kind (the nested-node definition is large). */
function configSchemaOf(kind: NodeKind): JsonSchema {
  let schema = configSchemas.get(kind);
  if (!schema) configSchemas.set(kind, (schema = nodeConfigJsonSchema(kind) as JsonSchema));
  return schema;
}

type Draft = Record<string, unknown>;

/**
 * Everything wrong with a draft node, and the node to apply when nothing is: unfinished
 * text, the shared node schema, each skill's parameters against the catalogue, a clashing id.
 */
export function checkNode(draft: Draft, nodeId: string, skills: readonly SkillInfo[] | null, isTaken: (id: string) => boolean): { issues: FlowIssue[]; node: FlowNode | null } {
  const { clean, issues } = stripUnfinished(draft);
  const unfinished = [...issues];
  // Through JSON, as it will be saved: no undefined fields.
  const candidate = JSON.parse(JSON.stringify(clean)) as Draft;
  const parsed = FlowNode.safeParse(candidate);
  if (!parsed.success) {
    // An unfinished field is left out of the candidate: its "missing" issue would say it twice.
    issues.push(...zodIssuesToFlowIssues(parsed.error.issues, candidate).filter((i) => !unfinished.some((u) => startsWith(i.path, u.path))));
  }
  if (skills) issues.push(...skillIssues(candidate['config'], skills, ['config']));
  if (typeof candidate['id'] === 'string' && candidate['id'] !== nodeId && isTaken(candidate['id'])) issues.push({ path: ['id'], message: `another node is already called "${candidate['id']}"` });
  // The schema fills defaults; apply what the person wrote, so the document stays theirs.
  return { issues, node: issues.length === 0 ? (candidate as FlowNode) : null };
}

/** Each `{ skill, params }` in a config (a skill node, agent tools, chain steps, nested nodes) against the skill's parameter schema. */
function skillIssues(config: unknown, skills: readonly SkillInfo[], path: Path): FlowIssue[] {
  const out: FlowIssue[] = [];
  const walk = (value: unknown, at: Path): void => {
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, [...at, i]));
    if (!isRecord(value)) return;
    const uses = typeof value['skill'] === 'string' && value['skill'] !== '' && (value['params'] === undefined || isRecord(value['params']));
    if (uses) {
      const info = skills.find((s) => s.id === value['skill']);
      if (!info) out.push({ path: [...at, 'skill'], message: `there is no skill "${value['skill'] as string}" (see the list)` });
      else out.push(...validateValue(info.params as JsonSchema, value['params'] ?? {}, info.params as JsonSchema, [...at, 'params']));
    }
    // Parameters are the skill's data, not more configuration.
    for (const [key, item] of Object.entries(value)) if (!(uses && key === 'params')) walk(item, [...at, key]);
  };
  walk(config, path);
  return out;
}

function setIn(target: Draft, path: readonly string[], value: unknown): Draft {
  const [head, ...rest] = path as [string, ...string[]];
  const next = { ...target };
  const inner = rest.length === 0 ? value : setIn(isRecord(target[head]) ? target[head] : {}, rest, value);
  // A group left empty (retry without its fields) is left out.
  if (inner === undefined || (rest.length > 0 && isRecord(inner) && Object.keys(inner).length === 0)) delete next[head];
  else next[head] = inner;
  return next;
}

function getIn(target: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((value, key) => (isRecord(value) ? value[key] : undefined), target);
}

const issuesUnder = (issues: readonly FlowIssue[], path: Path) => issues.filter((i) => startsWith(i.path, path));

interface Common {
  path: string[];
  label: string;
  schema: JsonSchema;
  testId: string;
}

/** The fields every node has (the node schema's limits are checked by the schema itself). */
const NAMING: Common[] = [
  { path: ['id'], label: 'Id', schema: { type: 'string' }, testId: 'inspector-id' },
  { path: ['name'], label: 'Name', schema: { type: 'string' }, testId: 'inspector-name' },
];
const DESCRIPTION: Common = { path: ['description'], label: 'Description', schema: { type: 'string', 'x-multiline': true }, testId: 'inspector-description' };
const ON_ERROR: Common = {
  path: ['onError'],
  label: 'On error',
  schema: { enum: ['fail', 'continue'], default: 'fail', description: 'continue: the node fails alone and sends { error } out of its error port.' },
  testId: 'inspector-on-error',
};
const LIMITS: Common[] = [
  { path: ['retry', 'maxAttempts'], label: 'Attempts', schema: { type: 'integer', minimum: 1, maximum: 100, default: 1 }, testId: 'inspector-attempts' },
  { path: ['retry', 'backoffMs'], label: 'Backoff ms', schema: { type: 'integer', minimum: 0, default: 200 }, testId: 'inspector-backoff' },
  { path: ['timeoutMs'], label: 'Timeout ms', schema: { type: 'integer', minimum: 1 }, testId: 'inspector-timeout' },
];
const BEHAVIOUR = [ON_ERROR, ...LIMITS];
const COMMON_PATHS: Path[] = [...NAMING, DESCRIPTION, ...BEHAVIOUR].map((c) => c.path);

function NodeForm({ nodeId, readOnly }: { nodeId: string; readOnly: boolean }) {
  const stored = useEditor((s) => flowNodeAt(s, nodeId));
  const updateNode = useEditor((s) => s.updateNode);
  const skills = useSkills((s) => s.skills);
  const skillsError = useSkills((s) => s.error);
  useEffect(() => loadSkills(), []);
  const mcpTools = useMcpTools((s) => s.tools);
  const mcpError = useMcpTools((s) => s.error);
  useEffect(() => loadMcpTools(), []);

  // Ids are unique within one flow: a sub-flow's inner nodes are checked against each other.
  const isTaken = (id: string) => {
    const { nodes } = useEditor.getState();
    const parentId = nodes.find((n) => n.id === nodeId)?.parentId;
    return nodes.some((n) => n.id !== nodeId && isFlowNode(n) && n.parentId === parentId && n.data.node.id === id);
  };
  const check = (d: Draft) => checkNode(d, stored?.id ?? nodeId, skills, isTaken);
  const [base, setBase] = useState(stored);
  const [draft, setDraft] = useState<Draft>(() => ({ ...stored }));
  const [issues, setIssues] = useState<FlowIssue[]>(() => (stored ? check(stored as Draft).issues : []));
  const [jsonMode, setJsonMode] = useState(false);
  // Read by blur and unmount handlers, which must see the latest keystroke.
  const latest = useRef(draft);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  // The node changed outside this form (undo, redo, our own apply): start again from it.
  if (stored !== base) {
    setBase(stored);
    if (stored) {
      latest.current = stored as Draft;
      setDraft(stored as Draft);
      setIssues(check(stored as Draft).issues);
    }
  }

  const apply = (d: Draft = latest.current) => {
    clearTimeout(timer.current);
    const result = check(d);
    setIssues(result.issues);
    if (!result.node || readOnly) return;
    const current = flowNodeAt(useEditor.getState(), nodeId);
    if (current && !sameValue(result.node, current)) updateNode(nodeId, result.node);
  };
  const applyLatest = useRef(apply);
  applyLatest.current = apply;

  const change = (next: Draft, commit?: boolean) => {
    latest.current = next;
    setDraft(next);
    if (commit) return apply(next);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setIssues(check(latest.current).issues), VALIDATE_DELAY_MS);
  };

  // The catalogue arrived: check the parameters against it.
  useEffect(() => {
    if (skills) setIssues(check(latest.current).issues);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the catalogue changes
  }, [skills]);
  // Leaving the node (another selection) keeps a valid edit that was not applied yet.
  useEffect(
    () => () => {
      clearTimeout(timer.current);
      applyLatest.current();
    },
    [],
  );

  if (!stored) return null;
  const kind = stored.kind;
  const configIssues = issuesUnder(issues, ['config']).map((i) => ({ ...i, path: i.path.slice(1) }));
  const otherIssues = issues.filter((i) => !startsWith(i.path, ['config']) && !COMMON_PATHS.some((p) => startsWith(i.path, p)));
  const configUnfinished = stripUnfinished(draft['config']).issues.length > 0;
  const pending = !sameValue(stripUnfinished(draft).clean, stored);

  const commonField = (c: Common) => (
    <Field
      key={c.testId}
      schema={c.schema}
      root={c.schema}
      value={getIn(draft, c.path)}
      onChange={(v, commit) => change(setIn(latest.current, c.path, v), commit)}
      path={c.path}
      issues={issuesUnder(issues, c.path)}
      label={c.label}
      required={c.path[0] === 'id'}
      readOnly={readOnly}
      refs={[]}
      override={undefined}
      place="property"
      testId={c.testId}
    />
  );

  const override: FieldOverride = (p) => {
    // A flow inside the node (a sub-flow, an agent's sub-flow tool) is a graph: JSON, not a form.
    if (isFlowSchema(p.schema)) return <JsonField {...p} collapsed />;
    if (p.shape.kind === 'object' && usesSkill(p.schema)) return <SkillUse {...p} skills={skills} error={skillsError} />;
    if (p.shape.kind === 'object' && usesMcpTool(p.schema)) return <McpToolUse {...p} tools={mcpTools} error={mcpError} />;
    return undefined;
  };
  const setConfig = (config: unknown, commit?: boolean) => change({ ...latest.current, config }, commit);

  return (
    // Delete and Backspace on a focused button or fold here must not delete the node (the canvas shortcut).
    <aside className="inspector" data-testid="inspector" onKeyDown={(e) => (e.key === 'Delete' || e.key === 'Backspace') && e.stopPropagation()}>
      <h3>
        {kind} <code>{nodeId}</code>
      </h3>
      <form
        className="inspector-form"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
        onBlur={() => apply()}
      >
        <IssueList issues={otherIssues} path={[]} testId="inspector-issues" />
        <div className="sf-grid">{NAMING.map(commonField)}</div>
        {commonField(DESCRIPTION)}
        <Section
          label="On error, retries, timeout"
          required={false}
          filled={BEHAVIOUR.some((c) => getIn(draft, c.path) !== undefined)}
          issues={issues.filter((i) => BEHAVIOUR.some((c) => startsWith(i.path, c.path))).length}
          testId="inspector-behaviour"
        >
          {commonField(ON_ERROR)}
          <div className="sf-grid three">{LIMITS.map(commonField)}</div>
        </Section>
        <div className="inspector-config-head">
          <h4>Configuration</h4>
          <button
            type="button"
            onClick={() => setJsonMode(!jsonMode)}
            disabled={configUnfinished}
            title={configUnfinished ? 'Fix the fields marked in red first' : jsonMode ? 'Back to the form' : 'Edit the whole configuration as JSON'}
            data-testid="inspector-json-toggle"
          >
            {jsonMode ? 'Edit as form' : 'Edit as JSON'}
          </button>
        </div>
        {jsonMode ? (
          <JsonField schema={{}} root={{}} value={draft['config']} onChange={setConfig} path={[]} issues={configIssues} label="Configuration (JSON)" required={false} readOnly={readOnly} refs={[]} override={undefined} place="root" bare rows={16} testId="inspector-config" />
        ) : (
          <SchemaForm schema={configSchemaOf(kind)} value={draft['config']} onChange={setConfig} issues={configIssues} readOnly={readOnly} override={override} />
        )}
        {!readOnly && (
          <div className="inspector-footer">
            <button type="submit" disabled={!pending} data-testid="inspector-apply">
              Apply
            </button>
            <span className={issues.length ? 'field-error' : 'muted'} data-testid="inspector-status" role="status">
              {issues.length ? `${issues.length === 1 ? '1 problem' : `${issues.length} problems`}: not applied` : pending ? 'Applies when you leave the field or press Enter' : 'Applied'}
            </span>
          </div>
        )}
      </form>
    </aside>
  );
}

function isFlowSchema(schema: JsonSchema): boolean {
  const properties = schema.properties;
  return properties?.['nodes']?.type === 'array' && properties['edges']?.type === 'array' && properties['version'] !== undefined;
}

/** An object naming an MCP tool: `{ server, tool }` (an `mcp` node's config, an agent's MCP tool). */
function usesMcpTool(schema: JsonSchema): boolean {
  const properties = schema.properties;
  return properties?.['server']?.type === 'string' && properties['tool']?.type === 'string';
}

/**
 * The server and tool as one list of the registered servers' tools; a tool changed since it
 * was approved is marked, and says it will not run until an admin approves it again.
 */
function McpToolUse(p: FieldProps & { tools: readonly McpToolInfo[] | null; error: string | null }) {
  const obj = isRecord(p.value) ? p.value : {};
  const serverPath = [...p.path, 'server'];
  const server = typeof obj['server'] === 'string' ? obj['server'] : '';
  const tool = typeof obj['tool'] === 'string' ? obj['tool'] : '';
  const value = server && tool ? `${server}/${tool}` : '';
  const known = p.tools?.find((t) => t.server === server && t.tool === tool);
  const choose = (next: string) => {
    const slash = next.indexOf('/');
    if (slash > 0) p.onChange({ ...obj, server: next.slice(0, slash), tool: next.slice(slash + 1) }, true);
  };
  const description = p.tools
    ? known
      ? known.state === 'changed'
        ? `Changed since it was approved: it will not run until an admin approves the change. ${known.description ?? ''}`
        : known.description
      : value
        ? 'Not a tool of a registered MCP server.'
        : p.tools.length === 0
          ? 'No MCP server is registered (mcp.servers.register in the API).'
          : undefined
    : (p.error ?? 'Loading the MCP tools…');
  const picker = (
    <Shell label="MCP tool" required description={description} issues={[...issuesUnder(p.issues, serverPath), ...issuesUnder(p.issues, [...p.path, 'tool'])]} path={serverPath}>
      {(a11y) => (
        <select {...a11y} value={value} onChange={(e) => choose(e.target.value)} disabled={p.readOnly || !p.tools} data-testid={`field-${dotted(serverPath)}`}>
          {!known && <option value={value}>{value ? `${value} (not registered)` : 'choose a tool…'}</option>}
          {(p.tools ?? [])
            .filter((t) => t.state === 'approved' || t.state === 'changed')
            .map((t) => (
              <option key={`${t.server}/${t.tool}`} value={`${t.server}/${t.tool}`}>
                {t.server} / {t.tool}
                {t.state === 'changed' ? ' (changed: needs approval)' : ''}
              </option>
            ))}
        </select>
      )}
    </Shell>
  );
  return <ObjectField {...p} slots={{ server: picker, tool: null }} />;
}

/** An object that runs a skill: `{ skill, params }` (a skill node, an agent's tool, a chain step, parallel skills). */
function usesSkill(schema: JsonSchema): boolean {
  const properties = schema.properties;
  return properties?.['skill']?.type === 'string' && properties['params']?.type === 'object';
}

/**
 * The skill as a list of the catalogue, and its parameters as the form of that skill's
 * parameter schema. Choosing another skill starts its parameters from that skill's defaults.
 */
function SkillUse(p: FieldProps & { skills: readonly SkillInfo[] | null; error: string | null }) {
  const obj = isRecord(p.value) ? p.value : {};
  const skillPath = [...p.path, 'skill'];
  const paramsPath = [...p.path, 'params'];
  const id = typeof obj['skill'] === 'string' ? obj['skill'] : '';
  const info = p.skills?.find((s) => s.id === id);
  const optional = !(p.schema.required ?? []).includes('skill');
  const choose = (next: string) => {
    if (next === '') {
      // No skill (an agent tool that runs a sub-flow instead): its parameters go with it.
      const { skill: _skill, params: _params, ...rest } = obj;
      return p.onChange(rest, true);
    }
    const chosen = p.skills?.find((s) => s.id === next);
    const schema = chosen?.params as JsonSchema | undefined;
    p.onChange({ ...obj, skill: next, params: schema ? defaultsOf(schema, schema) : {} }, true);
  };
  const categories = new Map<string, SkillInfo[]>();
  for (const skill of p.skills ?? []) categories.set(skill.category, [...(categories.get(skill.category) ?? []), skill]);

  const skillField = (
    <Shell label="Skill" required={!optional} description={p.skills ? (info?.description ?? (id ? 'Not a built-in skill.' : undefined)) : (p.error ?? 'Loading the skills…')} issues={issuesUnder(p.issues, skillPath)} path={skillPath}>
      {(a11y) =>
        p.skills ? (
          <select {...a11y} value={id} onChange={(e) => choose(e.target.value)} disabled={p.readOnly} data-testid={`field-${dotted(skillPath)}`}>
            {(optional || !info) && (
              <option value="" disabled={!optional}>
                {optional ? '— none' : 'choose a skill…'}
              </option>
            )}
            {!info && id && <option value={id}>{`${id} (unknown)`}</option>}
            {[...categories].map(([category, list]) => (
              <optgroup key={category} label={category}>
                {list.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.title} · {s.id}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        ) : (
          <input {...a11y} value={id} onChange={(e) => p.onChange({ ...obj, skill: e.target.value })} disabled={p.readOnly} data-testid={`field-${dotted(skillPath)}`} />
        )
      }
    </Shell>
  );
  const setParams = (params: unknown, commit?: boolean) => p.onChange({ ...obj, params }, commit);
  const paramsField = info ? (
    <fieldset className="sf-params" data-testid={`params-${dotted(p.path)}`}>
      <legend>{info.title} parameters</legend>
      <Field
        schema={info.params as JsonSchema}
        root={info.params as JsonSchema}
        value={obj['params'] ?? {}}
        onChange={setParams}
        path={paramsPath}
        issues={issuesUnder(p.issues, paramsPath)}
        label="Parameters"
        required
        readOnly={p.readOnly}
        refs={[]}
        override={undefined}
        place="item"
      />
    </fieldset>
  ) : (
    <JsonField schema={p.schema.properties!['params']!} root={p.root} value={obj['params']} onChange={setParams} path={paramsPath} issues={issuesUnder(p.issues, paramsPath)} label="Parameters" required={false} readOnly={p.readOnly} refs={[]} override={undefined} place="property" />
  );
  return <ObjectField {...p} slots={{ skill: skillField, params: paramsField }} />;
}

/** A note's colour; its text is edited on the canvas (double-click it). */
function NoteForm({ note, readOnly }: { note: NoteCanvasNode; readOnly: boolean }) {
  return (
    <aside className="inspector" data-testid="inspector">
      <h3>Note</h3>
      <p className="muted">Double-click the note to edit its text. Notes are saved with the flow and never run.</p>
      <label className="sf-field">
        Colour
        <select value={note.data.note.color ?? 'yellow'} disabled={readOnly} onChange={(e) => useEditor.getState().updateNote(note.id, { color: e.target.value as NonNullable<FlowNote['color']> })} data-testid="note-color">
          {NOTE_COLORS.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
    </aside>
  );
}
