import { z } from 'zod';
import { compileJsonSchema, type CompiledJsonSchema } from '../llm/json-schema.js';
import { NodeError } from '../errors.js';
import { runCodeInSandbox } from '../sandbox/code-call.js';
import { defineSkill, SkillParamError } from './skill.js';

const JsonSchemaObject = z.record(z.string(), z.unknown());

const CodeParams = z
  .object({
    language: z.enum(['javascript', 'python']).default('javascript'),
    /**
     * A function body. JavaScript: `input` is the node's input, `return` the output, `await`
     * allowed, `fetch(url, init)` reaches the flow's settings.allowHosts. Python: the same,
     * with `fetch(url, method=, headers=, body=)` returning `{status, headers, body}`.
     */
    code: z.string().min(1).max(200_000),
    /** JSON Schema the input must match before the code runs. */
    inputSchema: JsonSchemaObject.optional(),
    /** JSON Schema the code's result must match. */
    outputSchema: JsonSchemaObject.optional(),
    /** Wall-clock limit: the sandbox is killed after this long. */
    timeoutMs: z.number().int().min(100).max(300_000).default(10_000),
    memoryMb: z.number().int().min(64).max(4_096).default(256),
    /** Share of one CPU core. */
    cpus: z.number().min(0.1).max(8).default(1),
    /** Bytes of stdout + stderr before the sandbox is killed. */
    maxOutputBytes: z.number().int().min(1_024).max(50_000_000).default(1_000_000),
  })
  .strict();

export const codeSkill = defineSkill({
  id: 'code',
  title: 'Code',
  description:
    'Runs JavaScript or Python in a sandbox of its own (gVisor where available): the code is a function body with `input`, returning the output. No network but fetch to the flow\'s settings.allowHosts; stdout and stderr are recorded as sandbox.output events.',
  category: 'data',
  effect: 'io',
  params: CodeParams,
  prepare: (params) => {
    const inputSchema = params.inputSchema && compileSchema(params.inputSchema, 'inputSchema');
    const outputSchema = params.outputSchema && compileSchema(params.outputSchema, 'outputSchema');
    const limits = { wallClockMs: params.timeoutMs, memoryMb: params.memoryMb, cpus: params.cpus, outputBytes: params.maxOutputBytes };
    return {
      run: async (input, execution) => {
        if (inputSchema) {
          const problems = inputSchema.check(input);
          if (problems.length) throw new NodeError(`code input does not match inputSchema: ${problems.slice(0, 5).join('; ')}`, 'validation', false);
        }
        const output = await runCodeInSandbox({ language: params.language, code: params.code, input, limits }, execution);
        if (outputSchema) {
          const problems = outputSchema.check(output);
          if (problems.length) throw new NodeError(`code output does not match outputSchema: ${problems.slice(0, 5).join('; ')}`, 'code_output_invalid', false);
        }
        return output;
      },
    };
  },
});

function compileSchema(schema: Record<string, unknown>, field: string): CompiledJsonSchema {
  try {
    return compileJsonSchema(schema);
  } catch (error) {
    throw new SkillParamError((error as Error).message, [field]);
  }
}
