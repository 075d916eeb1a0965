// Host and Origin checks. The Host check defeats DNS rebinding against a loopback-only server (a
// web page whose domain re-resolves to 127.0.0.1 still sends its own name as Host); the Origin
// check stops other web pages from driving the server from a visitor's browser.

export interface OriginPolicyOptions {
  /** Extra origins allowed to call the server, such as `http://localhost:5173` for a dev server. */
  allowedOrigins: string[];
  /** The server listens on loopback only, so only loopback names are accepted as Host. */
  loopbackOnly: boolean;
}

export interface OriginPolicy {
  /** Whether a request addressed to `hostHeader` may be answered by the server listening on `port`. */
  checkHost(hostHeader: string | undefined, port: number): boolean;
  /** Whether a request carrying `origin` (the Origin header) and `hostHeader` may be answered. */
  checkOrigin(origin: string | undefined, hostHeader: string | undefined): boolean;
}

export const LOOPBACK_HOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];
// A Host header is a name or bracketed IPv6 address with an optional port; nothing else
// (no userinfo, path or spaces) may sneak into the origin built from it.
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i;

function parseHostHeader(hostHeader: string): { name: string; port: number | undefined } | null {
  const match = HOST_HEADER.exec(hostHeader);
  if (!match) return null;
  return { name: match[1]!.toLowerCase(), port: match[2] === undefined ? undefined : Number(match[2]) };
}

/**
 * `scheme://host[:port]` with the scheme and host lowercased and the default port removed, or null
 * when `value` is not an http(s) origin (it has a path, query, credentials, another scheme…).
 */
export function normaliseOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return null;
  // Only a trailing slash may follow the host (`new URL` also accepts `http://a.com?`, `#`).
  if (!/^https?:\/\/[^/?#]+\/?$/i.test(value)) return null;
  return url.origin;
}

export function createOriginPolicy({ allowedOrigins, loopbackOnly }: OriginPolicyOptions): OriginPolicy {
  const allowed = new Set(
    allowedOrigins.map((entry, index) => {
      const origin = normaliseOrigin(entry.trim());
      if (origin === null) {
        throw new Error(
          `allowedOrigins[${index}] (${JSON.stringify(entry)}) is not an origin: expected scheme and host only, ` +
            'like http://localhost:5173 or https://loom.example.com',
        );
      }
      return origin;
    }),
  );

  return {
    checkHost(hostHeader, port) {
      if (!loopbackOnly) return true;
      const host = hostHeader === undefined ? null : parseHostHeader(hostHeader);
      if (!host || !LOOPBACK_HOST_NAMES.includes(host.name)) return false;
      return host.port === undefined || host.port === port;
    },

    checkOrigin(origin, hostHeader) {
      // Browsers send Origin on every cross-origin request (and on same-origin POSTs); a request
      // without one comes from a same-origin page load, curl or another server.
      if (origin === undefined) return true;
      const normalised = normaliseOrigin(origin); // 'null' (sandboxed frames, file://) fails here
      if (normalised === null) return false;
      if (allowed.has(normalised)) return true;
      if (hostHeader === undefined || !parseHostHeader(hostHeader)) return false;
      // The request's own origin; https too, for a server behind a TLS-terminating proxy.
      return normalised === normaliseOrigin(`http://${hostHeader}`) || normalised === normaliseOrigin(`https://${hostHeader}`);
    },
  };
}
