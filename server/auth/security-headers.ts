import type { MiddlewareHandler } from 'hono';
import { requestOrigin } from './request';

/**
 * The dashboard's own HTTP posture: what Vigil asks of every Django site, it does itself. The SPA needs
 * nothing inline (its styles are files, its scripts modules), so the policy has no 'unsafe-inline'.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** API answers are data, never documents: nothing may load from or frame them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Two years, the preload list's expectation; `preload` itself is the domain owner's decision, so it is left out. */
export const HSTS = 'max-age=63072000; includeSubDomains';

/** Answers for programs (the API, health, Prometheus metrics), not pages. */
const SERVER_PATHS = ['/api', '/healthz', '/metrics'];

function isServerPath(path: string): boolean {
  return SERVER_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** The security headers of one response: which policy depends on whether it is the dashboard or the API. */
export function securityHeadersFor(path: string, secure: boolean): Record<string, string> {
  const api = isServerPath(path);
  return {
    'Content-Security-Policy': api ? API_CSP : DASHBOARD_CSP,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    ...(secure ? { 'Strict-Transport-Security': HSTS } : {}),
  };
}

/** Sets the headers on every response, error pages and 404s included; API answers are never cached. */
export function securityHeaders(options: { trustProxy: boolean }): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const { secure } = requestOrigin(c, options.trustProxy);
    for (const [name, value] of Object.entries(securityHeadersFor(c.req.path, secure)))
      c.res.headers.set(name, value);
    if (isServerPath(c.req.path) && !c.res.headers.has('Cache-Control'))
      c.res.headers.set('Cache-Control', 'no-store');
    c.res.headers.delete('X-Powered-By');
  };
}
