import { and, asc, eq, inArray, isNotNull, lt, ne, notInArray, type SQL } from 'drizzle-orm';
import type { Db } from '../db';
import { contextSets, dailySummaries, findingSets, type ScanOutcome, scans, sites } from '../db/schema';
import { gradeRank } from '../scan/grade';
import type { Grade } from '../scan/types';
import type { ServiceContext } from './context';

const DAY_MS = 86_400_000;
const DELETE_CHUNK = 500;

type Summary = typeof dailySummaries.$inferInsert;

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

function foldSite(db: Db, siteId: number, lastScanId: number | null, cutoff: Date): number {
  return db.transaction((tx) => {
    const conditions: SQL[] = [
      eq(scans.siteId, siteId),
      lt(scans.startedAt, cutoff),
      eq(scans.state, 'done'),
    ];
    // The site's latest scan stays even when it is old (a disabled site), so the overview still shows it.
    if (lastScanId !== null) conditions.push(ne(scans.id, lastScanId));
    const old = tx
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
      .orderBy(asc(scans.startedAt))
      .all();
    if (old.length === 0) return 0;
    const days = new Map<string, Summary | undefined>();
    for (const scan of old) {
      if (!scan.startedAt || !scan.outcome) continue;
      const day = utcDay(scan.startedAt);
      if (!days.has(day)) {
        days.set(
          day,
          tx
            .select()
            .from(dailySummaries)
            .where(and(eq(dailySummaries.siteId, siteId), eq(dailySummaries.day, day)))
            .get(),
        );
      }
      days.set(
        day,
        foldScan(siteId, day, days.get(day), { ...scan, startedAt: scan.startedAt, outcome: scan.outcome }),
      );
    }
    for (const summary of days.values()) {
      if (!summary) continue;
      tx.insert(dailySummaries)
        .values(summary)
        .onConflictDoUpdate({ target: [dailySummaries.siteId, dailySummaries.day], set: summary })
        .run();
    }
    const ids = old.map((scan) => scan.id);
    for (let index = 0; index < ids.length; index += DELETE_CHUNK) {
      tx.delete(scans)
        .where(inArray(scans.id, ids.slice(index, index + DELETE_CHUNK)))
        .run();
    }
    return ids.length;
  });
}

/** Deletes finding and context sets no scan or summary refers to any more. */
function collectUnusedSets(db: Db): number {
  const findingSetsInUse = [
    db.select({ id: scans.findingSetId }).from(scans).where(isNotNull(scans.findingSetId)),
    db
      .select({ id: dailySummaries.lastFindingSetId })
      .from(dailySummaries)
      .where(isNotNull(dailySummaries.lastFindingSetId)),
  ];
  const removedFindings = db
    .delete(findingSets)
    .where(and(...findingSetsInUse.map((inUse) => notInArray(findingSets.id, inUse))))
    .run().changes;
  const removedContexts = db
    .delete(contextSets)
    .where(
      notInArray(
        contextSets.id,
        db.select({ id: scans.contextSetId }).from(scans).where(isNotNull(scans.contextSetId)),
      ),
    )
    .run().changes;
  return removedFindings + removedContexts;
}

/**
 * Retention: scans that started before midnight UTC `retentionDays` ago are folded into one summary per
 * site per day, then deleted, one transaction per site; sets nobody refers to any more are removed.
 */
export function foldOldScans({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: { retentionDays: number } }): {
  foldedScans: number;
  removedSets: number;
} {
  const cutoff = retentionCutoff(now(), input.retentionDays);
  let foldedScans = 0;
  for (const site of db.select({ id: sites.id, lastScanId: sites.lastScanId }).from(sites).all()) {
    foldedScans += foldSite(db, site.id, site.lastScanId, cutoff);
  }
  return { foldedScans, removedSets: foldedScans > 0 ? collectUnusedSets(db) : 0 };
}
