import { type Db, storageFault } from '../db';
import { type AlertIo, evaluateFinishedScan, evaluatePendingScans } from './evaluate';
import { type HousekeepingReport, runHousekeeping } from './housekeeping';
import { DeliveryError, type Mailer } from './mailer';
import {
  claimDueDeliveries,
  countWaitingDeliveries,
  markFailed,
  markSent,
  messageIdDomain,
  rearmDeliveries,
} from './outbox';
import type { RetryPolicy } from './timing';

export { createSmtpMailer, type Mailer } from './mailer';

export interface AlertsOptions {
  db: Db;
  /** null: no VIGIL_SMTP_URL; incidents open and mails wait in the outbox. */
  mailer: Mailer | null;
  /** `VIGIL_MAIL_FROM`, for the Message-ID domain. */
  mailFrom: string;
  /** `VIGIL_PUBLIC_URL`, for links in mails. */
  publicUrl: string | null;
  now?: () => Date;
  random?: () => number;
  /** Time between rounds of the worker; 0 runs none (tests call runOnce()). */
  pollMs?: number;
  retry?: RetryPolicy;
  /** How long a claimed delivery belongs to this sender (outbox.ts DEFAULT_LEASE_MS). */
  leaseMs?: number;
  log?: (line: string) => void;
}

export interface RoundReport extends HousekeepingReport {
  /** Scans recorded but not evaluated (the process that recorded them died first), evaluated now. */
  caughtUp: number;
  sent: number;
  failed: number;
}

export interface Alerts {
  /**
   * The scheduler's hook after it records a scan: evaluate it (with any earlier scans of the site not yet
   * evaluated) and mail what it confirmed. Never rejects: a failure is logged, and the site's next
   * evaluation, in this process or another, catches up.
   */
  onScanFinished(scanId: number): Promise<void>;
  /** Catches up on scans not yet evaluated, re-arms the outbox and starts the worker. */
  start(): Promise<void>;
  /** One round: scans left unevaluated, reminders, flapping, digests, then every due delivery. */
  runOnce(): Promise<RoundReport>;
  /** Asks for a round soon (a mail was just written). */
  kick(): void;
  /** Stops the worker, letting a send in progress finish for up to graceMs. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

const BATCH = 10;

/** A storage fault in words; for a failed query, the driver's reason rather than the SQL and its parameters. */
function errorMessage(error: unknown): string {
  const fault = storageFault(error);
  if (fault) return fault.message;
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The alert side of `vigil serve`: the incident engine hooked to the scheduler, and the outbox worker. */
export function createAlerts(options: AlertsOptions): Alerts {
  const { db, mailer } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => {});
  const pollMs = options.pollMs ?? 5_000;
  const io: AlertIo = {
    db,
    now,
    mail: { publicUrl: options.publicUrl, domain: messageIdDomain(options.mailFrom) },
  };

  let timer: NodeJS.Timeout | null = null;
  let round: Promise<RoundReport> | null = null;
  let again = false;
  let started = false;
  let stopping = false;
  let warnedNoMailer = false;

  async function deliverDue(): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    if (!mailer) {
      const waiting = await countWaitingDeliveries(db);
      if (waiting > 0 && !warnedNoMailer) {
        warnedNoMailer = true;
        log(`vigil: ${waiting} alert mails wait in the outbox: set VIGIL_SMTP_URL to send them`);
      }
      return { sent, failed };
    }
    while (!stopping) {
      const claimed = await claimDueDeliveries(db, {
        at: now(),
        limit: BATCH,
        ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
      });
      if (claimed.length === 0) break;
      for (const delivery of claimed) {
        try {
          await mailer.send(delivery.mail);
        } catch (error) {
          const permanent = error instanceof DeliveryError && error.permanent;
          const next = await markFailed(db, {
            claim: delivery,
            error: errorMessage(error),
            permanent,
            at: now(),
            random,
            ...(options.retry ? { retry: options.retry } : {}),
          });
          failed += 1;
          log(
            `vigil: mail ${delivery.mail.messageId} to ${delivery.mail.to} failed (${errorMessage(error)}); ${next ? `retry at ${next.toISOString()}` : 'refused for good'}`,
          );
          continue;
        }
        await markSent(db, delivery, now());
        sent += 1;
      }
    }
    return { sent, failed };
  }

  /** Why each site failed in the last catch-up: a site that keeps failing is logged once, not every round. */
  let catchUpFailures = new Map<number, string>();

  /** Evaluates scans nobody has evaluated yet; returns how many. */
  async function catchUp(): Promise<number> {
    const failures = new Map<number, string>();
    let evaluated = 0;
    try {
      evaluated = (
        await evaluatePendingScans(io, (siteId, error) => failures.set(siteId, errorMessage(error)))
      ).length;
    } catch (error) {
      log(`vigil: could not catch up on scans not yet evaluated for alerts: ${errorMessage(error)}`);
      return 0;
    }
    for (const [siteId, message] of failures)
      if (catchUpFailures.get(siteId) !== message)
        log(`vigil: could not evaluate the scans of site ${siteId} for alerts: ${message}`);
    catchUpFailures = failures;
    return evaluated;
  }

  async function oneRound(): Promise<RoundReport> {
    // A worker killed between recording a scan and evaluating it leaves the scan to whoever looks next.
    const caughtUp = await catchUp();
    let housekeeping: HousekeepingReport = { reminders: 0, settled: 0, digests: 0 };
    try {
      housekeeping = await runHousekeeping(io);
    } catch (error) {
      log(`vigil: alert housekeeping failed: ${errorMessage(error)}`);
    }
    let delivered = { sent: 0, failed: 0 };
    try {
      delivered = await deliverDue();
    } catch (error) {
      log(`vigil: alert delivery failed: ${errorMessage(error)}`);
    }
    return { caughtUp, ...housekeeping, ...delivered };
  }

  function runOnce(): Promise<RoundReport> {
    if (round) {
      again = true;
      return round;
    }
    round = oneRound().finally(() => {
      round = null;
      if (again && !stopping) {
        again = false;
        void runOnce();
      }
    });
    return round;
  }

  function schedule(delayMs: number): void {
    if (!started || stopping || pollMs <= 0) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void runOnce().finally(() => schedule(pollMs));
    }, delayMs);
    timer.unref();
  }

  function kick(): void {
    if (started) schedule(0);
  }

  return {
    async onScanFinished(scanId) {
      try {
        const reports = await evaluateFinishedScan(io, scanId);
        if (reports.some((report) => report.mailId !== null)) kick();
      } catch (error) {
        log(`vigil: could not evaluate scan ${scanId} for alerts: ${errorMessage(error)}`);
      }
    },

    async start() {
      if (started) return;
      started = true;
      // Other processes may be starting too: both steps only take work under locks, so they share it.
      const caughtUp = await catchUp();
      if (caughtUp > 0) log(`vigil: evaluated ${caughtUp} scans recorded before the last stop`);
      try {
        const { rearmed, leased } = await rearmDeliveries(db, now());
        if (rearmed > 0) log(`vigil: ${rearmed} alert mails in the outbox, sending now`);
        if (leased > 0)
          log(
            `vigil: ${leased} alert mails were being sent; unless their sender settles them, they go out again when its lease ends`,
          );
      } catch (error) {
        log(`vigil: could not re-arm the alert outbox: ${errorMessage(error)}`);
      }
      schedule(0);
    },

    runOnce,

    kick,

    async stop({ graceMs = 5_000 } = {}) {
      stopping = true;
      if (timer) clearTimeout(timer);
      timer = null;
      // A send cut short here stays `sending` and goes out again (from any process) when its lease ends.
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        round?.catch(() => undefined),
        new Promise((resolve) => {
          graceTimer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(graceTimer);
      mailer?.close();
    },
  };
}
