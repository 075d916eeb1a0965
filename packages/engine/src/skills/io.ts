import { z } from 'zod';
import { NodeError } from '../errors.js';
import { compileTemplate } from '../expressions/template.js';
import { compileOrThrow } from './data.js';
import { defineSkill } from './skill.js';

export const delaySkill = defineSkill({
  id: 'delay',
  title: 'Delay',
  description: 'Waits, then passes its input on unchanged.',
  category: 'control',
  effect: 'io',
  params: z.object({ ms: z.number().int().min(0).max(86_400_000) }).strict(),
  prepare: ({ ms }) => ({
    run: async (input, { context, signal }) => {
      await context.clock.sleep(ms, signal);
      return input;
    },
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
        const init = { method: params.method, headers: requestHeaders, signal, ...(requestBody === undefined ? {} : { body: requestBody }) };
        const response = await context.http(target.toString(), init);
        const declared = Number(response.headers['content-length'] ?? 0);
        if (declared > params.maxResponseBytes) throw tooLarge(declared, params.maxResponseBytes);
        const text = params.method === 'HEAD' ? '' : await response.text();
        const bytes = Buffer.byteLength(text, 'utf8');
        if (bytes > params.maxResponseBytes) throw tooLarge(bytes, params.maxResponseBytes);
        if (params.failOnHttpError && response.status >= 300 && response.status < 400) {
          // Following it could leave the allow-list; the flow must call the new address itself.
          const location = response.headers['location'] ?? 'no location';
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
        return { status: response.status, headers: response.headers, body: parsed };
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
