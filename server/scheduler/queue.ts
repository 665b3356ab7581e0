import type { Db } from '../db';
import type { ScanResult } from '../scan/types';
import {
  claimNextScan,
  completeScan,
  countActiveScans,
  enqueueDueSites,
  failScan,
  recoverInterruptedScans,
  requeueScans,
  type ScanJob,
} from '../services/scan-queue';

export type { ScanJob } from '../services/scan-queue';

/**
 * Everything the scheduler asks of a scan queue. The default keeps the queue in the `scans` table of the
 * SQLite file and serves one process; a durable multi-worker queue (pg-boss, docs/adr/0003-scale-out.md)
 * implements the same operations. Synchronous because better-sqlite3 is; see the ADR for the async step.
 */
export interface ScanQueue {
  /** Queues one scheduled scan for each enabled site whose time has come, never a second one per site; returns how many. */
  enqueueDue(): number;
  /** Takes the next waiting scan (manual ones first, then oldest) and marks it running; null when none waits. */
  claimNext(): ScanJob | null;
  /** Stores a finished scan; false when it is no longer running (site deleted, handed back). */
  complete(scanId: number, result: ScanResult): boolean;
  /** Closes a scan whose scan function threw or timed out as an `error` outcome. */
  fail(scanId: number, error: string): boolean;
  /** Graceful shutdown: running scans go back to the queue without counting the attempt; returns how many. */
  requeue(scanIds: readonly number[]): number;
  /** Start-up: scans a crash left running go back to the queue, or close as errors after too many attempts. */
  recoverInterrupted(): { requeued: number; abandoned: number };
  /** Scans waiting and running, for health and metrics. */
  depth(): { queued: number; running: number };
}

export interface SqliteScanQueueOptions {
  db: Db;
  now?: () => Date;
  /** Jitter source for the next scan time of a site. */
  random?: () => number;
}

/** The in-process queue: the scans table itself (services/scan-queue.ts), one writer at a time. */
export function createSqliteScanQueue(options: SqliteScanQueueOptions): ScanQueue {
  const { db } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  return {
    enqueueDue: () => enqueueDueSites({ db, now }),
    claimNext: () => claimNextScan({ db, now }),
    complete: (scanId, result) => completeScan({ db, now, random, input: { scanId, result } }),
    fail: (scanId, error) => failScan({ db, now, random, input: { scanId, error } }),
    requeue: (scanIds) => requeueScans({ db, input: { scanIds } }),
    recoverInterrupted: () => recoverInterruptedScans({ db, now, random }),
    depth: () => countActiveScans({ db }),
  };
}
