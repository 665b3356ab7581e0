import { and, asc, desc, eq, lt, lte, or } from 'drizzle-orm';
import type { DbOrTx } from '../db';
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

type ScanRow = NonNullable<Awaited<ReturnType<typeof selectScan>>>;

async function selectScan(db: DbOrTx, id: number) {
  const [row] = await db
    .select({ ...summaryColumns(), host: sites.host })
    .from(scans)
    .innerJoin(sites, eq(sites.id, scans.siteId))
    .leftJoin(findingSets, eq(findingSets.id, scans.findingSetId))
    .where(eq(scans.id, id))
    .limit(1);
  return row;
}

async function requireScan(db: DbOrTx, id: number): Promise<ScanRow> {
  const row = await selectScan(db, id);
  if (!row)
    throw new AppError('not_found', `Scan ${id} not found (it may have been folded into a daily summary)`);
  return row;
}

async function queuePosition(db: DbOrTx, scanId: number): Promise<number> {
  const queued = await db
    .select({ id: scans.id })
    .from(scans)
    .where(and(isActiveScan(scans.state), eq(scans.state, 'queued')))
    .orderBy(desc(eq(scans.trigger, 'manual')), asc(scans.queuedAt), asc(scans.id));
  return Math.max(
    0,
    queued.findIndex((scan) => scan.id === scanId),
  );
}

export async function getScan({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: { id: number } }): Promise<ScanDetail> {
  const row = await requireScan(db, input.id);
  const { scan } = row;
  const context = scan.contextSetId === null ? null : await loadContext(db, scan.contextSetId);
  const notAfter = context?.tls?.notAfter ?? null;
  const scannedAt = scan.startedAt ?? scan.queuedAt;
  return {
    ...toScanSummary(row),
    host: row.host,
    queuePosition: scan.state === 'queued' ? await queuePosition(db, scan.id) : null,
    target: context?.target ?? null,
    addresses: context?.addresses ?? [],
    django: context?.django ?? null,
    tls: context?.tls
      ? {
          ...context.tls,
          daysLeft: notAfter ? Math.floor((Date.parse(notAfter) - scannedAt.getTime()) / DAY_MS) : null,
        }
      : null,
    findings: scan.findingSetId === null ? null : await loadFindings(db, scan.findingSetId),
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

async function requireDone(db: DbOrTx, id: number): Promise<ScanRow> {
  const row = await requireScan(db, id);
  if (row.scan.state !== 'done')
    throw new AppError('conflict', `Scan ${id} is ${row.scan.state}; only finished scans can be compared`, {
      scanId: id,
      state: row.scan.state,
    });
  return row;
}

async function previousDoneScanId(db: DbOrTx, row: ScanRow): Promise<number> {
  const startedAt = row.scan.startedAt;
  const [previous] = startedAt
    ? await db
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
    : [];
  if (!previous) throw new AppError('not_found', `Scan ${row.scan.id} is the first kept scan of its site`);
  return previous.id;
}

function diffSide(row: ScanRow): DiffSide {
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
export async function diffScans({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: { from: number | 'previous'; to: number } }): Promise<ScanDiff> {
  const to = await requireDone(db, input.to);
  const from = await requireDone(
    db,
    input.from === 'previous' ? await previousDoneScanId(db, to) : input.from,
  );
  const findings = diffFindings(
    from.scan.findingSetId === null ? [] : await loadFindings(db, from.scan.findingSetId),
    to.scan.findingSetId === null ? [] : await loadFindings(db, to.scan.findingSetId),
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
