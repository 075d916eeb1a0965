// Wiring of the Host, Origin and token checks into Express and socket.io.
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { ExtendedError, Socket } from 'socket.io';
import type { Auth } from './auth.js';
import { LOOPBACK_HOST_NAMES, type OriginPolicy } from './origin.js';

export interface SecurityMiddlewareOptions {
  policy: OriginPolicy;
  auth: Auth;
  /** The port the server listens on; a function when it is only known once listening (port 0). */
  port: number | (() => number);
  /** Requests that need no token (Host and Origin are still checked): what a read-only share link opens. */
  isPublic?: (req: { method: string; path: string }) => boolean;
}

export interface SocketAllowRequestOptions {
  policy: OriginPolicy;
  port: number | (() => number);
}

export const LOGIN_PATH = '/login';

const resolvePort = (port: number | (() => number)) => (typeof port === 'function' ? port() : port);

const hostMessage = (port: number) =>
  `This server only answers requests addressed to ${LOOPBACK_HOST_NAMES.join(', ')} (port ${port}), ` +
  `which protects it from DNS rebinding. Open it as http://localhost:${port}/.`;

const ORIGIN_MESSAGE =
  'Requests from this web origin are not allowed: only pages served by this server, or from one of its ' +
  'configured allowed origins, may call it.';

const UNAUTHORIZED_MESSAGE =
  'This server requires its admin token: set Authorization: Bearer <LOOM_ADMIN_TOKEN> ' +
  '(or the loom_token cookie) on the request.';

/**
 * Express middleware, to mount before every route: 421 for a Host the server does not answer to,
 * 403 for a foreign Origin, 401 without the admin token. `GET /healthz` only needs a good Host,
 * so local health probes work without the token.
 */
export function securityMiddleware({ policy, auth, port, isPublic }: SecurityMiddlewareOptions): RequestHandler {
  return (req, res, next) => {
    const host = req.headers.host;
    const listeningPort = resolvePort(port);
    if (!policy.checkHost(host, listeningPort)) {
      res.status(421).json({ error: 'misdirected_request', message: hostMessage(listeningPort) });
      return;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && req.path === '/healthz') {
      next();
      return;
    }
    if (!policy.checkOrigin(req.headers.origin, host)) {
      res.status(403).json({ error: 'forbidden_origin', message: ORIGIN_MESSAGE });
      return;
    }
    // A CORS preflight never carries credentials; it only asks whether the real request may be
    // sent, and that one is checked here in turn.
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    // The login page is how a browser gets the token cookie in the first place.
    if ((req.path === LOGIN_PATH && (req.method === 'GET' || req.method === 'POST')) || isPublic?.(req)) {
      next();
      return;
    }
    if (!preflight && !auth.check(req)) {
      // A person opening the app in a browser gets the login page, not JSON.
      if (req.method === 'GET' && req.accepts(['json', 'html']) === 'html') {
        res.redirect(303, LOGIN_PATH);
        return;
      }
      res.status(401).set('WWW-Authenticate', 'Bearer realm="loom"').json({ error: 'unauthorized', message: UNAUTHORIZED_MESSAGE });
      return;
    }
    next();
  };
}

/**
 * socket.io's `allowRequest` option: the Host and Origin checks for every engine.io request
 * (WebSocket upgrades included, which browsers send cross-origin without any CORS check).
 */
export function socketAllowRequest({ policy, port }: SocketAllowRequestOptions) {
  return (req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void): void => {
    const host = req.headers.host;
    if (!policy.checkHost(host, resolvePort(port))) return callback('misdirected_request', false);
    if (!policy.checkOrigin(req.headers.origin, host)) return callback('forbidden_origin', false);
    callback(null, true);
  };
}

/** socket.io middleware (`io.use`) requiring the admin token in `auth.token`, a Bearer header or the cookie. */
export function socketAuthMiddleware(auth: Auth) {
  return (socket: Pick<Socket, 'handshake'>, next: (err?: ExtendedError) => void): void => {
    if (auth.socketCheck(socket.handshake)) return next();
    const error: ExtendedError = new Error('unauthorized');
    error.data = { message: 'Connect with io(url, { auth: { token: <LOOM_ADMIN_TOKEN> } }).' };
    next(error);
  };
}
