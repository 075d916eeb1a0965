export { createAuth, TOKEN_COOKIE, type Auth, type AuthOptions } from './auth.js';
export {
  checkListenPolicy,
  isLoopbackHost,
  MIN_ADMIN_TOKEN_LENGTH,
  type ListenPolicyOptions,
  type ListenPolicyResult,
} from './listen-policy.js';
export { loginRoutes } from './login.js';
export {
  LOGIN_PATH,
  securityMiddleware,
  socketAllowRequest,
  socketAuthMiddleware,
  type SecurityMiddlewareOptions,
  type SocketAllowRequestOptions,
} from './middleware.js';
export {
  createOriginPolicy,
  LOOPBACK_HOST_NAMES,
  normaliseOrigin,
  type OriginPolicy,
  type OriginPolicyOptions,
} from './origin.js';
