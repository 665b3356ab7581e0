import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../db';
import { findingSets, type ScanOutcome, type ScanState, type ScanTrigger, scans } from '../db/schema';
import type { Grade, Severity } from '../scan/types';

export type SeverityCounts = Record<Severity, number>;

/** A scan's bookkeeping and result headline, as the API shows it. */
export interface ScanSummary {
  id: number;
  siteId: number;
  state: ScanState;
  trigger: ScanTrigger;
  attempts: number;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  outcome: ScanOutcome | null;
  grade: Grade | null;
  score: number | null;
  durationMs: number | null;
  error: string | null;
  /** Findings by severity; null until the scan is done. */
  counts: SeverityCounts | null;
}

export const summaryColumns = {
  scan: scans,
  critical: findingSets.critical,
  high: findingSets.high,
  medium: findingSets.medium,
  low: findingSets.low,
  info: findingSets.info,
};

type SummaryRow = {
  scan: typeof scans.$inferSelect;
  critical: number | null;
  high: number | null;
  medium: number | null;
  low: number | null;
  info: number | null;
};

export function countsFrom(row: Omit<SummaryRow, 'scan'>): SeverityCounts | null {
  if (
    row.critical === null ||
    row.high === null ||
    row.medium === null ||
    row.low === null ||
    row.info === null
  )
    return null;
  return { critical: row.critical, high: row.high, medium: row.medium, low: row.low, info: row.info };
}

export function toScanSummary(row: SummaryRow): ScanSummary {
  const { scan } = row;
  return {
    id: scan.id,
    siteId: scan.siteId,
    state: scan.state,
    trigger: scan.trigger,
    attempts: scan.attempts,
    queuedAt: scan.queuedAt.toISOString(),
    startedAt: scan.startedAt?.toISOString() ?? null,
    finishedAt: scan.finishedAt?.toISOString() ?? null,
    outcome: scan.outcome,
    grade: scan.grade,
    score: scan.score,
    durationMs: scan.durationMs,
    error: scan.error,
    counts: countsFrom(row),
  };
}

/** Summaries of the given scans by id (missing ids are simply absent). */
export function summarizeScans(db: Db, ids: readonly number[]): Map<number, ScanSummary> {
  if (ids.length === 0) return new Map();
  const rows = db
    .select(summaryColumns)
    .from(scans)
    .leftJoin(findingSets, eq(findingSets.id, scans.findingSetId))
    .where(inArray(scans.id, [...ids]))
    .all();
  return new Map(rows.map((row) => [row.scan.id, toScanSummary(row)]));
}
