import { and, asc, desc, eq, lt, lte, or } from 'drizzle-orm';
import type { Db } from '../db';
import { findingSets, isActiveScan, scans, sites } from '../db/schema';
import { AppError } from '../errors';
import type { CheckResult, DjangoDetection, Finding, Grade } from '../scan/types';
import type { ServiceContext } from './context';
import { diffFindings, type FindingDiff, type GradeDirection, gradeDirection } from './finding-diff';
import { loadContext, loadFindings } from './scan-sets';
import { type ScanSummary, summaryColumns, toScanSummary } from './scan-views';

const DAY_MS = 86_400_000;

export interface ScanDetail extends ScanSummary {
  host: string;
  /** Scans ahead of this one while it is queued (0: next to run); null otherwise. */
  queuePosition: number | null;
  target: string | null;
  addresses: string[];
  django: DjangoDetection | null;
  tls: {
    protocols: string[];
    notAfter: string | null;
    issuer: string | null;
    daysLeft: number | null;
  } | null;
  /** Worst first; null until the scan is done (and for scans that could not run). */
  findings: Finding[] | null;
  checks: CheckResult[] | null;
}

type ScanRow = ReturnType<typeof selectScan>;

function selectScan(db: Db, id: number) {
  return db
    .select({ ...summaryColumns, host: sites.host })
    .from(scans)
    .innerJoin(sites, eq(sites.id, scans.siteId))
    .leftJoin(findingSets, eq(findingSets.id, scans.findingSetId))
    .where(eq(scans.id, id))
    .get();
}

function requireScan(db: Db, id: number): NonNullable<ScanRow> {
  const row = selectScan(db, id);
  if (!row)
    throw new AppError('not_found', `Scan ${id} not found (it may have been folded into a daily summary)`);
  return row;
}

function queuePosition(db: Db, scanId: number): number {
  const queued = db
    .select({ id: scans.id })
    .from(scans)
    .where(and(isActiveScan(scans.state), eq(scans.state, 'queued')))
    .orderBy(desc(eq(scans.trigger, 'manual')), asc(scans.queuedAt), asc(scans.id))
    .all();
  return Math.max(
    0,
    queued.findIndex((scan) => scan.id === scanId),
  );
}

export function getScan({ db, input }: Pick<ServiceContext, 'db'> & { input: { id: number } }): ScanDetail {
  const row = requireScan(db, input.id);
  const { scan } = row;
  const context = scan.contextSetId === null ? null : loadContext(db, scan.contextSetId);
  const notAfter = context?.tls?.notAfter ?? null;
  const scannedAt = scan.startedAt ?? scan.queuedAt;
  return {
    ...toScanSummary(row),
    host: row.host,
    queuePosition: scan.state === 'queued' ? queuePosition(db, scan.id) : null,
    target: context?.target ?? null,
    addresses: context?.addresses ?? [],
    django: context?.django ?? null,
    tls: context?.tls
      ? {
          ...context.tls,
          daysLeft: notAfter ? Math.floor((Date.parse(notAfter) - scannedAt.getTime()) / DAY_MS) : null,
        }
      : null,
    findings: scan.findingSetId === null ? null : loadFindings(db, scan.findingSetId),
    checks: context?.checks ?? null,
  };
}

export interface ScanDiff extends FindingDiff {
  from: DiffSide;
  to: DiffSide;
  grade: { from: Grade | null; to: Grade | null; direction: GradeDirection };
  score: { from: number | null; to: number | null; delta: number | null };
}

interface DiffSide {
  scanId: number;
  siteId: number;
  host: string;
  finishedAt: string | null;
  grade: Grade | null;
  score: number | null;
}

function requireDone(db: Db, id: number): NonNullable<ScanRow> {
  const row = requireScan(db, id);
  if (row.scan.state !== 'done')
    throw new AppError('conflict', `Scan ${id} is ${row.scan.state}; only finished scans can be compared`, {
      scanId: id,
      state: row.scan.state,
    });
  return row;
}

function previousDoneScanId(db: Db, row: NonNullable<ScanRow>): number {
  const startedAt = row.scan.startedAt;
  const previous = startedAt
    ? db
        .select({ id: scans.id })
        .from(scans)
        .where(
          and(
            eq(scans.siteId, row.scan.siteId),
            lte(scans.startedAt, startedAt),
            // Two scans started in the same millisecond are ordered by id.
            or(lt(scans.startedAt, startedAt), lt(scans.id, row.scan.id)),
            eq(scans.state, 'done'),
          ),
        )
        .orderBy(desc(scans.startedAt), desc(scans.id))
        .limit(1)
        .get()
    : undefined;
  if (!previous) throw new AppError('not_found', `Scan ${row.scan.id} is the first kept scan of its site`);
  return previous.id;
}

function diffSide(row: NonNullable<ScanRow>): DiffSide {
  return {
    scanId: row.scan.id,
    siteId: row.scan.siteId,
    host: row.host,
    finishedAt: row.scan.finishedAt?.toISOString() ?? null,
    grade: row.scan.grade,
    score: row.scan.score,
  };
}

/** What changed from one scan to another; `from: 'previous'` is the site's scan before `to`. */
export function diffScans({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: { from: number | 'previous'; to: number } }): ScanDiff {
  const to = requireDone(db, input.to);
  const from = requireDone(db, input.from === 'previous' ? previousDoneScanId(db, to) : input.from);
  const findings = diffFindings(
    from.scan.findingSetId === null ? [] : loadFindings(db, from.scan.findingSetId),
    to.scan.findingSetId === null ? [] : loadFindings(db, to.scan.findingSetId),
  );
  return {
    from: diffSide(from),
    to: diffSide(to),
    grade: {
      from: from.scan.grade,
      to: to.scan.grade,
      direction: gradeDirection(from.scan.grade, to.scan.grade),
    },
    score: {
      from: from.scan.score,
      to: to.scan.score,
      delta: from.scan.score === null || to.scan.score === null ? null : to.scan.score - from.scan.score,
    },
    ...findings,
  };
}
