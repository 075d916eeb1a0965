import { z } from 'zod';
import { CredentialName } from '@loom/shared';
import type { CredentialSource } from '../context/context.js';
import { credentialEnvName } from '../context/defaults.js';
import { errorMessage, NodeError } from '../errors.js';
import { compileTemplate } from '../expressions/template.js';
import { compileOrThrow } from './data.js';
import { defineSkill, SkillParamError } from './skill.js';

export const delaySkill = defineSkill({
  id: 'delay',
  title: 'Delay',
  description: 'Waits, then passes its input on unchanged.',
  category: 'control',
  effect: 'io',
  params: z.object({ ms: z.number().int().min(0).max(86_400_000) }).strict(),
  prepare: ({ ms }) => ({
    // A `then`, not an async function: it settles at the same microtask, and keeps no
    // suspended function alive per waiting node (10,000 concurrent runs wait here).
    run: (input, execution) => execution.sleep(ms).then(() => input),
  }),
});

const HttpParams = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
    /** Template over the input, e.g. "https://api.example.com/users/{{ id }}". */
    url: z.string().min(1).max(8_192),
    headers: z.record(z.string(), z.string().max(8_192)).default({}),
    /** Template for the body; leave out to send the input as JSON on POST/PUT/PATCH. */
    body: z.string().max(10_000_000).optional(),
    responseType: z.enum(['json', 'text']).default('json'),
    maxResponseBytes: z.number().int().min(1).max(100_000_000).default(5_000_000),
    /** Fail on 4xx/5xx (429 and 5xx are retryable); false returns the status as output. */
    failOnHttpError: z.boolean().default(true),
    /** Sends a credential, named here and resolved by the engine, as `header: prefix + value`. */
    auth: z
      .object({
        credential: CredentialName,
        header: z
          .string()
          .min(1)
          .max(256)
          .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid HTTP header name')
          .default('authorization'),
        prefix: z
          .string()
          .max(256)
          // A line break would end the header and start another.
          .regex(/^[^\r\n]*$/, 'the prefix may not contain line breaks')
          .default('Bearer '),
      })
      .strict()
      .optional(),
  })
  .strict();

export const httpRequestSkill = defineSkill({
  id: 'http.request',
  title: 'HTTP request',
  description: 'Calls an HTTP API. Only hosts in the flow\'s settings.allowHosts may be called; a redirect is an error (or, with failOnHttpError false, returned as is), never followed.',
  category: 'network',
  effect: 'io',
  params: HttpParams,
  prepare: (params) => {
    const url = compileOrThrow(() => compileTemplate(params.url), ['url']);
    const body = params.body === undefined ? undefined : compileOrThrow(() => compileTemplate(params.body!), ['body']);
    const headers = Object.entries(params.headers).map(([name, value]) => [name, compileOrThrow(() => compileTemplate(value), ['headers', name])] as const);
    const sendsBody = params.method === 'POST' || params.method === 'PUT' || params.method === 'PATCH';
    const auth = params.auth && { ...params.auth, header: params.auth.header.toLowerCase() };
    if (auth) {
      const clash = headers.find(([name]) => name.toLowerCase() === auth.header);
      if (clash) throw new SkillParamError(`header "${clash[0]}" is set both in headers and by auth.header; remove one of them`, ['auth', 'header']);
    }
    return {
      run: async (input, { context, signal, scope, settings }) => {
        const target = parseUrl(await url.render(input, scope));
        if (!hostAllowed(target.hostname, settings.allowHosts)) {
          throw new NodeError(
            `host "${target.hostname}" is not in the flow's settings.allowHosts (${settings.allowHosts.length ? settings.allowHosts.join(', ') : 'empty'})`,
            'host_not_allowed',
            false,
          );
        }
        const requestHeaders: Record<string, string> = {};
        for (const [name, template] of headers) requestHeaders[name.toLowerCase()] = await template.render(input, scope);
        let requestBody: string | undefined;
        if (body) requestBody = await body.render(input, scope);
        else if (sendsBody) {
          requestBody = JSON.stringify(input ?? null);
          requestHeaders['content-type'] ??= 'application/json';
        }
        // Only once the host is allowed: a secret is never fetched for a request that cannot be made.
        let redact: Redact = (text) => text;
        if (auth) {
          const secret = await resolveCredential(context.credentials, auth.credential, signal);
          redact = redactor(secret, auth.credential);
          requestHeaders[auth.header] = auth.prefix + secret;
        }
        try {
          const init = { method: params.method, headers: requestHeaders, signal, ...(requestBody === undefined ? {} : { body: requestBody }) };
          const response = await context.http(target.toString(), init);
          const declared = Number(response.headers['content-length'] ?? 0);
          if (declared > params.maxResponseBytes) throw tooLarge(declared, params.maxResponseBytes);
          const received = params.method === 'HEAD' ? '' : await response.text();
          const bytes = Buffer.byteLength(received, 'utf8');
          if (bytes > params.maxResponseBytes) throw tooLarge(bytes, params.maxResponseBytes);
          // Before anything quotes or cuts the body: a cut could leave part of the secret behind.
          const text = redact(received);
          if (params.failOnHttpError && response.status >= 300 && response.status < 400) {
            // Following it could leave the allow-list; the flow must call the new address itself.
            const location = redact(response.headers['location'] ?? 'no location');
            throw new NodeError(`HTTP ${response.status} redirect from ${target.host}${target.pathname} to ${location} was not followed`, 'http_redirect', false);
          }
          if (params.failOnHttpError && response.status >= 400) {
            const retryable = response.status === 429 || response.status >= 500;
            throw new NodeError(`HTTP ${response.status} from ${target.host}${target.pathname}: ${text.slice(0, 300)}`, 'http_status', retryable);
          }
          let parsed: unknown = text;
          if (params.responseType === 'json' && text !== '') {
            try {
              parsed = JSON.parse(text);
            } catch {
              // An error page is often HTML or text: with failOnHttpError false it stays text, so the status still reaches the flow.
              if (response.status < 400) throw new NodeError(`response from ${target.host} is not JSON (set responseType: "text" to accept text)`, 'invalid_response', false);
            }
          }
          const output = { status: response.status, headers: response.headers, body: parsed };
          return auth ? redactValue(output, redact) : output;
        } catch (error) {
          // The HTTP client may quote the request, header values included, in its errors.
          throw redactError(error, redact);
        }
      },
    };
  },
});

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new NodeError(`invalid URL ${JSON.stringify(text)}`, 'invalid_url', false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NodeError(`only http and https URLs are allowed, got ${url.protocol}`, 'invalid_url', false);
  }
  return url;
}

/** Exact host names, or `*.example.com` for its subdomains. */
export function hostAllowed(hostname: string, allowHosts: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return allowHosts.some((entry) => {
    const allowed = entry.toLowerCase();
    if (allowed.startsWith('*.')) return host.endsWith(allowed.slice(1)) && host.length > allowed.length - 1;
    return host === allowed;
  });
}

function tooLarge(bytes: number, limit: number): NodeError {
  return new NodeError(`response of ${bytes} bytes exceeds maxResponseBytes ${limit}`, 'response_too_large', false);
}

/**
 * Reads a credential for a request. Not found, empty or unusable in a header are
 * `credential_*` errors a retry cannot fix; a store's own NodeError keeps its code.
 */
async function resolveCredential(source: CredentialSource | undefined, name: string, signal: AbortSignal): Promise<string> {
  if (!source) {
    throw new NodeError(
      `credential "${name}" is not available: this run has no credential store (runs started from the CLI can set ${credentialEnvName(name)})`,
      'credential_unavailable',
      false,
    );
  }
  let value: string;
  try {
    value = await source.get(name, signal);
  } catch (error) {
    if (signal.aborted || error instanceof NodeError) throw error;
    const message = errorMessage(error);
    throw new NodeError(message.includes(`"${name}"`) ? message : `credential "${name}" was not found: ${message}`, 'credential_not_found', false);
  }
  signal.throwIfAborted();
  if (typeof value !== 'string' || value === '') throw new NodeError(`credential "${name}" is empty`, 'credential_not_found', false);
  // fetch would refuse it with an error quoting the value; say what is wrong without it.
  if (/[\r\n\0]/.test(value)) throw new NodeError(`credential "${name}" contains a line break or NUL, which a header cannot carry`, 'credential_invalid', false);
  return value;
}

type Redact = (text: string) => string;

/**
 * Replaces the secret with `[redacted:<name>]`, as written and in the forms a server
 * echoing it is likely to use (escaped inside a JSON string, URL-encoded).
 */
function redactor(secret: string, name: string): Redact {
  const forms = [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])].sort((a, b) => b.length - a.length);
  const marker = `[redacted:${name}]`;
  return (text) => {
    let result = text;
    for (const form of forms) if (result.includes(form)) result = result.split(form).join(marker);
    return result;
  };
}

/** Redacts every string of a JSON-like value, keys included. */
function redactValue(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redact));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [redact(key), redactValue(item, redact)]));
  }
  return value;
}

/** The same error with the secret taken out of its message; the error itself when it holds none. */
function redactError(error: unknown, redact: Redact): unknown {
  const message = errorMessage(error);
  const redacted = redact(message);
  if (redacted === message) return error;
  if (error instanceof NodeError) return new NodeError(redacted, error.code, error.retryable);
  // Keep what decides retries (code, retryable) and drop the rest: a stack or cause may quote the secret too.
  const copy = new Error(redacted);
  if (error instanceof Error) copy.name = error.name;
  const { code, retryable } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; retryable?: unknown };
  return Object.assign(copy, typeof code === 'string' ? { code } : {}, typeof retryable === 'boolean' ? { retryable } : {});
}
