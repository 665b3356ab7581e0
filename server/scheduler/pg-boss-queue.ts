import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import type { Db } from '../db';
import type { ScanResult } from '../scan/types';
import {
  abandonScan,
  claimScan,
  completeScan,
  countActiveScans,
  enqueueDueSites,
  failScan,
  listDeadLetters,
  listQueuedScans,
  requeueScans,
} from '../services/scan-queue';
import type { ClaimedScan, ScanQueue } from './queue';

/**
 * The scan queue on PostgreSQL: pg-boss jobs carry scan ids from the scheduler (and web, for "scan now") to
 * any number of worker processes. The scans table stays the record: a job only says "run scan N".
 *
 * - One job per scan, its id derived from the scan id, so handing out the same queued scan twice (two
 *   schedulers, a sweep after a crash) inserts nothing the second time.
 * - Queues use pg-boss's `stately` policy keyed by site: a site never has two jobs active at once.
 * - A job is leased for `leaseSeconds`; a worker killed mid-scan loses the lease and pg-boss retries the job
 *   (with backoff) on another worker, which takes the scan row over. A late result from the first worker is
 *   refused (scans.worker no longer names it), so nothing is recorded twice.
 * - After `retryLimit` retries a job goes to the dead-letter queue; the scheduler closes its scan as given
 *   up (services/scan-queue.ts GAVE_UP_PREFIX), which the API lists.
 * - Sites can require a region: their jobs go to `scan-<region>`, which only workers of that region read.
 */

export const SCAN_QUEUE = 'scan';
export const DEAD_LETTER_QUEUE = 'scan-dead-letter';

export interface PgBossQueueOptions {
  db: Db;
  /** The same database the services use; pg-boss keeps its tables in the `pgboss` schema there. */
  databaseUrl: string;
  /** This process's name on the scans it runs (`host:pid`). */
  worker: string;
  /** This worker's region label: it reads `scan-<region>` before `scan`. */
  region: string | null;
  leaseSeconds: number;
  retryLimit: number;
  retryDelaySeconds: number;
  now?: () => Date;
  random?: () => number;
  log?: (line: string) => void;
}

/** Region labels: short, lower-case, safe in a queue name. */
export const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,29}$/;

export function queueFor(region: string | null): string {
  return region ? `${SCAN_QUEUE}-${region}` : SCAN_QUEUE;
}

/**
 * A stable UUID for a scan's job (version 5 layout): the scan id in hex leads, so jobs sent in one batch
 * (one creation time, where pg-boss orders by id) come out oldest first; a hash of it fills the rest.
 */
export function jobIdFor(scanId: number): string {
  const lead = scanId.toString(16).padStart(12, '0');
  const hex = createHash('sha256').update(`vigil-scan:${scanId}`).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${lead.slice(0, 8)}-${lead.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface ScanJobData {
  scanId: number;
}

/** Dispatch sweeps look back this far past the previous sweep, so a scan queued mid-sweep is not missed. */
const SWEEP_OVERLAP_MS = 60_000;
/** Every this many dispatches, sweep every queued scan (catches any the time window missed). */
const FULL_SWEEP_EVERY = 20;
const DISPATCH_BATCH = 500;

export async function createPgBossQueue(options: PgBossQueueOptions): Promise<ScanQueue> {
  const { db, worker, region } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => {});
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    // Few connections: a job fetch or completion is one short statement (docs/operations.md counts them).
    max: 2,
    application_name: 'vigil-queue',
    // Expiry of leases is checked by the scheduler's tick (expire()); pg-boss's own maintenance archives.
    supervise: true,
    schedule: false,
    archiveCompletedAfterSeconds: 24 * 60 * 60,
  });
  boss.on('error', (error) => log(`vigil: job queue: ${error.message}`));
  await boss.start();

  const known = new Set<string>();
  async function ensureQueue(name: string, deadLetter: boolean): Promise<void> {
    if (known.has(name)) return;
    if (!(await boss.getQueue(name))) {
      try {
        await boss.createQueue(
          name,
          deadLetter
            ? { name, policy: 'standard' }
            : {
                name,
                policy: 'stately',
                retryLimit: options.retryLimit,
                retryDelay: options.retryDelaySeconds,
                retryBackoff: true,
                expireInSeconds: options.leaseSeconds,
                deadLetter: DEAD_LETTER_QUEUE,
              },
        );
      } catch (error) {
        // Another process created it first.
        if (!(await boss.getQueue(name))) throw error;
      }
    }
    known.add(name);
  }
  await ensureQueue(DEAD_LETTER_QUEUE, true);
  await ensureQueue(SCAN_QUEUE, false);
  if (region) await ensureQueue(queueFor(region), false);

  let lastSweep: Date | null = null;
  let dispatches = 0;

  async function dispatch(): Promise<number> {
    const startedAt = now();
    const full = lastSweep === null || dispatches % FULL_SWEEP_EVERY === 0;
    dispatches += 1;
    const queuedSince = full || !lastSweep ? null : new Date(lastSweep.getTime() - SWEEP_OVERLAP_MS);
    let handed = 0;
    let afterId = 0;
    for (;;) {
      const queued = await listQueuedScans({ db, input: { queuedSince, afterId, limit: DISPATCH_BATCH } });
      if (queued.length === 0) break;
      for (const scan of queued) await ensureQueue(queueFor(scan.region), false);
      await boss.insert(
        queued.map((scan) => ({
          id: jobIdFor(scan.scanId),
          name: queueFor(scan.region),
          data: { scanId: scan.scanId } satisfies ScanJobData,
          singletonKey: `site-${scan.siteId}`,
          // Someone is waiting on a manual scan; confirmation scans hold an alert back.
          priority: scan.trigger === 'schedule' ? 0 : 1,
          retryLimit: options.retryLimit,
          retryDelay: options.retryDelaySeconds,
          retryBackoff: true,
          expireInSeconds: options.leaseSeconds,
          deadLetter: DEAD_LETTER_QUEUE,
        })),
      );
      handed += queued.length;
      afterId = queued[queued.length - 1]?.scanId ?? afterId;
      if (queued.length < DISPATCH_BATCH) break;
    }
    lastSweep = startedAt;
    return handed;
  }

  async function completeJob(scan: ClaimedScan): Promise<void> {
    if (scan.receipt) await boss.complete(scan.receipt.queue, scan.receipt.jobId);
  }

  async function failJob(scan: ClaimedScan, reason: string): Promise<void> {
    if (scan.receipt) await boss.fail(scan.receipt.queue, scan.receipt.jobId, { reason });
  }

  const ownQueues = region ? [queueFor(region), SCAN_QUEUE] : [SCAN_QUEUE];

  return {
    backend: 'pg-boss',

    async enqueueDue() {
      const queued = await enqueueDueSites({ db, now });
      // Leases that ran out (killed workers) go back to the queue for another worker.
      await boss.expire();
      await dispatch();
      return queued;
    },

    dispatch,

    async claim(max) {
      const claimed: ClaimedScan[] = [];
      for (const queue of ownQueues) {
        if (claimed.length >= max) break;
        const jobs = await boss.fetch<ScanJobData>(queue, { batchSize: max - claimed.length });
        for (const job of jobs) {
          const result = await claimScan({
            db,
            now,
            input: { scanId: job.data.scanId, worker, region },
          });
          if ('skip' in result) {
            await boss.complete(queue, job.id, { skipped: result.skip });
            continue;
          }
          claimed.push({ ...result.job, receipt: { queue, jobId: job.id } });
        }
      }
      // pg-boss orders jobs of one dispatch (one timestamp) at random: take them oldest first.
      return claimed.sort((a, b) => a.scanId - b.scanId);
    },

    async complete(scan, result: ScanResult) {
      const recorded = await completeScan({
        db,
        now,
        random,
        input: { scanId: scan.scanId, result, worker },
      });
      // Not recorded: another worker took the scan over after our lease ran out; the job is theirs now.
      if (recorded) await completeJob(scan);
      return recorded;
    },

    async fail(scan, error) {
      const recorded = await failScan({ db, now, random, input: { scanId: scan.scanId, error, worker } });
      if (recorded) await completeJob(scan);
      return recorded;
    },

    async retryLater(scan, error) {
      await failJob(scan, `could not record the scan: ${error}`);
    },

    async handBack(scans) {
      const requeued = await requeueScans({
        db,
        input: { scanIds: scans.map((scan) => scan.scanId), worker },
      });
      for (const scan of scans) await failJob(scan, `handed back: worker ${worker} is shutting down`);
      return requeued;
    },

    // Nothing to recover at start-up: another worker may be running the scans marked running; leases decide.
    recoverInterrupted: async () => ({ requeued: 0, abandoned: 0 }),

    async settleDeadLetters() {
      let settled = 0;
      for (;;) {
        const jobs = await boss.fetch<ScanJobData>(DEAD_LETTER_QUEUE, { batchSize: 50 });
        if (jobs.length === 0) return settled;
        for (const job of jobs) {
          const closed = await abandonScan({
            db,
            now,
            random,
            input: {
              scanId: job.data.scanId,
              reason: `no worker could finish it in ${options.retryLimit + 1} attempts (killed, shut down or storage failing)`,
            },
          });
          if (closed) settled += 1;
          await boss.complete(DEAD_LETTER_QUEUE, job.id);
        }
      }
    },

    async depth() {
      const active = await countActiveScans({ db });
      // Every region's queue, not only the ones this process has used.
      const queues = (await boss.getQueues())
        .map((queue) => queue.name)
        .filter(
          (name) => name === SCAN_QUEUE || (name.startsWith(`${SCAN_QUEUE}-`) && name !== DEAD_LETTER_QUEUE),
        );
      const waiting = await Promise.all(queues.map((name) => boss.getQueueSize(name, { before: 'active' })));
      const fresh = await Promise.all(queues.map((name) => boss.getQueueSize(name, { before: 'retry' })));
      const sum = (sizes: number[]) => sizes.reduce((total, size) => total + size, 0);
      // Jobs in pg-boss's retry state: handed back, failed to record, or their worker's lease ran out.
      return { ...active, retrying: sum(waiting) - sum(fresh) };
    },

    deadLetters: (limit) => listDeadLetters({ db, input: { limit } }),

    async close() {
      await boss.stop({ graceful: false, wait: true, close: true });
    },
  };
}
