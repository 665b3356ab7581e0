import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { AppError } from '../errors';
import type { AppEnv } from '../routes/env';
import { resolveApiToken } from './api-tokens';
import { clearSessionCookies, readSessionCookie } from './cookies';
import { CSRF_HEADER, csrfTokenMatches, originAllowed } from './csrf';
import { type Actor, accessFor, refusal } from './policy';
import { isSafeMethod, type RequestOrigin, requestOrigin } from './request';
import { resolveSession } from './sessions';

const SERVER_PATHS = ['/api', '/healthz'];

/** The route pattern the request will be answered by (`/api/sites/:id`), or null when no route matches. */
export function routePatternOf(c: Context): string | null {
  const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
  return matchedRoutes(c).find((route) => route.method === method)?.path ?? null;
}

interface Authenticated {
  actor: Actor;
  /** The session cookie's secret, for the CSRF check. */
  sessionId: string | null;
}

async function authenticate(c: Context<AppEnv>, client: RequestOrigin): Promise<Authenticated | null> {
  const { db, now } = c.var.ctx;
  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    const bearer = /^Bearer +(\S+)$/i.exec(authorization.trim());
    if (!bearer) throw new AppError('unauthorized', 'Send the API token as "Authorization: Bearer vgl_…"');
    const token = await resolveApiToken(db, bearer[1]!, now());
    if (!token)
      throw new AppError('unauthorized', 'This API token is not valid (revoked, or its user disabled)');
    return {
      actor: { user: token.user, via: { kind: 'token', id: token.id, scope: token.scope } },
      sessionId: null,
    };
  }
  const sessionId = readSessionCookie(c);
  if (!sessionId) return null;
  const session = await resolveSession(db, sessionId, now());
  if (!session) {
    clearSessionCookies(c, client.secure);
    return null;
  }
  return {
    actor: {
      user: session.user,
      via: { kind: 'session', idHash: session.idHash, expiresAt: session.expiresAt },
    },
    sessionId,
  };
}

function assertSameOrigin(c: Context, client: RequestOrigin): void {
  const allowed = originAllowed({
    origin: c.req.header('origin'),
    fetchSite: c.req.header('sec-fetch-site'),
    expected: client.origin,
  });
  if (!allowed) throw new AppError('forbidden', 'Cross-site request refused');
}

/**
 * Authentication and authorization for /api and /healthz, before any route: who is asking (session cookie
 * or bearer token), whether the route lets them (server/auth/policy.ts), and for cookie-authenticated
 * changes the CSRF proof (same origin, and the session's token in X-CSRF-Token). The dashboard's files
 * are public; they hold no data.
 */
export function authGuard(options: { trustProxy: boolean }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const client = requestOrigin(c, options.trustProxy);
    c.set('client', client);
    c.set('actor', null);
    const path = c.req.path;
    if (!SERVER_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return next();

    const access = accessFor(c.req.method, routePatternOf(c));
    const changes = !isSafeMethod(c.req.method);
    if (access === 'public') {
      // Login and setup have no session yet: the origin check alone stops login CSRF.
      if (changes) assertSameOrigin(c, client);
      return next();
    }
    const authenticated = await authenticate(c, client);
    if (!authenticated)
      throw new AppError('unauthorized', 'Sign in first, or send an API token (Authorization: Bearer vgl_…)');
    const { actor, sessionId } = authenticated;
    if (changes && sessionId !== null) {
      assertSameOrigin(c, client);
      if (!csrfTokenMatches(sessionId, c.req.header(CSRF_HEADER)))
        throw new AppError('forbidden', 'Missing or wrong CSRF token: reload the page and try again');
    }
    const reason = refusal(actor, access);
    if (reason) throw new AppError('forbidden', reason);
    c.set('actor', actor);
    await next();
  };
}

/** The signed-in user of a protected route (the guard has made sure there is one). */
export function actorOf(c: Context<AppEnv>): Actor {
  const actor = c.var.actor;
  if (!actor) throw new AppError('unauthorized', 'Sign in first');
  return actor;
}
