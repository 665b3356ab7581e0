import type { Context } from 'hono';

/**
 * What the auth layer needs to know about where a request came from. Behind a reverse proxy
 * (VIGIL_TRUST_PROXY=1) the proxy's X-Forwarded-Proto/-For/-Host are believed; otherwise only the socket.
 */
export interface RequestOrigin {
  /** Served over HTTPS, directly or (trusted proxy) as the proxy says. */
  secure: boolean;
  /** The client address, or `unknown` when there is no socket (in-process requests). */
  ip: string;
  /** `scheme://host[:port]` as the browser addresses this server. */
  origin: string;
}

/** The last entry of a comma-separated forwarding header: the one our own proxy appended. */
function lastForwarded(value: string | undefined): string | undefined {
  const last = value?.split(',').at(-1)?.trim();
  return last ? last : undefined;
}

/** The socket's remote address from @hono/node-server's bindings, without trusting their shape. */
function socketAddress(bindings: unknown): string | undefined {
  if (typeof bindings !== 'object' || bindings === null || !('incoming' in bindings)) return undefined;
  const incoming: unknown = bindings.incoming;
  if (typeof incoming !== 'object' || incoming === null || !('socket' in incoming)) return undefined;
  const socket: unknown = incoming.socket;
  if (typeof socket !== 'object' || socket === null || !('remoteAddress' in socket)) return undefined;
  return typeof socket.remoteAddress === 'string' ? socket.remoteAddress : undefined;
}

/** An IPv4 address seen through a dual-stack socket (`::ffff:1.2.3.4`) is that IPv4 address. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function requestOrigin(c: Context, trustProxy: boolean): RequestOrigin {
  const url = new URL(c.req.url);
  const forwardedProto = trustProxy
    ? lastForwarded(c.req.header('x-forwarded-proto'))?.toLowerCase()
    : undefined;
  const secure = forwardedProto ? forwardedProto === 'https' : url.protocol === 'https:';
  const forwardedFor = trustProxy ? lastForwarded(c.req.header('x-forwarded-for')) : undefined;
  const ip = plainAddress(forwardedFor ?? socketAddress(c.env) ?? 'unknown');
  const forwardedHost = trustProxy ? lastForwarded(c.req.header('x-forwarded-host')) : undefined;
  const host = forwardedHost ?? c.req.header('host') ?? url.host;
  return { secure, ip, origin: `${secure ? 'https' : 'http'}://${host.toLowerCase()}` };
}

/** GET, HEAD and OPTIONS change nothing; everything else needs the caller's authority (and CSRF proof). */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}
