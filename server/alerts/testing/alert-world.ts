import { asc, eq } from 'drizzle-orm';
import type { Database } from '../../db';
import { alertDeliveries, scans, sites } from '../../db/schema';
import { createTempDatabase } from '../../db/temp-database';
import { createClock, TEST_DEFAULTS } from '../../routes/test-app';
import { makeFinding } from '../../scan/catalogue';
import type { Finding, ScanResult } from '../../scan/types';
import { createScheduler, type RunScan, type Scheduler } from '../../scheduler/scheduler';
import { scanResultFor } from '../../scheduler/scripted-scan';
import { createRecipient, type NewRecipient } from '../../services/alert-recipients';
import { createSite, type NewSite } from '../../services/sites';
import { type Alerts, createAlerts } from '..';
import { createSmtpMailer } from '../mailer';
import type { RetryPolicy } from '../timing';
import { type SmtpSink, type SmtpSinkOptions, startSmtpSink } from './smtp-sink';

/**
 * One Vigil without HTTP for alert tests: a real database of the test dialect, the real scheduler and incident engine,
 * a real SMTP server, and scans whose outcome the test sets per host. Time is a clock the test moves.
 */

export const PUBLIC_URL = 'https://vigil.example.test';
export const MAIL_FROM = 'Vigil <alerts@vigil.example.test>';

export const DEBUG_FINDING: Finding = makeFinding('django.debug', {
  evidence:
    "random path: GET https://shop.example.test/vigil-probe-1 → 404 shows Django's technical error page",
});
export const HSTS_FINDING: Finding = makeFinding('hsts.missing', {
  evidence: 'no Strict-Transport-Security header',
});

type SiteState = { up: true; findings: readonly Finding[]; notAfter?: Date } | { up: false };

export interface AlertWorld {
  database: Database;
  clock: ReturnType<typeof createClock>;
  smtp: SmtpSink;
  /** The current alert engine and outbox worker (replaced by restartAlerts). */
  readonly alerts: Alerts;
  scheduler: Scheduler;
  ctx: { db: Database['db']; now: () => Date; defaults: typeof TEST_DEFAULTS };
  addSite(input: NewSite): Promise<number>;
  addRecipient(input: NewRecipient): Promise<number>;
  /** What the next scans of `host` see (and when its certificate expires). */
  set(host: string, state: readonly Finding[] | 'down', certificate?: { notAfter: Date }): void;
  /** What the next scans of `host` see, one after the other; the last one stays. */
  sequence(host: string, states: readonly (readonly Finding[] | 'down')[]): void;
  /** false: scans are recorded but not evaluated, as when the process dies right after recording. */
  evaluateScans: boolean;
  /** A new engine and worker over the same database, as after a restart of the process. */
  restartAlerts(): Promise<void>;
  /** Moves the clock to when the site's next scan is due, runs it (and any confirmation), then the outbox. */
  scheduledScan(siteId: number): Promise<void>;
  /** A "scan now" request, run to the end, then the outbox. */
  manualScan(siteId: number): Promise<void>;
  /** Moves the clock on and runs one outbox round (reminders, digests, retries). */
  wait(ms: number): Promise<void>;
  scanTriggers(siteId: number): Promise<string[]>;
  deliveries(): Promise<(typeof alertDeliveries.$inferSelect)[]>;
  close(): Promise<void>;
}

function withCertificate(result: ScanResult, notAfter: Date | undefined): ScanResult {
  if (!notAfter || !result.tls) return result;
  return { ...result, tls: { ...result.tls, notAfter: notAfter.toISOString() } };
}

export async function createAlertWorld(
  options: { retry?: RetryPolicy; smtp?: SmtpSinkOptions } = {},
): Promise<AlertWorld> {
  const temp = await createTempDatabase();
  const database: Database = temp;
  const clock = createClock();
  const smtp = await startSmtpSink(options.smtp);
  const states = new Map<string, SiteState[]>();
  const toState = (state: readonly Finding[] | 'down'): SiteState =>
    state === 'down' ? { up: false } : { up: true, findings: state };
  const runScan: RunScan = async (job) => {
    const queue = states.get(job.host) ?? [];
    const state = (queue.length > 1 ? queue.shift() : queue[0]) ?? { up: true, findings: [] };
    const result: ScanResult = state.up
      ? withCertificate(scanResultFor(job.host, state.findings, { scannedAt: clock.now() }), state.notAfter)
      : {
          ...scanResultFor(job.host, [], { scannedAt: clock.now() }),
          status: 'unreachable',
          grade: null,
          score: null,
          tls: null,
          checks: [],
          error: 'connect ECONNREFUSED on ports 80 and 443',
        };
    return result;
  };
  const newAlerts = (): Alerts =>
    createAlerts({
      db: database.db,
      mailer: createSmtpMailer({ url: smtp.url, from: MAIL_FROM, timeoutMs: 10_000 }),
      mailFrom: MAIL_FROM,
      publicUrl: PUBLIC_URL,
      now: clock.now,
      random: () => 0.5,
      pollMs: 0,
      ...(options.retry ? { retry: options.retry } : {}),
    });
  let alerts = newAlerts();
  let evaluateScans = true;
  const scheduler = createScheduler({
    db: database.db,
    runScan,
    defaults: TEST_DEFAULTS,
    now: clock.now,
    random: () => 0.5,
    tickCron: null,
    onScanRecorded: async (scanId) => {
      if (evaluateScans) await alerts.onScanFinished(scanId);
    },
  });
  await alerts.start();
  await scheduler.start();
  const ctx = { db: database.db, now: clock.now, defaults: TEST_DEFAULTS };

  const settle = async () => {
    await scheduler.drain();
    await alerts.runOnce();
  };

  return {
    database,
    clock,
    smtp,
    get alerts() {
      return alerts;
    },
    get evaluateScans() {
      return evaluateScans;
    },
    set evaluateScans(value: boolean) {
      evaluateScans = value;
    },
    async restartAlerts() {
      await alerts.stop();
      alerts = newAlerts();
      await alerts.start();
      await alerts.runOnce();
    },
    scheduler,
    ctx,
    addSite: async (input) => (await createSite({ ...ctx, input })).id,
    addRecipient: async (input) => (await createRecipient({ ...ctx, input })).id,
    set(host, state, certificate) {
      states.set(host, [
        certificate && state !== 'down' ? { up: true, findings: state, ...certificate } : toState(state),
      ]);
    },
    sequence(host, sequence) {
      states.set(host, sequence.map(toState));
    },
    async scheduledScan(siteId) {
      const [site] = await database.db.select().from(sites).where(eq(sites.id, siteId)).limit(1);
      if (!site) throw new Error(`no site ${siteId}`);
      if (site.nextScanAt > clock.now()) clock.set(site.nextScanAt);
      await scheduler.tick();
      await settle();
    },
    async manualScan(siteId) {
      const { requestScan } = await import('../../services/scan-queue');
      await requestScan({ ...ctx, input: { siteId } });
      await settle();
    },
    async wait(ms) {
      clock.advance(ms);
      await alerts.runOnce();
    },
    scanTriggers: async (siteId) =>
      (
        await database.db
          .select({ trigger: scans.trigger })
          .from(scans)
          .where(eq(scans.siteId, siteId))
          .orderBy(asc(scans.id))
      ).map((row) => row.trigger),
    deliveries: () => database.db.select().from(alertDeliveries).orderBy(asc(alertDeliveries.id)),
    async close() {
      await scheduler.stop({ graceMs: 500 });
      await alerts.stop();
      await smtp.stop();
      await temp.remove();
    },
  };
}
