import { readFileSync } from 'node:fs';
import { and, count, eq, gt, inArray, max, min } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db';
import {
  alertDeliveries,
  incidents,
  isActiveScan,
  SCAN_OUTCOMES,
  type ScanOutcome,
  scans,
  sites,
} from '../db/schema';
import { SEVERITIES } from '../scan/types';
import { createSqliteScanQueue, type ScanQueue } from '../scheduler/queue';
import type { SchedulerStatus } from '../scheduler/scheduler';
import type { MetricFamily } from './prometheus';

/** Upper bounds (seconds) of the scan duration histogram: loopback scans take tens of ms, a whole scan is capped at 30 s. */
export const SCAN_DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60] as const;

const packageVersion = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))).version;

interface ScanTally {
  byOutcome: Record<ScanOutcome, number>;
  /** Per bucket of SCAN_DURATION_BUCKETS, not cumulative. */
  bucketCounts: number[];
  overflow: number;
  durationSeconds: number;
}

/** Every scan at or below the returned id is finished (or deleted), as far as committed rows tell. */
async function settledUpTo(db: Db): Promise<number> {
  const [oldestActive] = await db
    .select({ id: min(scans.id) })
    .from(scans)
    .where(isActiveScan(scans.state));
  if (oldestActive?.id != null) return oldestActive.id - 1;
  const [newest] = await db.select({ id: max(scans.id) }).from(scans);
  return newest?.id ?? 0;
}

/**
 * Counts scans as they finish, from the scans table, so a scan recorded by any process on this database
 * is counted once. Scans below the oldest active one are all finished: the cursor moves up to there, and
 * finished scans above it are remembered by id until it passes them. Starts at zero with the process,
 * as Prometheus counters do.
 */
function createScanCounter(db: Db) {
  const tally: ScanTally = {
    byOutcome: { ok: 0, unreachable: 0, error: 0 },
    bucketCounts: SCAN_DURATION_BUCKETS.map(() => 0),
    overflow: 0,
    durationSeconds: 0,
  };
  const countedAboveCursor = new Set<number>();
  /** Null until the settled point is read: scans finished before then are not this process's to count. */
  let cursor: number | null = null;
  let lastSettled = 0;
  const start = (settled: number) => {
    cursor ??= settled;
    lastSettled = settled;
  };
  // Read at creation (server start); if the database cannot answer yet, the first scrape sets the start.
  const started = settledUpTo(db).then(start, () => {});

  function observe(outcome: ScanOutcome, durationMs: number | null): void {
    tally.byOutcome[outcome] += 1;
    const seconds = Math.max(0, durationMs ?? 0) / 1000;
    tally.durationSeconds += seconds;
    const bucket = SCAN_DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
    if (bucket === -1) tally.overflow += 1;
    else tally.bucketCounts[bucket] = (tally.bucketCounts[bucket] ?? 0) + 1;
  }

  return {
    async collect(): Promise<ScanTally> {
      await started;
      // The settled point is read before the finished scans, so every scan at or below it is among them.
      const settled = await settledUpTo(db);
      if (cursor === null) {
        start(settled);
        return tally;
      }
      const finished = await db
        .select({ id: scans.id, outcome: scans.outcome, durationMs: scans.durationMs })
        .from(scans)
        .where(and(gt(scans.id, cursor), eq(scans.state, 'done')));
      // Synchronous from here on: a scrape running alongside sees this one's counts, never counts twice.
      for (const scan of finished) {
        if (scan.id <= cursor || countedAboveCursor.has(scan.id) || !scan.outcome) continue;
        observe(scan.outcome, scan.durationMs);
        countedAboveCursor.add(scan.id);
      }
      // On PostgreSQL ids are not committed in order: a scan below the settled point may still be in an
      // open transaction. The cursor trails by one scrape, so such a scan has a whole interval to commit.
      cursor = Math.max(cursor, Math.min(settled, lastSettled));
      lastSettled = settled;
      for (const id of countedAboveCursor) if (id <= cursor) countedAboveCursor.delete(id);
      return tally;
    },
  };
}

export interface MetricsSources {
  db: Db;
  /** Where scans wait; default the scans table of `db`. */
  queue?: ScanQueue;
}

/** Everything /metrics shows, read fresh on each scrape except the scan counters, which accumulate. */
export function createMetrics(sources: MetricsSources) {
  const { db } = sources;
  const queue = sources.queue ?? createSqliteScanQueue({ db });
  const scanCounter = createScanCounter(db);

  return {
    async collect(scheduler: SchedulerStatus): Promise<MetricFamily[]> {
      const tally = await scanCounter.collect();
      const depth = await queue.depth();
      const siteRows = await db
        .select({ enabled: sites.enabled, n: count() })
        .from(sites)
        .groupBy(sites.enabled);
      const [backlog] = await db
        .select({ n: count() })
        .from(alertDeliveries)
        .where(inArray(alertDeliveries.status, ['pending', 'sending']));
      const [failedMails] = await db
        .select({ n: count() })
        .from(alertDeliveries)
        .where(eq(alertDeliveries.status, 'failed'));
      const openIncidents = await db
        .select({ severity: incidents.severity, n: count() })
        .from(incidents)
        .where(eq(incidents.status, 'open'))
        .groupBy(incidents.severity);
      const cpu = process.cpuUsage();

      return [
        {
          name: 'vigil_build_info',
          help: 'Vigil and Node.js versions of this server; always 1.',
          type: 'gauge',
          samples: [{ labels: { version: packageVersion, node: process.versions.node }, value: 1 }],
        },
        {
          name: 'vigil_scans_total',
          help: 'Scans finished since this server started, by outcome (ok, unreachable, error).',
          type: 'counter',
          samples: SCAN_OUTCOMES.map((outcome) => ({ labels: { outcome }, value: tally.byOutcome[outcome] })),
        },
        {
          name: 'vigil_scan_duration_seconds',
          help: 'How long finished scans took, from start to stored result.',
          type: 'histogram',
          buckets: SCAN_DURATION_BUCKETS,
          series: [{ counts: tally.bucketCounts, overflow: tally.overflow, sum: tally.durationSeconds }],
        },
        {
          name: 'vigil_scan_queue_depth',
          help: 'Scans waiting for a worker.',
          type: 'gauge',
          samples: [{ value: depth.queued }],
        },
        {
          name: 'vigil_scans_running',
          help: 'Scans running now.',
          type: 'gauge',
          samples: [{ value: depth.running }],
        },
        {
          name: 'vigil_scan_concurrency',
          help: 'Scans this server runs at once at most (admin setting or VIGIL_SCAN_CONCURRENCY).',
          type: 'gauge',
          samples: [{ value: scheduler.concurrency }],
        },
        {
          name: 'vigil_scheduler_up',
          help: '1 when the scheduler is ticking on time, 0 when it is stopped or stuck.',
          type: 'gauge',
          samples: [{ value: scheduler.alive ? 1 : 0 }],
        },
        {
          name: 'vigil_sites',
          help: 'Sites monitored, by whether scheduled scans are enabled.',
          type: 'gauge',
          samples: [true, false].map((enabled) => ({
            labels: { enabled: String(enabled) },
            value: siteRows.find((row) => row.enabled === enabled)?.n ?? 0,
          })),
        },
        {
          name: 'vigil_alert_outbox_backlog',
          help: 'Alert mail deliveries (one per recipient) waiting to be sent or being sent.',
          type: 'gauge',
          samples: [{ value: backlog?.n ?? 0 }],
        },
        {
          name: 'vigil_alert_outbox_failed',
          help: 'Alert mail deliveries given up after every retry.',
          type: 'gauge',
          samples: [{ value: failedMails?.n ?? 0 }],
        },
        {
          name: 'vigil_incidents_open',
          help: 'Open incidents by severity.',
          type: 'gauge',
          samples: SEVERITIES.map((severity) => ({
            labels: { severity },
            value: openIncidents.find((row) => row.severity === severity)?.n ?? 0,
          })),
        },
        {
          name: 'process_cpu_seconds_total',
          help: 'User and system CPU time spent by this process.',
          type: 'counter',
          samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
        },
        {
          name: 'process_resident_memory_bytes',
          help: 'Resident memory of this process.',
          type: 'gauge',
          samples: [{ value: process.memoryUsage.rss() }],
        },
        {
          name: 'process_start_time_seconds',
          help: 'When this process started, in seconds since the Unix epoch.',
          type: 'gauge',
          samples: [{ value: Math.round(Date.now() / 1000 - process.uptime()) }],
        },
      ];
    },
  };
}
