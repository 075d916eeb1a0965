import express, { type Router } from 'express';
import { TOKEN_COOKIE, type Auth } from './auth.js';
import { LOGIN_PATH } from './middleware.js';

const page = (error?: string) => `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><meta name="viewport" content="width=device-width, initial-scale=1" /><title>Loom: sign in</title>
  <style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; } input { width: 100%; padding: .5rem; margin: .5rem 0; } .error { color: #b00020; }</style></head>
  <body>
    <h1>Loom</h1>
    <p>This server listens beyond this machine, so it asks for its admin token (<code>LOOM_ADMIN_TOKEN</code>).</p>
    ${error ? `<p class="error" role="alert">${error}</p>` : ''}
    <form method="post" action="${LOGIN_PATH}">
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required />
      <button type="submit">Sign in</button>
    </form>
  </body>
</html>
`;

/**
 * `GET /login` shows a form; `POST /login` checks the token and sets it as an HttpOnly,
 * SameSite=Strict cookie, which the API, the sockets and the web app then accept.
 */
export function loginRoutes(auth: Auth): Router {
  const router = express.Router();
  router.get(LOGIN_PATH, (_req, res) => {
    res.type('html').send(page());
  });
  router.post(LOGIN_PATH, express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const token = typeof req.body?.token === 'string' ? (req.body.token as string) : '';
    if (!auth.enabled || !auth.check({ headers: { authorization: `Bearer ${token}` } })) {
      res.status(401).type('html').send(page(auth.enabled ? 'That token is not right.' : 'This server has no admin token: nothing to sign in to.'));
      return;
    }
    res.cookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/', secure: req.secure });
    res.redirect(303, '/');
  });
  return router;
}
