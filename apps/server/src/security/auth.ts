// The admin token check, for HTTP requests and socket.io handshakes.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const TOKEN_COOKIE = 'loom_token';

export interface AuthOptions {
  /** LOOM_ADMIN_TOKEN; unset or empty means every request is accepted. */
  adminToken?: string | undefined;
}

export interface Auth {
  /** Whether a token is configured (and so required). */
  readonly enabled: boolean;
  /** Accepts `Authorization: Bearer <token>` or the `loom_token` cookie. */
  check(req: { headers: IncomingHttpHeaders }): boolean;
  /**
   * Accepts `Authorization: Bearer <token>` only, not the cookie: for endpoints that other
   * programs call (`/mcp`), so a web page cannot call them with a signed-in browser's cookie.
   */
  checkBearer(req: { headers: IncomingHttpHeaders }): boolean;
  /** Accepts the socket.io client's `auth: { token }`, or what `check` accepts on the handshake. */
  socketCheck(handshake: { headers: IncomingHttpHeaders; auth?: Record<string, unknown> }): boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

function bearerToken(header: string | undefined): string | undefined {
  // The scheme name is case-insensitive (RFC 7235).
  const match = header === undefined ? null : /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

function cookieTokens(header: string | undefined): string[] {
  if (header === undefined) return [];
  const tokens: string[] = [];
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1 || pair.slice(0, equals).trim() !== TOKEN_COOKIE) continue;
    const value = pair.slice(equals + 1).trim();
    // RFC 6265 allows a cookie value in double quotes.
    tokens.push(value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value);
  }
  return tokens;
}

export function createAuth({ adminToken }: AuthOptions): Auth {
  if (!adminToken) {
    return { enabled: false, check: () => true, checkBearer: () => true, socketCheck: () => true };
  }
  const expected = sha256(adminToken);
  // Comparing fixed-length digests keeps the time taken independent of where (and whether) the
  // candidate differs, and of its length.
  const matches = (candidate: string) => timingSafeEqual(sha256(candidate), expected);

  const check = ({ headers }: { headers: IncomingHttpHeaders }) => {
    const candidates = cookieTokens(headers.cookie);
    const bearer = bearerToken(headers.authorization);
    if (bearer !== undefined) candidates.push(bearer);
    return candidates.some(matches);
  };

  return {
    enabled: true,
    check,
    checkBearer: ({ headers }) => {
      const bearer = bearerToken(headers.authorization);
      return bearer !== undefined && matches(bearer);
    },
    socketCheck(handshake) {
      const token = handshake.auth?.['token'];
      if (typeof token === 'string' && matches(token)) return true;
      return check(handshake);
    },
  };
}
