import type { Db } from '../db';
import type { ScanResult } from '../scan/types';
import {
  claimNextScan,
  completeScan,
  countActiveScans,
  type DeadLetter,
  enqueueDueSites,
  failScan,
  listDeadLetters,
  recoverInterruptedScans,
  requeueScans,
  type ScanJob,
} from '../services/scan-queue';

export type { ScanJob } from '../services/scan-queue';

/** A scan a worker holds: the job, and the queue's own handle on it (a pg-boss job) when there is one. */
export interface ClaimedScan extends ScanJob {
  /** The queue's receipt for this claim; undefined for the SQLite queue. */
  receipt?: { queue: string; jobId: string };
}

export interface QueueDepth {
  queued: number;
  running: number;
  /** Jobs waiting to be retried after a failure (PostgreSQL only; 0 on SQLite). */
  retrying: number;
}

/**
 * Everything the scheduler and the workers ask of a scan queue. Two implementations: the scans table of a
 * SQLite file, served in one process (below), and pg-boss on PostgreSQL for any number of scheduler, web
 * and worker processes (pg-boss-queue.ts; docs/adr/0003-scale-out.md).
 */
export interface ScanQueue {
  readonly backend: 'sqlite' | 'pg-boss';
  /** Scheduler: queues one scheduled scan for each enabled site whose time has come and hands them to workers. */
  enqueueDue(): Promise<number>;
  /** Hands queued scans nobody has taken yet to workers (manual and confirmation scans); returns how many. */
  dispatch(): Promise<number>;
  /** Worker: takes up to `max` scans and marks them running. */
  claim(max: number): Promise<ClaimedScan[]>;
  /** Stores a finished scan; false when it is no longer this worker's (site deleted, handed back, taken over). */
  complete(scan: ClaimedScan, result: ScanResult): Promise<boolean>;
  /** Closes a scan whose scan function threw or timed out as an `error` outcome. */
  fail(scan: ClaimedScan, error: string): Promise<boolean>;
  /** A scan ran but its end could not be stored: the queue runs it again later (retry with backoff). */
  retryLater(scan: ClaimedScan, error: string): Promise<void>;
  /** Graceful shutdown: running scans go back to the queue for another worker; returns how many. */
  handBack(scans: readonly ClaimedScan[]): Promise<number>;
  /** Start-up (SQLite): scans a crash left running go back to the queue, or are given up on after too many attempts. */
  recoverInterrupted(): Promise<{ requeued: number; abandoned: number }>;
  /** Scheduler: closes the scans whose jobs ran out of retries (dead letters); returns how many. */
  settleDeadLetters(): Promise<number>;
  depth(): Promise<QueueDepth>;
  deadLetters(limit: number): Promise<DeadLetter[]>;
  close(): Promise<void>;
}

export interface SqliteScanQueueOptions {
  db: Db;
  now?: () => Date;
  /** Jitter source for the next scan time of a site. */
  random?: () => number;
}

/**
 * The in-process queue: the scans table itself (services/scan-queue.ts). Scans a worker could not record go
 * back to the queue at the next tick; scans a crash interrupted are re-queued at start-up.
 */
export function createSqliteScanQueue(options: SqliteScanQueueOptions): ScanQueue {
  const { db } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  return {
    backend: 'sqlite',
    enqueueDue: () => enqueueDueSites({ db, now }),
    dispatch: async () => 0,
    async claim(max) {
      const claimed: ClaimedScan[] = [];
      while (claimed.length < max) {
        const job = await claimNextScan({ db, now });
        if (!job) break;
        claimed.push(job);
      }
      return claimed;
    },
    complete: (scan, result) => completeScan({ db, now, random, input: { scanId: scan.scanId, result } }),
    fail: (scan, error) => failScan({ db, now, random, input: { scanId: scan.scanId, error } }),
    async retryLater(scan) {
      await requeueScans({ db, input: { scanIds: [scan.scanId] } });
    },
    handBack: (scans) => requeueScans({ db, input: { scanIds: scans.map((scan) => scan.scanId) } }),
    recoverInterrupted: () => recoverInterruptedScans({ db, now, random }),
    settleDeadLetters: async () => 0,
    depth: async () => ({ ...(await countActiveScans({ db })), retrying: 0 }),
    deadLetters: (limit) => listDeadLetters({ db, input: { limit } }),
    close: async () => {},
  };
}
