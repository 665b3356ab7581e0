import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { CSRF_COOKIE, csrfTokenFor } from './csrf';

export const SESSION_COOKIE = 'vigil_session';

export function readSessionCookie(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/**
 * The session cookie (HttpOnly: scripts never see it; Lax: sent on top-level navigation only) and the
 * CSRF cookie the dashboard reads and echoes in a header (Strict: never sent cross-site at all).
 */
export function setSessionCookies(
  c: Context,
  session: { id: string; expiresAt: Date },
  options: { secure: boolean; now: Date },
): void {
  const maxAge = Math.max(0, Math.floor((session.expiresAt.getTime() - options.now.getTime()) / 1000));
  const { secure } = options;
  const common = { path: '/', secure, maxAge } as const;
  setCookie(c, SESSION_COOKIE, session.id, { ...common, httpOnly: true, sameSite: 'Lax' });
  setCookie(c, CSRF_COOKIE, csrfTokenFor(session.id), { ...common, httpOnly: false, sameSite: 'Strict' });
}

export function clearSessionCookies(c: Context, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
  deleteCookie(c, CSRF_COOKIE, { path: '/', secure, sameSite: 'Strict' });
}
