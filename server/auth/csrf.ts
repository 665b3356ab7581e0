import { createHmac } from 'node:crypto';
import { safeEqual } from './secrets';

/** The header the dashboard sends its CSRF token in, and the readable cookie it finds the token in. */
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_COOKIE = 'vigil_csrf';

/**
 * The CSRF token of a session: an HMAC keyed by the (secret) session id, so it needs no storage, cannot
 * be guessed without the session cookie, and changes with every new session.
 */
export function csrfTokenFor(sessionId: string): string {
  return createHmac('sha256', sessionId).update('vigil csrf v1').digest('base64url');
}

export function csrfTokenMatches(sessionId: string, presented: string | undefined): boolean {
  return presented !== undefined && safeEqual(csrfTokenFor(sessionId), presented);
}

export interface OriginFacts {
  /** The request's Origin header, if any. */
  origin: string | undefined;
  /** The request's Sec-Fetch-Site header, if any. */
  fetchSite: string | undefined;
  /** This server's own origin as the browser sees it. */
  expected: string;
}

/**
 * Whether a state-changing request may come from where the browser says it comes from: the Origin must be
 * ours when present; without one, Sec-Fetch-Site must not say another site. Non-browser clients send
 * neither and pass (cookie requests still need the CSRF token).
 */
export function originAllowed({ origin, fetchSite, expected }: OriginFacts): boolean {
  if (origin !== undefined) return origin.toLowerCase() === expected;
  if (fetchSite !== undefined) return fetchSite === 'same-origin' || fetchSite === 'none';
  return true;
}
