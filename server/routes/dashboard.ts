import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { AppEnv } from './env';

/**
 * The place for the Solid dashboard (web/dist, built separately): its files, and index.html for any other
 * GET that is not under /api so client-side routes load. Without a build there is nothing here.
 */
export function dashboardRoutes(distDir: string | null): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const indexFile = distDir ? join(distDir, 'index.html') : null;
  if (!distDir || !indexFile || !existsSync(indexFile)) return app;
  const indexHtml = readFileSync(indexFile, 'utf8');
  app.use('*', serveStatic({ root: distDir }));
  app.get('*', (c, next) => (c.req.path.startsWith('/api/') ? next() : c.html(indexHtml)));
  return app;
}
