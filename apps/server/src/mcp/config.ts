import { z } from 'zod';
import { CredentialName, McpServerName } from '@loom/shared';

const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'not a valid HTTP header name');

/** An MCP server reached over Streamable HTTP. */
export const HttpServerConfig = z
  .object({
    transport: z.literal('http'),
    url: z
      .string()
      .max(2_048)
      .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'must be an http:// or https:// URL'),
    /** Sent with every request; not secret (they are shown in the admin API). */
    headers: z.record(HeaderName, z.string().max(8_192).regex(/^[^\r\n]*$/, 'header values may not contain line breaks')).default({}),
    /** A stored credential sent as `Authorization: Bearer <value>`: the secret stays in the credential store. */
    credential: CredentialName.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.credential && Object.keys(config.headers).some((name) => name.toLowerCase() === 'authorization')) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: 'give either an Authorization header or a credential, not both' });
    }
  });
export type HttpServerConfig = z.infer<typeof HttpServerConfig>;

/**
 * An MCP server started as a process speaking MCP on stdin/stdout. Its command is code
 * execution: it runs only inside a sandbox, and registering it takes `allowCommand: true`.
 */
export const StdioServerConfig = z
  .object({
    transport: z.literal('stdio'),
    /** Absolute path of the program on the host (e.g. /usr/bin/node). */
    command: z.string().regex(/^\//, 'must be an absolute path (e.g. /usr/bin/node)').max(4_096),
    args: z.array(z.string().max(4_096)).max(256).default([]),
    /** Environment of the process: nothing else of the server's environment reaches it. */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'), z.string().max(8_192)).default({}),
    /** Host folders shown read-only inside the sandbox (the server's code, its dependencies); the command's own binary is mapped in by the driver. */
    mounts: z.array(z.string().regex(/^\//, 'must be an absolute path').max(4_096)).max(32).default([]),
    /** Memory of the sandbox; the process has no network and no time limit (it lives with its connection). */
    memoryMb: z.number().int().min(32).max(8_192).default(256),
    /** The admin's explicit consent that this command runs on the server (in a sandbox). */
    allowCommand: z.literal(true, { error: 'a stdio server runs a command: registering one needs allowCommand: true' }),
  })
  .strict();
export type StdioServerConfig = z.infer<typeof StdioServerConfig>;

export const McpServerConfig = z.discriminatedUnion('transport', [HttpServerConfig, StdioServerConfig]);
export type McpServerConfig = z.infer<typeof McpServerConfig>;

export const RegisterMcpServer = z.object({ name: McpServerName, config: McpServerConfig }).strict();
export type RegisterMcpServer = z.infer<typeof RegisterMcpServer>;
