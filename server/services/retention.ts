import { and, asc, eq, gte, inArray, lt, lte, ne, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../db';
import { contextSets, dailySummaries, findingSets, type ScanOutcome, scans, sites } from '../db/schema';
import { excludedValue, notReferencedBy } from '../db/sql';
import { gradeRank } from '../scan/grade';
import type { Grade } from '../scan/types';
import type { ServiceContext } from './context';

const DAY_MS = 86_400_000;
const DELETE_CHUNK = 500;
/** Summaries per upsert: 12 columns each, well under either dialect's bound-parameter limit. */
const SUMMARY_CHUNK = 500;

type Summary = typeof dailySummaries.$inferInsert;

/** A day folded again replaces its stored summary (foldScan already merged the two). */
const proposedSummary = () => ({
  scans: excludedValue(dailySummaries.scans),
  minScore: excludedValue(dailySummaries.minScore),
  maxScore: excludedValue(dailySummaries.maxScore),
  lastScore: excludedValue(dailySummaries.lastScore),
  lastGrade: excludedValue(dailySummaries.lastGrade),
  worstGrade: excludedValue(dailySummaries.worstGrade),
  lastOutcome: excludedValue(dailySummaries.lastOutcome),
  lastScanAt: excludedValue(dailySummaries.lastScanAt),
  lastFindingSetId: excludedValue(dailySummaries.lastFindingSetId),
});

interface FoldableScan {
  id: number;
  startedAt: Date;
  outcome: ScanOutcome;
  grade: Grade | null;
  score: number | null;
  findingSetId: number | null;
}

function worse(a: Grade | null | undefined, b: Grade | null | undefined): Grade | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return gradeRank(a) >= gradeRank(b) ? a : b;
}

function minOf(a: number | null | undefined, b: number | null): number | null {
  if (a == null) return b;
  return b === null ? a : Math.min(a, b);
}

function maxOf(a: number | null | undefined, b: number | null): number | null {
  if (a == null) return b;
  return b === null ? a : Math.max(a, b);
}

/** Adds one scan (taken oldest first) to a day's summary; pure, so folding can resume onto an existing day. */
export function foldScan(
  siteId: number,
  day: string,
  summary: Summary | undefined,
  scan: FoldableScan,
): Summary {
  const isLater = !summary || scan.startedAt.getTime() >= summary.lastScanAt.getTime();
  return {
    siteId,
    day,
    scans: (summary?.scans ?? 0) + 1,
    minScore: minOf(summary?.minScore, scan.score),
    maxScore: maxOf(summary?.maxScore, scan.score),
    worstGrade: worse(summary?.worstGrade, scan.grade),
    lastScore: isLater ? scan.score : (summary?.lastScore ?? null),
    lastGrade: isLater ? scan.grade : (summary?.lastGrade ?? null),
    lastOutcome: isLater ? scan.outcome : summary!.lastOutcome,
    lastScanAt: isLater ? scan.startedAt : summary!.lastScanAt,
    lastFindingSetId: isLater ? scan.findingSetId : (summary?.lastFindingSetId ?? null),
  };
}

export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Midnight UTC `days` days before `now`: scans started before it are folded. */
export function retentionCutoff(now: Date, days: number): Date {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(start - days * DAY_MS);
}

async function foldSite(db: Db, siteId: number, lastScanId: number | null, cutoff: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const conditions: SQL[] = [
      eq(scans.siteId, siteId),
      lt(scans.startedAt, cutoff),
      eq(scans.state, 'done'),
    ];
    // The site's latest scan stays even when it is old (a disabled site), so the overview still shows it.
    if (lastScanId !== null) conditions.push(ne(scans.id, lastScanId));
    const old = await tx
      .select({
        id: scans.id,
        startedAt: scans.startedAt,
        outcome: scans.outcome,
        grade: scans.grade,
        score: scans.score,
        findingSetId: scans.findingSetId,
      })
      .from(scans)
      .where(and(...conditions))
      .orderBy(asc(scans.startedAt), asc(scans.id));
    if (old.length === 0) return 0;
    const stored = await summariesBetween(tx, siteId, old);
    const folded = new Map<string, Summary>();
    for (const scan of old) {
      if (!scan.startedAt || !scan.outcome) continue;
      const day = utcDay(scan.startedAt);
      const summary = folded.get(day) ?? stored.get(day);
      folded.set(
        day,
        foldScan(siteId, day, summary, { ...scan, startedAt: scan.startedAt, outcome: scan.outcome }),
      );
    }
    const summaries = [...folded.values()];
    for (let index = 0; index < summaries.length; index += SUMMARY_CHUNK) {
      await tx
        .insert(dailySummaries)
        .values(summaries.slice(index, index + SUMMARY_CHUNK))
        .onConflictDoUpdate({ target: [dailySummaries.siteId, dailySummaries.day], set: proposedSummary() });
    }
    const ids = old.map((scan) => scan.id);
    for (let index = 0; index < ids.length; index += DELETE_CHUNK) {
      await tx.delete(scans).where(inArray(scans.id, ids.slice(index, index + DELETE_CHUNK)));
    }
    return ids.length;
  });
}

/** The site's summaries already stored for the days the scans fall on, by day. */
async function summariesBetween(
  tx: Tx,
  siteId: number,
  scansOldestFirst: readonly { startedAt: Date | null }[],
): Promise<Map<string, Summary>> {
  const times = scansOldestFirst.flatMap((scan) => (scan.startedAt ? [scan.startedAt] : []));
  const first = times[0];
  const last = times.at(-1);
  if (!first || !last) return new Map();
  const rows = await tx
    .select()
    .from(dailySummaries)
    .where(
      and(
        eq(dailySummaries.siteId, siteId),
        gte(dailySummaries.day, utcDay(first)),
        lte(dailySummaries.day, utcDay(last)),
      ),
    );
  return new Map(rows.map((row) => [row.day, row]));
}

/** Deletes finding and context sets no scan or summary refers to any more. */
async function collectUnusedSets(db: Db): Promise<number> {
  const removedFindings = await db
    .delete(findingSets)
    .where(notReferencedBy(findingSets.id, [scans.findingSetId, dailySummaries.lastFindingSetId]))
    .returning({ id: findingSets.id });
  const removedContexts = await db
    .delete(contextSets)
    .where(notReferencedBy(contextSets.id, [scans.contextSetId]))
    .returning({ id: contextSets.id });
  return removedFindings.length + removedContexts.length;
}

/**
 * Retention: scans that started before midnight UTC `retentionDays` ago are folded into one summary per
 * site per day, then deleted, one transaction per site; sets nobody refers to any more are removed.
 */
export async function foldOldScans({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: { retentionDays: number } }): Promise<{
  foldedScans: number;
  removedSets: number;
}> {
  const cutoff = retentionCutoff(now(), input.retentionDays);
  let foldedScans = 0;
  for (const site of await db.select({ id: sites.id, lastScanId: sites.lastScanId }).from(sites)) {
    foldedScans += await foldSite(db, site.id, site.lastScanId, cutoff);
  }
  return { foldedScans, removedSets: foldedScans > 0 ? await collectUnusedSets(db) : 0 };
}
