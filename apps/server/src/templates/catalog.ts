import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlowText, type Flow } from '@loom/shared';
import { NotFoundError } from '../errors.js';

export interface Template {
  /** File name without `.json`. */
  name: string;
  title: string;
  description: string;
  /** A ready input (from the example's first golden case), when there is one. */
  sampleInput?: unknown;
  flow: Flow;
}

/**
 * Ready flows from the repository's `examples/` folder: the templates gallery, and what a
 * new database starts with. Read once; an example that does not validate is left out
 * (its golden test reports it).
 */
export class TemplateCatalog {
  private readonly templates: Template[];

  constructor(dir: string) {
    this.templates = readTemplates(dir);
  }

  list(): Template[] {
    return this.templates;
  }

  get(name: string): Template {
    const template = this.templates.find((t) => t.name === name);
    if (!template) throw new NotFoundError('template', name);
    return template;
  }
}

function readTemplates(dir: string): Template[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const templates: Template[] = [];
  for (const file of names.filter((n) => n.endsWith('.json') && !n.endsWith('.golden.json')).sort()) {
    const parsed = parseFlowText(readFileSync(join(dir, file), 'utf8'));
    if (!parsed.ok) continue;
    const name = file.replace(/\.json$/, '');
    const template: Template = { name, title: parsed.flow.name, description: parsed.flow.description ?? '', flow: parsed.flow };
    const golden = join(dir, `${name}.golden.json`);
    if (names.includes(`${name}.golden.json`)) {
      try {
        const cases = JSON.parse(readFileSync(golden, 'utf8')) as { input?: unknown }[];
        if (cases[0]?.input !== undefined) template.sampleInput = cases[0].input;
      } catch {
        // A broken golden file only costs the sample input.
      }
    }
    templates.push(template);
  }
  return templates;
}
