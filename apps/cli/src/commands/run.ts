import { closeSync, openSync, writeSync } from 'node:fs';
import type { RunEvent } from '@loom/shared';
import { createStandardProviders, derivedIds, envCredentials, fetchHttpClient, runFlow, RunInputError, systemClock, type EventSink } from '@loom/engine';
import { loadFlow, readTextFile, resolvePath } from '../load.js';
import { EXIT, UsageError } from '../usage.js';
import { describeEvent, formatValue } from '../format.js';
import { cliSandbox } from '../sandbox.js';

export interface RunCommandOptions {
  input?: string;
  inputFile?: string;
  json: boolean;
  events?: string;
  runId?: string;
}

export async function runCommand(file: string, options: RunCommandOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const { compiled } = loadFlow(file);
  const input = parseInput(options);
  const eventsFile = options.events === undefined ? undefined : openEventsFile(options.events);
  const sink = createCliSink(options.json, eventsFile, out);

  const controller = new AbortController();
  const cancel = () => {
    if (!options.json) err('cancelling the run (Ctrl-C again to quit at once)');
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  const sandbox = cliSandbox(process.env);
  try {
    const result = await runFlow(
      compiled,
      { clock: systemClock, ids: derivedIds, llm: createStandardProviders(providerUrls(process.env)), http: fetchHttpClient, credentials: envCredentials(process.env), sandbox, log: sink, signal: controller.signal },
      { input, ...(options.runId !== undefined ? { runId: options.runId } : {}) },
    );
    if (!options.json) {
      out('');
      out(`run ${result.runId} ${result.status}${result.error ? `: ${result.error.message}` : ''}`);
      if (result.output !== undefined) out(`output: ${formatValue(result.output, 2000)}`);
      if (options.events) out(`events saved to ${options.events}`);
    }
    return result.status === 'succeeded' ? EXIT.ok : EXIT.runFailed;
  } catch (error) {
    if (error instanceof RunInputError) {
      throw new UsageError(error.issues.map((issue) => `${file}: input node "${issue.nodeId}": ${issue.message}`).join('\n'));
    }
    throw error;
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
    await sandbox.close();
    if (eventsFile !== undefined) closeSync(eventsFile);
  }
}

/** Opened before the run, so a bad path is a usage error (exit 2), not a crash after the run. */
function openEventsFile(file: string): number {
  try {
    return openSync(resolvePath(file), 'w');
  } catch (error) {
    throw new UsageError(`--events ${file}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function parseInput(options: RunCommandOptions): unknown {
  if (options.input !== undefined && options.inputFile !== undefined) throw new UsageError('give --input or --input-file, not both');
  const [text, where] =
    options.input !== undefined ? [options.input, '--input'] : options.inputFile !== undefined ? [readTextFile(options.inputFile), options.inputFile] : [undefined, ''];
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${where}: not valid JSON (${(error as Error).message})`);
  }
}

/** --json: every event as a line on stdout. Otherwise: a progress line per meaningful event. */
function createCliSink(json: boolean, file: number | undefined, out: (line: string) => void): EventSink {
  const started = new Map<string, number>();
  return {
    append(event: RunEvent) {
      // Written synchronously, so the file holds every event even if the process is killed.
      if (file !== undefined) writeSync(file, JSON.stringify(event) + '\n');
      if (json) {
        process.stdout.write(JSON.stringify(event) + '\n');
        return;
      }
      const line = describeEvent(event, started);
      if (line !== undefined) out(line);
    },
  };
}

/** Base URLs of the standard providers from the environment (a local vLLM or Ollama, a proxy…). */
export function providerUrls(env: NodeJS.ProcessEnv): { openaiBaseUrl?: string; anthropicBaseUrl?: string; ollamaBaseUrl?: string } {
  return {
    ...(env['LOOM_OPENAI_BASE_URL'] ? { openaiBaseUrl: env['LOOM_OPENAI_BASE_URL'] } : {}),
    ...(env['LOOM_ANTHROPIC_BASE_URL'] ? { anthropicBaseUrl: env['LOOM_ANTHROPIC_BASE_URL'] } : {}),
    ...(env['LOOM_OLLAMA_BASE_URL'] ? { ollamaBaseUrl: env['LOOM_OLLAMA_BASE_URL'] } : {}),
  };
}
