import cron, { type ScheduledTask } from 'node-cron';
import { type Db, storageFault } from '../db';
import type { ScanResult } from '../scan/types';
import type { Settings } from '../services/context';
import { foldOldScans } from '../services/retention';
import { getSettings, readMarker, writeMarker } from '../services/settings';
import { type ClaimedScan, createSqliteScanQueue, type ScanJob, type ScanQueue } from './queue';

/** Runs one scan. Tests plug in a deterministic function; production uses scanTarget (scan-runner.ts). */
export type RunScan = (job: ScanJob, signal: AbortSignal) => Promise<ScanResult>;

/**
 * What a process does (`vigil serve --role`): `schedule` queues due sites, hands queued scans to workers
 * and runs retention; `work` runs scans. SQLite serves both in one process; on PostgreSQL any number of
 * processes can take either part.
 */
export interface SchedulerRoles {
  schedule: boolean;
  work: boolean;
}

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
  onScanRecorded?: (scanId: number) => unknown;
  /** Where scans wait; default the scans table of `db` (queue.ts). */
  queue?: ScanQueue;
  /** Default: both. */
  roles?: SchedulerRoles;
  /**
   * How often a worker looks for scans others queued (a shared pg-boss queue); null for a queue only this
   * process fills (SQLite), where a tick or wake() starts them.
   */
  pollMs?: number | null;
  /** Scans this process runs at once; default the scanConcurrency setting. */
  concurrency?: number;
}

export interface SchedulerStatus {
  /** Started, not stopping, and ticking on time. */
  alive: boolean;
  startedAt: string | null;
  lastTickAt: string | null;
  /** Scans this process is running now. */
  running: number;
  concurrency: number;
  roles: SchedulerRoles;
  backend: ScanQueue['backend'];
}

export interface TickReport {
  enqueued: number;
  started: number;
  foldedScans: number;
}

export interface Scheduler {
  /** Re-queues scans a crash left running (SQLite), starts the timers and runs a first tick. */
  start(): Promise<TickReport>;
  /** Queues due sites, starts scans up to the concurrency limit, runs retention once a day. */
  tick(): Promise<TickReport>;
  /** Asks for a tick soon (coalesced) once started: after a manual scan request or new sites. */
  wake(): void;
  /** Resolves when nothing is running or waiting to run here (for tests and benchmarks). */
  drain(): Promise<void>;
  /** Stops ticking, lets running scans finish for up to graceMs, hands the rest back; safe to call twice. */
  stop(options?: { graceMs?: number }): Promise<{ finished: number; requeued: number }>;
  status(): SchedulerStatus;
  readonly queue: ScanQueue;
}

export const DEFAULT_TICK_CRON = '*/30 * * * * *';
const RETENTION_EVERY_MS = 24 * 60 * 60_000;
const RETENTION_MARKER = 'retention';
const NO_TICK: TickReport = { enqueued: 0, started: 0, foldedScans: 0 };

interface InFlight {
  scan: ClaimedScan;
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
  const roles = options.roles ?? { schedule: true, work: true };

  const inFlight = new Map<number, InFlight>();
  let task: ScheduledTask | null = null;
  let poller: NodeJS.Timeout | null = null;
  let startedAt: Date | null = null;
  let lastTickAt: Date | null = null;
  let stopping = false;
  let stopped = false;
  let wakeScheduled = false;
  let stopResult: Promise<{ finished: number; requeued: number }> | null = null;
  let concurrency = options.concurrency ?? defaults.scanConcurrency;
  /** Scans that ran but whose end could not be stored (database locked, disk full): the queue runs them again. */
  const unrecorded = new Map<number, { scan: ClaimedScan; error: string }>();
  /** One pump at a time; a request during one runs another after it. */
  let pumping: Promise<number> | null = null;
  let pumpAgain = false;

  async function settings(): Promise<Settings> {
    return getSettings({ db, defaults });
  }

  /** Writes a scan's end unless shutdown has given up on it; a failing write is logged, never thrown. */
  async function record(flight: InFlight, write: () => Promise<boolean>): Promise<void> {
    if (flight.abandoned || stopped) return;
    let recorded = false;
    try {
      recorded = await write();
    } catch (error) {
      const message = errorMessage(error);
      unrecorded.set(flight.scan.scanId, { scan: flight.scan, error: message });
      log(
        `vigil: could not record scan ${flight.scan.scanId}: ${message}; it runs again once the database takes writes`,
      );
    }
    const { onScanRecorded } = options;
    if (recorded && onScanRecorded)
      await guarded(`after-scan hook for scan ${flight.scan.scanId}`, () =>
        onScanRecorded(flight.scan.scanId),
      );
  }

  function launch(scan: ClaimedScan, allowPrivateEverywhere: boolean): void {
    const controller = new AbortController();
    const flight: InFlight = { scan, controller, abandoned: false, done: Promise.resolve() };
    const timer = setTimeout(() => controller.abort(new Error('timed out')), scanTimeoutMs);
    const timedOut = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () =>
        reject(new Error(`Scan did not finish within ${scanTimeoutMs / 1000} s`)),
      );
    });
    const job: ScanJob = { ...scan, allowPrivate: scan.allowPrivate || allowPrivateEverywhere };
    // Through a promise so a scan function that throws synchronously is recorded like any other failure.
    const run = Promise.resolve().then(() => runScan(job, controller.signal));
    flight.done = Promise.race([run, timedOut])
      .then(
        (result) => record(flight, () => queue.complete(scan, result)),
        (error: unknown) => record(flight, () => queue.fail(scan, errorMessage(error))),
      )
      .finally(() => {
        clearTimeout(timer);
        inFlight.delete(scan.scanId);
        if (!stopping && !stopped) void guarded('starting queued scans', pump);
      });
    inFlight.set(scan.scanId, flight);
  }

  /** Starts queued scans while there is room; returns how many started. */
  function pump(): Promise<number> {
    if (!roles.work || stopping) return Promise.resolve(0);
    if (pumping) {
      pumpAgain = true;
      return pumping;
    }
    pumping = (async () => {
      let started = 0;
      try {
        do {
          pumpAgain = false;
          const current = await settings();
          concurrency = options.concurrency ?? current.scanConcurrency;
          const room = concurrency - inFlight.size;
          if (room <= 0 || stopping) break;
          const claimed = await queue.claim(room);
          for (const scan of claimed) {
            // Stopping began while claiming: the scan goes straight back.
            if (stopping) await queue.handBack([scan]);
            else launch(scan, current.allowPrivate);
          }
          started += claimed.length;
          if (claimed.length === room) pumpAgain = true;
        } while (pumpAgain && !stopping);
      } finally {
        pumping = null;
      }
      return started;
    })();
    return pumping;
  }

  async function maybeFoldOldScans(retentionDays: number): Promise<number> {
    const at = now();
    const last = await readMarker({ db }, RETENTION_MARKER);
    if (last && at.getTime() - last.getTime() < RETENTION_EVERY_MS) return 0;
    const { foldedScans, removedSets } = await foldOldScans({ db, now, input: { retentionDays } });
    await writeMarker({ db }, RETENTION_MARKER, at);
    if (foldedScans > 0)
      log(`vigil: retention folded ${foldedScans} scans, removed ${removedSets} unused sets`);
    return foldedScans;
  }

  /** Hands scans whose end was not stored back to the queue, so none stays "running" for ever; throws while the fault lasts. */
  async function retryUnrecorded(): Promise<void> {
    if (unrecorded.size === 0) return;
    let handed = 0;
    for (const [scanId, { scan, error }] of [...unrecorded]) {
      await queue.retryLater(scan, error);
      unrecorded.delete(scanId);
      handed += 1;
    }
    log(`vigil: handed ${handed} scans whose results could not be stored back to the queue`);
  }

  async function tick(): Promise<TickReport> {
    if (stopping) return NO_TICK;
    lastTickAt = now();
    let enqueued = 0;
    let foldedScans = 0;
    if (roles.work) await retryUnrecorded();
    if (roles.schedule) {
      enqueued = await queue.enqueueDue();
      const settled = await queue.settleDeadLetters();
      if (settled > 0) log(`vigil: gave up on ${settled} scans no worker could finish (see GET /api/queue)`);
      foldedScans = await maybeFoldOldScans((await settings()).retentionDays);
    }
    const started = await pump();
    return { enqueued, started, foldedScans };
  }

  /** Timers and promise callbacks must never throw into node-cron or an unhandled rejection. */
  async function guarded(what: string, action: () => unknown): Promise<void> {
    try {
      await action();
    } catch (error) {
      log(`vigil: ${what} failed: ${errorMessage(error)}`);
    }
  }

  async function safeTick(): Promise<void> {
    await guarded('scheduler tick', tick);
  }

  return {
    queue,

    async start() {
      if (startedAt) return NO_TICK;
      startedAt = now();
      if (roles.work) {
        const recovered = await queue.recoverInterrupted();
        if (recovered.requeued + recovered.abandoned > 0)
          log(
            `vigil: re-queued ${recovered.requeued} interrupted scans, closed ${recovered.abandoned} as failed`,
          );
      }
      // A missed tick (event loop busy) is harmless: the next one picks up every due site; status() shows staleness.
      if (tickCron)
        task = cron.schedule(tickCron, safeTick, {
          name: 'vigil-scheduler',
          noOverlap: true,
          suppressMissedWarning: true,
        });
      if (roles.work && options.pollMs)
        poller = setInterval(() => void guarded('looking for queued scans', pump), options.pollMs);
      return tick();
    },

    tick,

    wake() {
      if (!startedAt || wakeScheduled || stopping) return;
      wakeScheduled = true;
      setImmediate(() => {
        wakeScheduled = false;
        // New sites and scan requests are queued (and handed to workers) at once, not at the next tick: a
        // scheduler ticks; a web node queues what is due itself; a worker looks for work.
        if (roles.schedule) void safeTick();
        else
          void guarded('queueing requested scans', async () => {
            if (!roles.work) await queue.enqueueDue();
            await pump();
          });
      });
    },

    async drain() {
      for (;;) {
        if (inFlight.size === 0 && (await pump()) === 0) return;
        await Promise.allSettled([...inFlight.values()].map((flight) => flight.done));
      }
    },

    stop({ graceMs = 10_000 } = {}) {
      stopResult ??= (async () => {
        stopping = true;
        if (poller) clearInterval(poller);
        await task?.stop();
        await task?.destroy();
        await pumping?.catch(() => 0);
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
        await guarded('handing unfinished scans back', async () => {
          requeued = await queue.handBack([
            ...left.map((flight) => flight.scan),
            ...[...unrecorded.values()].map((entry) => entry.scan),
          ]);
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
        roles,
        backend: queue.backend,
      };
    },
  };
}
