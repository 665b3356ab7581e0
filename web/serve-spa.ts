import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, MiddlewareHandler } from 'hono';

export interface ServeSpaOptions {
  /** The built dashboard; default `web/dist` beside this file. */
  root?: string;
  /** Path prefixes that belong to the server, never answered with the SPA (default `/api`, `/healthz`). */
  serverPaths?: readonly string[];
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Vite puts content-hashed files under /assets/: they never change, so browsers may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

const DEFAULT_ROOT = fileURLToPath(new URL('./dist', import.meta.url));
const DEFAULT_SERVER_PATHS = ['/api', '/healthz'] as const;

function isUnder(prefixes: readonly string[], path: string): boolean {
  return prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

async function readRegularFile(path: string): Promise<Buffer | null> {
  try {
    if (!(await stat(path)).isFile()) return null;
    return await readFile(path);
  } catch {
    return null;
  }
}

/** The file a URL path names inside root, or null when it would escape root. */
function fileInRoot(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = resolve(root, `.${decoded}`);
  return file === root || file.startsWith(root + sep) ? file : null;
}

/** One file as the response: its type, cache policy and an ETag so revalidation costs a 304, not the body. */
function sendFile(c: Context, body: Buffer, type: string, cacheControl: string): Response {
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  c.header('Content-Type', type);
  c.header('Cache-Control', cacheControl);
  c.header('ETag', etag);
  c.header('X-Content-Type-Options', 'nosniff');
  if (c.req.header('if-none-match') === etag) return c.body(null, 304);
  return c.req.method === 'HEAD' ? c.body(null) : c.body(new Uint8Array(body));
}

/**
 * Serves the built dashboard: files from `web/dist` (hashed assets cached for a year), and index.html
 * for client-side routes such as /sites/3 — never for the server's own paths (/api, /healthz), which
 * fall through to the API's handlers and its JSON 404.
 */
export function serveSpa(options: ServeSpaOptions = {}): MiddlewareHandler {
  const root = resolve(options.root ?? DEFAULT_ROOT);
  const serverPaths = options.serverPaths ?? DEFAULT_SERVER_PATHS;
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    if ((method !== 'GET' && method !== 'HEAD') || isUnder(serverPaths, path)) return next();

    const file = path === '/' ? null : fileInRoot(root, path);
    const body = file ? await readRegularFile(file) : null;
    if (file && body) {
      const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      return sendFile(c, body, type, path.startsWith('/assets/') ? IMMUTABLE : REVALIDATE);
    }

    // A missing asset (has an extension) is a plain 404; anything else is a client route.
    if (extname(path) !== '') return next();
    const index = await readRegularFile(resolve(root, 'index.html'));
    if (!index) {
      return c.text('The dashboard is not built yet: run `npm run build`, then reload.', 503, {
        'Cache-Control': REVALIDATE,
      });
    }
    return sendFile(c, index, CONTENT_TYPES['.html']!, REVALIDATE);
  };
}
