import { NodeError } from '../errors.js';
import { compileExpression, type CompiledExpression } from '../expressions/jsonata.js';
import { INVALID_NODE, type NodeKindDefinition } from '../nodes/node-kind.js';
import { callMcpTool, mcpResultText, mcpResultValue } from './source.js';

/**
 * A node that calls one tool of a registered MCP server. The call and the server's answer
 * are logged as `mcp.call`; an answer flagged `isError` fails the node (not retryable: the
 * tool said no), an unreachable server fails it retryably.
 */
export const mcpKind: NodeKindDefinition<'mcp'> = {
  kind: 'mcp',
  prepare: (node, env) => {
    const { server, tool } = node.config;
    let argumentsExpression: CompiledExpression | undefined;
    if (node.config.arguments !== undefined) {
      try {
        argumentsExpression = compileExpression(node.config.arguments);
      } catch (error) {
        env.issue(['config', 'arguments'], (error as Error).message);
        return INVALID_NODE;
      }
    }
    return {
      effect: 'io',
      inputMode: 'value',
      execute: async (execution) => {
        const args = argumentsExpression ? await argumentsExpression.evaluate(execution.input, execution.scope) : execution.input;
        if (typeof args !== 'object' || args === null || Array.isArray(args)) {
          const what = argumentsExpression ? 'config.arguments gave' : 'the node\'s input is';
          throw new NodeError(`MCP tool "${server}/${tool}" takes an object of arguments, but ${what} ${args === null ? 'null' : Array.isArray(args) ? 'a list' : `a ${typeof args}`}`, 'invalid_tool_args', false);
        }
        const result = await callMcpTool(execution, `${execution.taskId}/mcp`, server, tool, args as Record<string, unknown>);
        if (result.isError) throw new NodeError(`MCP tool "${server}/${tool}" answered with an error: ${mcpResultText(result).slice(0, 2_000)}`, 'mcp_tool_error', false);
        return { output: mcpResultValue(result) };
      },
    };
  },
};
