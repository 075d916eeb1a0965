/** Problems with how the CLI was called or with the files it was given: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT = { ok: 0, runFailed: 1, invalid: 2 } as const;

export const HELP = `Loom flow CLI

Usage:
  pnpm flow validate <flow.json>
      Check a flow: schema, graph, skills, parameters and expressions.
  pnpm flow run <flow.json> [--input '<json>' | --input-file <file>] [--json] [--events <file>] [--run-id <id>]
      Run a flow. --json prints one run event per line on stdout and nothing else;
      --events also saves the event log (NDJSON) while printing progress.
  pnpm flow replay <events.ndjson> [--json]
      Rebuild a run's final state and output from its event log alone; calls nothing.
  pnpm flow mcp <flow.json>... [--timeout-ms <ms>] [--max-concurrent <n>]
      Serve flows as MCP tools over stdio (stdout carries the protocol; messages go to stderr).
  pnpm flow skills             List the built-in skills.
  pnpm flow schema [events]    Print the JSON Schema of the flow format (or of a run event).

Exit codes: 0 the run succeeded (or the file is valid), 1 the run failed or was cancelled,
2 an invalid flow, input, event log or usage.`;
