import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { z } from 'zod';
import { appliedMigrationCount, checkDatabaseHealth } from '../db';
import { countActiveScans } from '../services/scan-queue';
import type { AppEnv } from './env';

const packageJson = z
  .object({ name: z.string(), version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')));

export const healthRoutes = new Hono<AppEnv>()
  // Liveness for load balancers and Docker: 503 when the database cannot take writes (closed, locked, disk full,
  // read-only) or the scheduler stopped ticking.
  .get('/healthz', async (c) => {
    const { db } = c.var.ctx;
    const database = await checkDatabaseHealth(c.var.database);
    const scheduler = c.var.scheduler.status();
    const queue = database.ok ? await countActiveScans({ db }) : null;
    const ok = database.ok && scheduler.alive;
    return c.json(
      {
        status: ok ? 'ok' : 'unavailable',
        database,
        scheduler: { ...scheduler, queued: queue?.queued ?? null },
      },
      ok ? 200 : 503,
    );
  })
  .get('/api/version', async (c) =>
    c.json({
      name: packageJson.name,
      version: packageJson.version,
      node: process.versions.node,
      storage: c.var.database.dialect,
      schemaVersion: await appliedMigrationCount(c.var.database),
    }),
  );
