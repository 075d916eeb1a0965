import { z } from 'zod';
import { Flow } from './schema.js';
import { RunEvent } from '../events/schema.js';

/** JSON Schema (draft 2020-12) of the flow format, for editors and other tools. */
export function flowJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://loom.dev/schemas/flow.v1.json',
    title: 'Loom flow (format version 1)',
    ...z.toJSONSchema(Flow, { io: 'input', unrepresentable: 'any' }),
  };
}

/** JSON Schema of one run event (the NDJSON log's lines). */
export function runEventJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://loom.dev/schemas/run-event.v1.json',
    title: 'Loom run event (version 1)',
    ...z.toJSONSchema(RunEvent, { io: 'output', unrepresentable: 'any' }),
  };
}
