import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { serve } from '@hono/node-server';
import { createAlerts, createSmtpMailer } from './alerts';
import { createApp } from './app';
import { env } from './config/env';
import { isPostgresUrl, waitForMigratedDatabase } from './db';
import { AppError } from './errors';
import { createPgBossQueue } from './scheduler/pg-boss-queue';
import { createSqliteScanQueue, type ScanQueue } from './scheduler/queue';
import { createScanRunner } from './scheduler/scan-runner';
import { createScheduler, type SchedulerRoles } from './scheduler/scheduler';
import { DEFAULT_INTERVAL_MINUTES, type Settings } from './services/context';
import { issueSetupToken } from './services/users';

export type ServerRole = 'all' | 'web' | 'scheduler' | 'worker';

export interface ServerOptions {
  port: number;
  host: string;
  /** Where the data lives: a data directory (SQLite) or a `postgres://` URL. */
  storage: string;
  /** Default VIGIL_ROLE: what this process runs. Anything but `all` needs PostgreSQL. */
  role?: ServerRole;
  /** Default VIGIL_REGION: this worker's region label. */
  region?: string | null;
  /** Default VIGIL_SCAN_CONCURRENCY for workers: scans this process runs at once. */
  workerConcurrency?: number;
  /** Extra trusted CAs (PEM) for scans: private fleets, the test fleet's CA. */
  extraCaPems?: string[];
  now?: () => Date;
  /** node-cron expression (with seconds) for the scheduler tick; default VIGIL_TICK_CRON. */
  tickCron?: string;
  /** Default VIGIL_DNS_SERVERS. */
  dnsServers?: string[];
  /** Default VIGIL_ALLOW_PRIVATE. */
  allowPrivate?: boolean;
  /** Default VIGIL_SCAN_CONCURRENCY. */
  scanConcurrency?: number;
  /** Built dashboard; default web/dist, null for the API only. */
  dashboardDir?: string | null;
  /** How long close() lets running scans finish before re-queueing them. */
  shutdownGraceMs?: number;
  log?: (line: string) => void;
  /** Called after each scan is stored, after alert evaluation. */
  onScanRecorded?: (scanId: number) => void;
  /** Default VIGIL_SMTP_URL; null sends no mail (it waits in the outbox). */
  smtpUrl?: string | null;
  /** Default VIGIL_MAIL_FROM. */
  mailFrom?: string;
  /** Default VIGIL_PUBLIC_URL. */
  publicUrl?: string | null;
  /** Extra trusted CAs for the SMTP server's certificate. */
  smtpCaPems?: string[];
  /** Default VIGIL_TRUST_PROXY: believe X-Forwarded-Proto/-For/-Host from the reverse proxy in front. */
  trustProxy?: boolean;
}

export interface RunningServer {
  /** The HTTP address; null for a scheduler or worker process, which serves no HTTP. */
  url: string | null;
  app: ReturnType<typeof createApp>;
  /** While nobody has an account: the one-time link to create the first admin (also printed). */
  setupUrl: string | null;
  close(): Promise<void>;
}

function urlFor(address: AddressInfo): string {
  // A wildcard bind is reachable on loopback; show an address a browser can open.
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : address.address;
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${address.port}`;
}

const ROLES: Record<ServerRole, SchedulerRoles & { web: boolean }> = {
  all: { web: true, schedule: true, work: true },
  web: { web: true, schedule: false, work: false },
  scheduler: { web: false, schedule: true, work: false },
  worker: { web: false, schedule: false, work: true },
};

/**
 * `vigil serve`: migrates the database and starts what the role asks for — the API and dashboard (web), the
 * scheduler (queues due scans, runs retention and the alert outbox), scan workers — or all three.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const config = env();
  const log = options.log ?? ((line: string) => console.log(line));
  const role = options.role ?? config.VIGIL_ROLE;
  const runs = ROLES[role];
  const onPostgres = isPostgresUrl(options.storage);
  if (role !== 'all' && !onPostgres)
    throw new AppError(
      'invalid_request',
      `--role=${role} needs PostgreSQL (VIGIL_DATABASE_URL): one SQLite file is served by one process, --role=all`,
    );
  const region = options.region === undefined ? (config.VIGIL_REGION ?? null) : options.region;
  const now = options.now ?? (() => new Date());
  const defaults: Settings = {
    allowPrivate: options.allowPrivate ?? config.VIGIL_ALLOW_PRIVATE,
    retentionDays: config.VIGIL_RETENTION_DAYS,
    scanConcurrency: options.scanConcurrency ?? config.VIGIL_SCAN_CONCURRENCY,
    defaultIntervalMinutes: DEFAULT_INTERVAL_MINUTES,
  };
  // A read-only, full or locked database (or a PostgreSQL server not up yet) is waited out, not a crash loop.
  const database = await waitForMigratedDatabase(options.storage, {
    log,
    poolSize: config.VIGIL_DATABASE_POOL_SIZE,
  });
  const worker = `${hostname()}:${process.pid}`;
  let queue: ScanQueue;
  try {
    queue = onPostgres
      ? await createPgBossQueue({
          db: database.db,
          databaseUrl: options.storage,
          worker,
          region,
          leaseSeconds: config.VIGIL_JOB_LEASE_SECONDS,
          retryLimit: config.VIGIL_JOB_RETRY_LIMIT,
          retryDelaySeconds: config.VIGIL_JOB_RETRY_DELAY_SECONDS,
          now,
          log,
        })
      : createSqliteScanQueue({ db: database.db, now });
  } catch (error) {
    await database.close();
    throw error;
  }
  const runScan = createScanRunner({
    dnsServers: options.dnsServers ?? config.VIGIL_DNS_SERVERS,
    ...(options.extraCaPems ? { extraCaPems: options.extraCaPems } : {}),
    ...(config.NODE_EXTRA_CA_CERTS ? { extraCaFile: config.NODE_EXTRA_CA_CERTS } : {}),
  });
  const smtpUrl = options.smtpUrl === undefined ? (config.VIGIL_SMTP_URL ?? null) : options.smtpUrl;
  const mail = {
    mailer: smtpUrl
      ? createSmtpMailer({
          url: smtpUrl,
          from: options.mailFrom ?? config.VIGIL_MAIL_FROM,
          ...(options.smtpCaPems ? { extraCaPems: options.smtpCaPems } : {}),
        })
      : null,
    mailFrom: options.mailFrom ?? config.VIGIL_MAIL_FROM,
    publicUrl: options.publicUrl === undefined ? (config.VIGIL_PUBLIC_URL ?? null) : options.publicUrl,
  };
  const alerts = createAlerts({
    db: database.db,
    ...mail,
    log,
    now,
    leaseMs: config.VIGIL_ALERT_LEASE_SECONDS * 1000,
  });
  const { onScanRecorded } = options;
  const scheduler = createScheduler({
    db: database.db,
    queue,
    roles: { schedule: runs.schedule, work: runs.work },
    runScan,
    defaults,
    tickCron: options.tickCron ?? config.VIGIL_TICK_CRON,
    // Other processes queue scans for this worker: it looks for them; a lone SQLite process is told.
    pollMs: onPostgres ? config.VIGIL_WORKER_POLL_MS : null,
    ...(options.workerConcurrency ? { concurrency: options.workerConcurrency } : {}),
    log,
    onScanRecorded: async (scanId) => {
      // The worker that recorded a scan evaluates it; the mail waits in the outbox for the scheduler's sender.
      await alerts.onScanFinished(scanId);
      await onScanRecorded?.(scanId);
    },
    now,
  });
  const app = createApp({
    database,
    scheduler,
    defaults,
    mail,
    trustProxy: options.trustProxy ?? config.VIGIL_TRUST_PROXY,
    publicUrl: mail.publicUrl,
    now,
    ...(options.dashboardDir !== undefined ? { dashboardDir: options.dashboardDir } : {}),
  });

  let server: ReturnType<typeof serve> | null = null;
  let address: AddressInfo | null = null;
  try {
    // Before the first tick: scans recorded but not yet evaluated are caught up in order; the outbox starts.
    if (runs.schedule) await alerts.start();
    await scheduler.start();
    if (runs.web)
      ({ server, address } = await new Promise<{ server: ReturnType<typeof serve>; address: AddressInfo }>(
        (resolve, reject) => {
          const listening = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, (info) =>
            resolve({ server: listening, address: info }),
          );
          listening.once('error', reject);
        },
      ));
  } catch (error) {
    await scheduler.stop({ graceMs: 0 });
    await alerts.stop();
    await queue.close();
    await database.close();
    throw error;
  }

  const url = address ? urlFor(address) : null;
  const parts = [
    runs.schedule ? 'scheduling' : null,
    runs.work ? `scanning${region ? ` in region ${region}` : ''}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  const detail = `${role}${parts ? `: ${parts}` : ''}; data in ${database.location}`;
  log(url ? `Vigil listening on ${url} (${detail})` : `Vigil started (${detail})`);
  // First run: no default password. The secret rides in the fragment, which browsers never send on.
  const setupToken = runs.web ? await issueSetupToken({ db: database.db, now }) : null;
  const setupUrl =
    setupToken && url ? `${(mail.publicUrl ?? url).replace(/\/+$/, '')}/setup#token=${setupToken}` : null;
  if (setupUrl) {
    log('Vigil has no accounts yet. Create the first admin by opening this one-time link:');
    log(`  ${setupUrl}`);
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    app,
    setupUrl,
    close() {
      closing ??= (async () => {
        const httpClosed = server
          ? new Promise<void>((resolve) => server?.close(() => resolve()))
          : Promise.resolve();
        // Idle keep-alive connections would hold close() open; requests in progress still finish.
        if (server && 'closeIdleConnections' in server) server.closeIdleConnections();
        const { requeued } = await scheduler.stop({ graceMs: options.shutdownGraceMs ?? 10_000 });
        if (requeued > 0) log(`vigil: ${requeued} unfinished scans handed back to the queue`);
        await alerts.stop();
        await httpClosed;
        await queue.close();
        await database.close();
      })();
      return closing;
    },
  };
}
