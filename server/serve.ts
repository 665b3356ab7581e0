import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createAlerts, createSmtpMailer } from './alerts';
import { createApp } from './app';
import { env } from './config/env';
import { waitForMigratedDatabase } from './db';
import { createScanRunner } from './scheduler/scan-runner';
import { createScheduler } from './scheduler/scheduler';
import { DEFAULT_INTERVAL_MINUTES, type Settings } from './services/context';
import { issueSetupToken } from './services/users';

export interface ServerOptions {
  port: number;
  host: string;
  dataDir: string;
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
  url: string;
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

/** `vigil serve`: migrates the database, starts the scheduler and serves the API (and dashboard). */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const config = env();
  const log = options.log ?? ((line: string) => console.log(line));
  const defaults: Settings = {
    allowPrivate: options.allowPrivate ?? config.VIGIL_ALLOW_PRIVATE,
    retentionDays: config.VIGIL_RETENTION_DAYS,
    scanConcurrency: options.scanConcurrency ?? config.VIGIL_SCAN_CONCURRENCY,
    defaultIntervalMinutes: DEFAULT_INTERVAL_MINUTES,
  };
  // A read-only, full or locked database is waited out (and logged), not a crash into a restart loop.
  const database = await waitForMigratedDatabase(options.dataDir, { log });
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
    ...(options.now ? { now: options.now } : {}),
  });
  const { onScanRecorded } = options;
  const scheduler = createScheduler({
    db: database.db,
    runScan,
    defaults,
    tickCron: options.tickCron ?? config.VIGIL_TICK_CRON,
    log,
    onScanRecorded: (scanId) => {
      alerts.onScanFinished(scanId);
      onScanRecorded?.(scanId);
    },
    ...(options.now ? { now: options.now } : {}),
  });
  const app = createApp({
    db: database.db,
    scheduler,
    defaults,
    mail,
    trustProxy: options.trustProxy ?? config.VIGIL_TRUST_PROXY,
    publicUrl: mail.publicUrl,
    ...(options.now ? { now: options.now } : {}),
    ...(options.dashboardDir !== undefined ? { dashboardDir: options.dashboardDir } : {}),
  });

  let server: ReturnType<typeof serve>;
  let address: AddressInfo;
  try {
    // Before the first tick: scans recorded but not yet evaluated are caught up in order.
    alerts.start();
    scheduler.start();
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
    database.close();
    throw error;
  }

  const url = urlFor(address);
  log(`Vigil listening on ${url} (data in ${database.file})`);
  // First run: no default password. The secret rides in the fragment, which browsers never send on.
  const setupToken = issueSetupToken({ db: database.db, now: options.now ?? (() => new Date()) });
  const setupUrl = setupToken
    ? `${(mail.publicUrl ?? url).replace(/\/+$/, '')}/setup#token=${setupToken}`
    : null;
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
        const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Idle keep-alive connections would hold close() open; requests in progress still finish.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
        const { requeued } = await scheduler.stop({ graceMs: options.shutdownGraceMs ?? 10_000 });
        if (requeued > 0) log(`vigil: ${requeued} unfinished scans re-queued for the next start`);
        await alerts.stop();
        await httpClosed;
        database.close();
      })();
      return closing;
    },
  };
}
