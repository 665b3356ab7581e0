import { eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db';
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

/** A finding set's counts, to select beside a scan (functions, so they name the tables of the process's dialect). */
export function severityCountColumns() {
  return {
    critical: findingSets.critical,
    high: findingSets.high,
    medium: findingSets.medium,
    low: findingSets.low,
    info: findingSets.info,
  };
}

export function summaryColumns() {
  return { scan: scans, ...severityCountColumns() };
}

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
export async function summarizeScans(db: DbOrTx, ids: readonly number[]): Promise<Map<number, ScanSummary>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select(summaryColumns())
    .from(scans)
    .leftJoin(findingSets, eq(findingSets.id, scans.findingSetId))
    .where(inArray(scans.id, [...ids]));
  return new Map(rows.map((row) => [row.scan.id, toScanSummary(row)]));
}
