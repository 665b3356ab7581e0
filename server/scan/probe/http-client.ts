import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex, Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { HttpFetch, HttpResponseFacts } from '../types';
import { describeNetworkError } from './network-error';

/** SPEC.md bounds on every request. */
export interface HttpLimits {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  maxRedirects: number;
  maxHeaderBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  maxBodyBytes: 1024 * 1024,
  maxRedirects: 5,
  maxHeaderBytes: 64 * 1024,
};

export const USER_AGENT = 'Vigil/0.1 (security posture monitor; +https://github.com/vigil)';

/** Resolves a redirect target's host and vets the address (SSRF guard), or says why not. */
export type AddressResolver = (
  host: string,
) => Promise<{ ok: true; address: string } | { ok: false; error: string }>;

export interface PinnedFetchOptions {
  url: string;
  /** The vetted address of the URL's host: no second DNS look-up happens for it. */
  address: string;
  /** Sent instead of the URL's host (the foreign-Host probe); SNI stays the URL's host. */
  hostHeader?: string;
  followRedirects: boolean;
  resolveAddress: AddressResolver;
  signal?: AbortSignal;
  limits?: Partial<HttpLimits>;
  /** Keep-alive agents shared by the requests of one scan (fewer handshakes); none = one connection per request. */
  agents?: { http: http.Agent; https: https.Agent };
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

function decoderFor(encoding: string | undefined): Transform | null {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return null;
  }
}

/** Reads at most maxBytes of the decoded body, then stops reading (a gzip bomb never inflates past the cap). */
function readBody(
  response: IncomingMessage,
  maxBytes: number,
): Promise<{ body: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const decoder = decoderFor(response.headers['content-encoding']);
    const source: IncomingMessage | Transform = decoder ? response.pipe(decoder) : response;
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (truncated: boolean) => {
      if (finished) return;
      finished = true;
      if (truncated) {
        decoder?.destroy();
        response.destroy();
      }
      resolve({ body: Buffer.concat(chunks).toString('utf8'), truncated });
    };
    source.on('data', (chunk: Buffer) => {
      if (finished) return;
      const room = maxBytes - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (chunk.length >= room) finish(true);
    });
    source.on('end', () => finish(false));
    source.on('error', (error) => {
      if (finished) return;
      // A body cut off or badly encoded still tells us its status and headers: keep what arrived.
      if (chunks.length > 0 || decoder) finish(true);
      else reject(error);
    });
    response.on('aborted', () => finish(true));
  });
}

class StaleSocketError extends Error {
  constructor() {
    super('connection reset by the server');
  }
}

interface RequestSetup {
  limits: HttpLimits;
  signal: AbortSignal | undefined;
  agents: PinnedFetchOptions['agents'];
}

function requestOnce(
  url: URL,
  address: string,
  hostHeader: string,
  setup: RequestSetup,
): Promise<HttpResponseFacts> {
  const { limits, signal, agents } = setup;
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const transport = secure ? https : http;
    const port = Number(url.port || (secure ? 443 : 80));
    let settled = false;
    let requestTimer: NodeJS.Timeout | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    const stopTimers = () => {
      clearTimeout(requestTimer);
      clearTimeout(connectTimer);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      stopTimers();
      request.destroy();
      // A kept-alive socket the server closed just as we reused it: the request never reached it.
      const staleSocket = request.reusedSocket && (error as NodeJS.ErrnoException)?.code === 'ECONNRESET';
      reject(staleSocket ? new StaleSocketError() : new Error(describeNetworkError(error)));
    };
    const request = transport.request({
      host: address,
      port,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: {
        Host: hostHeader,
        'User-Agent': USER_AGENT,
        Accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
        'Accept-Encoding': 'gzip, deflate, br',
        ...(agents ? {} : { Connection: 'close' }),
      },
      agent: agents ? (secure ? agents.https : agents.http) : false,
      maxHeaderSize: limits.maxHeaderBytes,
      ...(secure ? { servername: isIP(url.hostname) ? '' : url.hostname, rejectUnauthorized: false } : {}),
      ...(signal ? { signal } : {}),
    });
    // Timers start when the request gets its socket, not while it waits in the agent's queue.
    request.on('socket', (socket: Duplex & { connecting?: boolean }) => {
      requestTimer = setTimeout(
        () => fail(new Error(`no complete answer within ${limits.requestTimeoutMs / 1000} s`)),
        limits.requestTimeoutMs,
      );
      if (request.reusedSocket || socket.connecting === false) return;
      connectTimer = setTimeout(
        () => fail(new Error(`could not connect within ${limits.connectTimeoutMs / 1000} s`)),
        limits.connectTimeoutMs,
      );
      socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    request.on('error', fail);
    request.on('response', (response) => {
      readBody(response, limits.maxBodyBytes).then(({ body, truncated }) => {
        if (settled) return;
        settled = true;
        stopTimers();
        resolve({
          url: url.href,
          status: response.statusCode ?? 0,
          headers: { ...response.headersDistinct } as Record<string, string[]>,
          body,
          bodyTruncated: truncated,
          address,
        });
      }, fail);
    });
    request.end();
  });
}

/**
 * GET a URL over a connection pinned to an already-vetted address, following redirects when asked.
 * Each redirect to another host is resolved and vetted again; the whole chain is returned.
 */
export async function fetchPinned(options: PinnedFetchOptions): Promise<HttpFetch> {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const responses: HttpResponseFacts[] = [];
  let url = new URL(options.url);
  let address = options.address;
  let hostHeader = options.hostHeader ?? url.host;
  for (let hop = 0; ; hop++) {
    let response: HttpResponseFacts;
    try {
      response = await requestOnce(url, address, hostHeader, {
        limits,
        signal: options.signal,
        agents: options.agents,
      });
    } catch (error) {
      return { responses, error: `${url.href}: ${describeNetworkError(error)}` };
    }
    responses.push(response);
    const location = response.headers.location?.[0];
    if (!options.followRedirects || !REDIRECT_STATUSES.has(response.status) || !location) {
      return { responses, error: null };
    }
    if (hop >= limits.maxRedirects) {
      return { responses, error: `more than ${limits.maxRedirects} redirects` };
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      return { responses, error: `redirect to an invalid URL: ${location.slice(0, 200)}` };
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      return { responses, error: `redirect to a non-HTTP URL: ${next.protocol}` };
    }
    if (next.hostname !== url.hostname) {
      const resolved = await options.resolveAddress(next.hostname.replace(/^\[|\]$/g, ''));
      if (!resolved.ok) return { responses, error: `redirect to ${next.host} refused: ${resolved.error}` };
      address = resolved.address;
    }
    url = next;
    hostHeader = url.host;
  }
}

/** The last response of a fetch, if any. */
export function finalResponse(fetch: HttpFetch): HttpResponseFacts | undefined {
  return fetch.responses.at(-1);
}
