// Whether the server may listen on the configured address. Off loopback, anyone on the network
// could drive the server (run flows, use stored credentials), so an admin token is required there.
import { isIPv4, isIPv6 } from 'node:net';

export const MIN_ADMIN_TOKEN_LENGTH = 24;
// RFC 6750's b64token: what fits in `Authorization: Bearer …` and, unquoted, in a cookie.
const TOKEN_CHARACTERS = /^[A-Za-z0-9\-._~+/]+=*$/;
const TOKEN_HINT = 'e.g. the output of `openssl rand -hex 32`';

export type ListenPolicyResult = { ok: true; loopback: boolean } | { ok: false; message: string };

export interface ListenPolicyOptions {
  /** The address the server will listen on (the HOST variable); empty means all interfaces. */
  host: string;
  /** LOOM_ADMIN_TOKEN; unset or empty means no token. */
  adminToken?: string | undefined;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (name === 'localhost') return true;
  if (isIPv4(name)) return name.startsWith('127.');
  if (!isIPv6(name)) return false;
  let canonical: string;
  try {
    // The URL parser writes IPv6 addresses in one canonical form (0:0:0:0:0:0:0:1 becomes ::1).
    canonical = new URL(`http://[${name}]/`).hostname;
  } catch {
    return false; // e.g. a zone index (fe80::1%eth0), which is never loopback anyway
  }
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/** Refuses a non-loopback address without a strong admin token, and any malformed admin token. */
export function checkListenPolicy({ host, adminToken }: ListenPolicyOptions): ListenPolicyResult {
  const loopback = isLoopbackHost(host);
  const token = adminToken ?? '';
  if (token !== '') {
    if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
      return {
        ok: false,
        message:
          `LOOM_ADMIN_TOKEN is too short (${token.length} characters); it must have at least ` +
          `${MIN_ADMIN_TOKEN_LENGTH} so that it cannot be guessed. Set LOOM_ADMIN_TOKEN to a longer secret, ${TOKEN_HINT}.`,
      };
    }
    if (!TOKEN_CHARACTERS.test(token)) {
      return {
        ok: false,
        message:
          'LOOM_ADMIN_TOKEN contains characters that cannot be sent in an `Authorization: Bearer` header or a cookie ' +
          '(spaces, quotes, commas, semicolons or non-ASCII). Use only letters, digits and - . _ ~ + / ' +
          `(with = only at the end), ${TOKEN_HINT}.`,
      };
    }
    return { ok: true, loopback };
  }
  if (loopback) return { ok: true, loopback };
  const where = host.trim() === '' ? 'all network interfaces' : host.trim();
  return {
    ok: false,
    message:
      `Refusing to listen on ${where} without LOOM_ADMIN_TOKEN: that address can be reached from other machines, ` +
      'and without a token anyone who reaches it could run flows and use the stored credentials. ' +
      'Either set HOST=127.0.0.1 to accept connections from this machine only, or set LOOM_ADMIN_TOKEN to a secret of ' +
      `at least ${MIN_ADMIN_TOKEN_LENGTH} characters (${TOKEN_HINT}) that clients then send as \`Authorization: Bearer <token>\`.`,
  };
}
