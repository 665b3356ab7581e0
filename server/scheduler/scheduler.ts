import cron, { type ScheduledTask } from 'node-cron';
import { type Db, storageFault } from '../db';
import type { ScanResult } from '../scan/types';
import type { Settings } from '../services/context';
import { foldOldScans } from '../services/retention';
import { getSettings, readMarker, writeMarker } from '../services/settings';
import { createSqliteScanQueue, type ScanJob, type ScanQueue } from './queue';

/** Runs one scan. Tests plug in a deterministic function; production uses scanTarget (scan-runner.ts). */
export type RunScan = (job: ScanJob, signal: AbortSignal) => Promise<ScanResult>;

export interface SchedulerOptions {
  db: Db;
  runScan: RunScan;
  defaults: Settings;
  now?: () => Date;
  random?: () => number;
  /** node-cron expression with seconds; null runs no timer (tests call tick() themselves). */
  tickCron?: string | null;
  /** A scan still running after this is aborted and recorded as an error (the engine bounds itself at 30 s). */
  scanTimeoutMs?: number;
  log?: (line: string) => void;
  /** Called after each scan's end is stored (alerts evaluate it here); a throw is logged, never fatal. */
  onScanRecorded?: (scanId: number) => void;
  /** Where scans wait; default the scans table of `db` (queue.ts). */
  queue?: ScanQueue;
}

export interface SchedulerStatus {
  /** Started, not stopping, and ticking on time. */
  alive: boolean;
  startedAt: string | null;
  lastTickAt: string | null;
  /** Scans this process is running now. */
  running: number;
  concurrency: number;
}

export interface TickReport {
  enqueued: number;
  started: number;
  foldedScans: number;
}

export interface Scheduler {
  /** Re-queues scans a crash left running, starts the timer and runs a first tick. */
  start(): TickReport;
  /** Queues due sites, starts scans up to the concurrency limit, runs retention once a day. */
  tick(): TickReport;
  /** Asks for a tick soon (coalesced) once started: after a manual scan request or new sites. */
  wake(): void;
  /** Resolves when nothing is running or waiting to run (for tests and benchmarks). */
  drain(): Promise<void>;
  /** Stops ticking, lets running scans finish for up to graceMs, re-queues the rest; safe to call twice. */
  stop(options?: { graceMs?: number }): Promise<{ finished: number; requeued: number }>;
  status(): SchedulerStatus;
}

export const DEFAULT_TICK_CRON = '*/30 * * * * *';
const RETENTION_EVERY_MS = 24 * 60 * 60_000;
const RETENTION_MARKER = 'retention';

interface InFlight {
  job: ScanJob;
  controller: AbortController;
  done: Promise<void>;
  /** Set when shutdown gave up on it: its late result must not be written. */
  abandoned: boolean;
}

function errorMessage(error: unknown): string {
  // A storage fault in words, not the SQL (and blob parameters) of the query that met it.
  const fault = storageFault(error);
  if (fault) return fault.message;
  return error instanceof Error ? error.message : String(error);
}

/** Time between two cron runs, used to tell a live scheduler from a stuck one. */
function cronPeriodMs(task: ScheduledTask): number {
  const [first, second] = task.getNextRuns(2);
  return first && second ? second.getTime() - first.getTime() : 60_000;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { db, runScan, defaults } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => {});
  const scanTimeoutMs = options.scanTimeoutMs ?? 60_000;
  const tickCron = options.tickCron === undefined ? DEFAULT_TICK_CRON : options.tickCron;
  const queue = options.queue ?? createSqliteScanQueue({ db, now, random });

  const inFlight = new Map<number, InFlight>();
  let task: ScheduledTask | null = null;
  let startedAt: Date | null = null;
  let lastTickAt: Date | null = null;
  let stopping = false;
  let stopped = false;
  let wakeScheduled = false;
  let stopResult: Promise<{ finished: number; requeued: number }> | null = null;
  let concurrency = defaults.scanConcurrency;
  /** Scans that ran but whose end could not be stored (database locked, disk full): they go back to the queue. */
  const unrecorded = new Set<number>();

  function settings(): Settings {
    return getSettings({ db, defaults });
  }

  /** Writes a scan's end unless shutdown has given up on it; a failing write is logged, never thrown. */
  function record(flight: InFlight, write: () => boolean): void {
    if (flight.abandoned || stopped) return;
    let recorded = false;
    try {
      recorded = write();
    } catch (error) {
      unrecorded.add(flight.job.scanId);
      log(
        `vigil: could not record scan ${flight.job.scanId}: ${errorMessage(error)}; it runs again once the database takes writes`,
      );
    }
    const { onScanRecorded } = options;
    if (recorded && onScanRecorded)
      guarded(`after-scan hook for scan ${flight.job.scanId}`, () => onScanRecorded(flight.job.scanId));
  }

  function launch(job: ScanJob, allowPrivateEverywhere: boolean): void {
    const controller = new AbortController();
    const flight: InFlight = { job, controller, abandoned: false, done: Promise.resolve() };
    const timer = setTimeout(() => controller.abort(new Error('timed out')), scanTimeoutMs);
    const timedOut = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () =>
        reject(new Error(`Scan did not finish within ${scanTimeoutMs / 1000} s`)),
      );
    });
    const scanJob: ScanJob = { ...job, allowPrivate: job.allowPrivate || allowPrivateEverywhere };
    // Through a promise so a scan function that throws synchronously is recorded like any other failure.
    const scan = Promise.resolve().then(() => runScan(scanJob, controller.signal));
    flight.done = Promise.race([scan, timedOut])
      .then(
        (result) => record(flight, () => queue.complete(job.scanId, result)),
        (error: unknown) => record(flight, () => queue.fail(job.scanId, errorMessage(error))),
      )
      .finally(() => {
        clearTimeout(timer);
        inFlight.delete(job.scanId);
        if (!stopping && !stopped) guarded('starting queued scans', pump);
      });
    inFlight.set(job.scanId, flight);
  }

  /** Starts queued scans while there is room; returns how many started. */
  function pump(): number {
    if (stopping) return 0;
    const { scanConcurrency, allowPrivate } = settings();
    concurrency = scanConcurrency;
    let started = 0;
    while (inFlight.size < scanConcurrency) {
      const job = queue.claimNext();
      if (!job) break;
      launch(job, allowPrivate);
      started += 1;
    }
    return started;
  }

  function maybeFoldOldScans(retentionDays: number): number {
    const at = now();
    const last = readMarker({ db }, RETENTION_MARKER);
    if (last && at.getTime() - last.getTime() < RETENTION_EVERY_MS) return 0;
    const { foldedScans, removedSets } = foldOldScans({ db, now, input: { retentionDays } });
    writeMarker({ db }, RETENTION_MARKER, at);
    if (foldedScans > 0)
      log(`vigil: retention folded ${foldedScans} scans, removed ${removedSets} unused sets`);
    return foldedScans;
  }

  /** Hands scans whose end was not stored back to the queue, so none stays "running" for ever; throws while the fault lasts. */
  function requeueUnrecorded(): void {
    if (unrecorded.size === 0) return;
    const scanIds = [...unrecorded];
    const requeued = queue.requeue(scanIds);
    for (const scanId of scanIds) unrecorded.delete(scanId);
    log(`vigil: re-queued ${requeued} scans whose results could not be stored`);
  }

  function tick(): TickReport {
    if (stopping) return { enqueued: 0, started: 0, foldedScans: 0 };
    lastTickAt = now();
    requeueUnrecorded();
    const enqueued = queue.enqueueDue();
    const started = pump();
    const foldedScans = maybeFoldOldScans(settings().retentionDays);
    return { enqueued, started, foldedScans };
  }

  /** Timers and promise callbacks must never throw into node-cron or an unhandled rejection. */
  function guarded(what: string, action: () => unknown): void {
    try {
      action();
    } catch (error) {
      log(`vigil: ${what} failed: ${errorMessage(error)}`);
    }
  }

  function safeTick(): void {
    guarded('scheduler tick', tick);
  }

  return {
    start() {
      if (startedAt) return { enqueued: 0, started: 0, foldedScans: 0 };
      startedAt = now();
      const recovered = queue.recoverInterrupted();
      if (recovered.requeued + recovered.abandoned > 0)
        log(
          `vigil: re-queued ${recovered.requeued} interrupted scans, closed ${recovered.abandoned} as failed`,
        );
      // A missed tick (event loop busy) is harmless: the next one picks up every due site; status() shows staleness.
      if (tickCron)
        task = cron.schedule(tickCron, safeTick, {
          name: 'vigil-scheduler',
          noOverlap: true,
          suppressMissedWarning: true,
        });
      return tick();
    },

    tick,

    wake() {
      if (!startedAt || wakeScheduled || stopping) return;
      wakeScheduled = true;
      setImmediate(() => {
        wakeScheduled = false;
        safeTick();
      });
    },

    async drain() {
      for (;;) {
        if (inFlight.size === 0 && pump() === 0) return;
        await Promise.allSettled([...inFlight.values()].map((flight) => flight.done));
      }
    },

    stop({ graceMs = 10_000 } = {}) {
      stopResult ??= (async () => {
        stopping = true;
        await task?.stop();
        await task?.destroy();
        const running = [...inFlight.values()];
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled(running.map((flight) => flight.done)),
          new Promise((resolve) => {
            timer = setTimeout(resolve, graceMs);
          }),
        ]);
        clearTimeout(timer);
        const left = [...inFlight.values()];
        for (const flight of left) {
          flight.abandoned = true;
          flight.controller.abort(new Error('server shutting down'));
        }
        let requeued = 0;
        guarded('re-queueing unfinished scans', () => {
          requeued = queue.requeue([...left.map((flight) => flight.job.scanId), ...unrecorded]);
        });
        stopped = true;
        return { finished: running.length - left.length, requeued };
      })();
      return stopResult;
    },

    status() {
      const at = now();
      const tickedAt = lastTickAt ?? startedAt;
      const staleAfterMs = task ? 3 * cronPeriodMs(task) : Number.POSITIVE_INFINITY;
      return {
        alive:
          startedAt !== null &&
          !stopping &&
          tickedAt !== null &&
          at.getTime() - tickedAt.getTime() <= staleAfterMs,
        startedAt: startedAt?.toISOString() ?? null,
        lastTickAt: lastTickAt?.toISOString() ?? null,
        running: inFlight.size,
        concurrency,
      };
    },
  };
}
