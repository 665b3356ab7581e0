import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { serveSpa } from '../web/serve-spa';
import type { MailDeps } from './alerts/test-mail';
import { auditTrail } from './auth/audit-trail';
import { authGuard } from './auth/middleware';
import { securityHeaders } from './auth/security-headers';
import type { Database } from './db';
import { AppError } from './errors';
import { metricsRoutes } from './ops/metrics.routes';
import { alertRoutes } from './routes/alerts.routes';
import { auditRoutes } from './routes/audit.routes';
import { authRoutes } from './routes/auth.routes';
import type { AppEnv } from './routes/env';
import { createErrorHandler } from './routes/error-handler';
import { healthRoutes } from './routes/health.routes';
import { incidentRoutes } from './routes/incidents.routes';
import { overviewRoutes } from './routes/overview.routes';
import { queueRoutes } from './routes/queue.routes';
import { scanRoutes } from './routes/scans.routes';
import { settingsRoutes } from './routes/settings.routes';
import { siteRoutes } from './routes/sites.routes';
import { tokenRoutes } from './routes/tokens.routes';
import { userRoutes } from './routes/users.routes';
import type { Scheduler } from './scheduler/scheduler';
import type { Settings } from './services/context';

export interface AppDeps {
  database: Database;
  scheduler: Pick<Scheduler, 'wake' | 'status' | 'queue'>;
  /** Environment defaults under the admin settings stored in the database. */
  defaults: Settings;
  now?: () => Date;
  /** Where the built dashboard is (default web/dist); null serves the API only. */
  dashboardDir?: string | null;
  logError?: (error: unknown) => void;
  /** SMTP transport and mail addresses for the test-send button; default: mail not configured. */
  mail?: MailDeps;
  /** Believe X-Forwarded-Proto/-For/-Host from a reverse proxy (VIGIL_TRUST_PROXY). */
  trustProxy?: boolean;
  /** The dashboard's address for invitation links (VIGIL_PUBLIC_URL); default: the one the admin uses. */
  publicUrl?: string | null;
}

const NO_MAIL: MailDeps = { mailer: null, mailFrom: 'Vigil <vigil@localhost>', publicUrl: null };

/** JSON bodies are small; only the CSV import (its own limit) may be larger. */
const MAX_JSON_BYTES = 64 * 1024;
const IMPORT_PATH = '/api/sites/import';

const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BYTES,
  onError: () => {
    throw new AppError('payload_too_large', `Request body is larger than ${MAX_JSON_BYTES / 1024} KiB`);
  },
});

/** The whole HTTP surface over one database and scheduler; tests call app.request() on it directly. */
export function createApp(deps: AppDeps) {
  const ctx = { db: deps.database.db, now: deps.now ?? (() => new Date()), defaults: deps.defaults };
  const app = new Hono<AppEnv>();
  const trustProxy = deps.trustProxy ?? false;
  app.onError(createErrorHandler(deps.logError ?? ((error) => console.error(error))));
  // First, so every answer (files, API, errors, 404s) carries the security headers.
  app.use('*', securityHeaders({ trustProxy }));
  app.use('*', async (c, next) => {
    c.set('ctx', ctx);
    c.set('database', deps.database);
    c.set('scheduler', deps.scheduler);
    await next();
  });
  // Every API route is closed unless server/auth/policy.ts opens it; changes are written to the audit log.
  app.use('*', authGuard({ trustProxy }));
  app.use('/api/*', auditTrail());
  app.use('/api/*', (c, next) => (c.req.path === IMPORT_PATH ? next() : jsonBodyLimit(c, next)));

  const routes = app
    .route('/', healthRoutes)
    .route('/api/sites', siteRoutes)
    .route('/api/scans', scanRoutes)
    .route('/api/overview', overviewRoutes)
    .route('/api/queue', queueRoutes)
    .route('/api/settings', settingsRoutes)
    .route('/api/incidents', incidentRoutes)
    .route('/api/alerts', alertRoutes(deps.mail ?? NO_MAIL))
    .route('/api/auth', authRoutes)
    .route('/api/users', userRoutes({ publicUrl: deps.publicUrl ?? null }))
    .route('/api/tokens', tokenRoutes)
    .route('/api/audit', auditRoutes);
  // For Prometheus, outside the typed API: behind its own bearer token (VIGIL_METRICS_TOKEN).
  app.route('/metrics', metricsRoutes({ db: deps.database.db }));

  // The Solid dashboard: its files, and index.html for client routes; never /api or /healthz.
  if (deps.dashboardDir !== null)
    app.use('*', serveSpa(deps.dashboardDir ? { root: deps.dashboardDir } : {}));
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` } }, 404),
  );
  return routes;
}

/** The typed API for the dashboard's `hc<AppType>()` client. */
export type AppType = ReturnType<typeof createApp>;
