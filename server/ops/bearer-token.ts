import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Lets a request through only with `Authorization: Bearer <token>`. Without a configured token the
 * route does not exist (404), so an unconfigured server reveals nothing. Compared as digests in
 * constant time, so neither the token's content nor its length leaks through timing.
 */
export function requireBearerToken(token: string | undefined, realm: string): MiddlewareHandler {
  const expected = token ? digest(token) : null;
  return async (c, next) => {
    if (!expected) throw new AppError('not_found', `No route for ${c.req.method} ${c.req.path}`);
    const presented = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      c.header('WWW-Authenticate', `Bearer realm="${realm}"`);
      throw new AppError('unauthorized', 'This endpoint needs Authorization: Bearer <token>');
    }
    await next();
  };
}
