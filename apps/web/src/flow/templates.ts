/** What the editor needs of a template to offer its sample input. */
export interface TemplateLike {
  name: string;
  flow: { id: string };
}

/**
 * The template a flow was made from, to prefill its run input with the template's sample.
 * "Use this template" and "Duplicate" keep the template's flow id when it is free and
 * otherwise add `-2`, `-3`… or `-copy` (the templates are also seeded as flows of their own
 * ids), so those suffixes still name the template.
 */
export function templateFor<T extends TemplateLike>(flowId: string, templates: readonly T[]): T | undefined {
  const exact = templates.find((t) => t.name === flowId || t.flow.id === flowId);
  if (exact) return exact;
  const stem = flowId.replace(/(-copy|-\d+)+$/, '');
  return stem === flowId ? undefined : templates.find((t) => t.name === stem || t.flow.id === stem);
}
