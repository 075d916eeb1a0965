#!/usr/bin/env -S npx tsx
import { parseArgs } from 'node:util';
import { createBuiltinSkillRegistry } from '@loom/engine';
import { flowJsonSchema, runEventJsonSchema } from '@loom/shared';
import { InvalidFlowError } from './load.js';
import { EXIT, HELP, UsageError } from './usage.js';
import { validateCommand } from './commands/validate.js';
import { runCommand } from './commands/run.js';
import { replayCommand } from './commands/replay.js';

const out = (line: string) => process.stdout.write(line + '\n');
const err = (line: string) => process.stderr.write(line + '\n');

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      input: { type: 'string' },
      'input-file': { type: 'string' },
      json: { type: 'boolean', default: false },
      events: { type: 'string' },
      'run-id': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'max-concurrent': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, file, ...extra] = positionals;
  if (values.help || command === undefined || command === 'help') {
    out(HELP);
    return command === undefined && !values.help ? EXIT.invalid : EXIT.ok;
  }
  if (command === 'mcp') {
    // Imported only here: the MCP SDK takes a while to load, which other commands need not pay.
    const { mcpCommand } = await import('./commands/mcp.js');
    return mcpCommand(positionals.slice(1), { timeoutMs: positiveInt(values['timeout-ms'], '--timeout-ms', 300_000), maxConcurrent: positiveInt(values['max-concurrent'], '--max-concurrent', 8) }, err);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const needFile = (what: string) => {
    if (file === undefined) throw new UsageError(`${command} needs ${what}: pnpm flow ${command} <${what}>`);
    return file;
  };
  switch (command) {
    case 'validate':
      return validateCommand(needFile('flow.json'), out);
    case 'run':
      return runCommand(
        needFile('flow.json'),
        {
          json: values.json,
          ...(values.input !== undefined ? { input: values.input } : {}),
          ...(values['input-file'] !== undefined ? { inputFile: values['input-file'] } : {}),
          ...(values.events !== undefined ? { events: values.events } : {}),
          ...(values['run-id'] !== undefined ? { runId: values['run-id'] } : {}),
        },
        out,
        err,
      );
    case 'replay':
      return replayCommand(needFile('events.ndjson'), { json: values.json }, out);
    case 'skills':
      for (const skill of createBuiltinSkillRegistry().list()) out(`${skill.id.padEnd(16)} ${skill.effect === 'io' ? '(io)  ' : '      '}${skill.description}`);
      return EXIT.ok;
    case 'schema':
      if (file !== undefined && file !== 'flow' && file !== 'events') throw new UsageError(`schema takes "flow" (the default) or "events", got "${file}"`);
      out(JSON.stringify(file === 'events' ? runEventJsonSchema() : flowJsonSchema(), null, 2));
      return EXIT.ok;
    default:
      throw new UsageError(`unknown command "${command}" (commands: validate, run, replay, skills, schema, mcp)`);
  }
}

function positiveInt(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new UsageError(`${option} must be a positive whole number, got "${value}"`);
  return number;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof InvalidFlowError || error instanceof UsageError) {
      err(error.message);
      process.exitCode = EXIT.invalid;
    } else if (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`${error.message}\n\n${HELP}`);
      process.exitCode = EXIT.invalid;
    } else {
      err(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 70;
    }
  },
);
