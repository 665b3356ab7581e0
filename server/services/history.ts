import { and, asc, eq, gt, gte, lte, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db';
import { dailySummaries, findingSets, type ScanOutcome, scans, sites } from '../db/schema';
import { AppError } from '../errors';
import type { Grade } from '../scan/types';
import type { ServiceContext } from './context';
import { countsFrom, type SeverityCounts, severityCountColumns } from './scan-views';

/** One point of a site's posture over time: a kept scan, or a day of older scans folded by retention. */
export type HistoryPoint =
  | {
      kind: 'scan';
      scanId: number;
      at: string;
      outcome: ScanOutcome | null;
      grade: Grade | null;
      score: number | null;
      counts: SeverityCounts | null;
    }
  | {
      kind: 'day';
      day: string;
      /** When the day's last scan ran; its grade, score and counts are the ones shown. */
      at: string;
      outcome: ScanOutcome;
      grade: Grade | null;
      score: number | null;
      counts: SeverityCounts | null;
      scans: number;
      minScore: number | null;
      maxScore: number | null;
      worstGrade: Grade | null;
    };

export interface HistoryPage {
  siteId: number;
  items: HistoryPoint[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface HistoryQuery {
  siteId: number;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Where the previous page stopped: after a folded day, or after a scan (time, then id for ties). */
const cursorSchema = z.union([
  z.object({ k: z.literal('d'), day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
  z.object({ k: z.literal('s'), t: z.number().int(), id: z.number().int() }),
]);
type Cursor = z.infer<typeof cursorSchema>;

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw new AppError(
      'invalid_request',
      'Invalid cursor: pass the nextCursor of the previous page unchanged',
    );
  }
}

async function folded(
  db: DbOrTx,
  query: HistoryQuery,
  after: string | undefined,
  limit: number,
): Promise<HistoryPoint[]> {
  const conditions: (SQL | undefined)[] = [eq(dailySummaries.siteId, query.siteId)];
  if (after) conditions.push(gt(dailySummaries.day, after));
  if (query.from) conditions.push(gte(dailySummaries.lastScanAt, query.from));
  if (query.to) conditions.push(lte(dailySummaries.lastScanAt, query.to));
  const rows = await db
    .select({ summary: dailySummaries, ...severityCountColumns() })
    .from(dailySummaries)
    .leftJoin(findingSets, eq(findingSets.id, dailySummaries.lastFindingSetId))
    .where(and(...conditions))
    .orderBy(asc(dailySummaries.day))
    .limit(limit);
  return rows.map(
    ({ summary, ...counts }): HistoryPoint => ({
      kind: 'day',
      day: summary.day,
      at: summary.lastScanAt.toISOString(),
      outcome: summary.lastOutcome,
      grade: summary.lastGrade,
      score: summary.lastScore,
      counts: countsFrom(counts),
      scans: summary.scans,
      minScore: summary.minScore,
      maxScore: summary.maxScore,
      worstGrade: summary.worstGrade,
    }),
  );
}

function kept(db: DbOrTx, query: HistoryQuery, after: { t: number; id: number } | undefined, limit: number) {
  const conditions: (SQL | undefined)[] = [eq(scans.siteId, query.siteId), eq(scans.state, 'done')];
  if (after) {
    const at = new Date(after.t);
    conditions.push(gte(scans.startedAt, at), or(gt(scans.startedAt, at), gt(scans.id, after.id)));
  }
  if (query.from) conditions.push(gte(scans.startedAt, query.from));
  if (query.to) conditions.push(lte(scans.startedAt, query.to));
  return db
    .select({
      id: scans.id,
      startedAt: scans.startedAt,
      outcome: scans.outcome,
      grade: scans.grade,
      score: scans.score,
      ...severityCountColumns(),
    })
    .from(scans)
    .leftJoin(findingSets, eq(findingSets.id, scans.findingSetId))
    .where(and(...conditions))
    .orderBy(asc(scans.startedAt), asc(scans.id))
    .limit(limit);
}

/** A site's grades and scores over time, oldest first: folded days, then kept scans, in cursor pages. */
export async function getSiteHistory({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: HistoryQuery }): Promise<HistoryPage> {
  const cursor = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
  // The three reads are independent (the kept scans are read for a whole page and cut to the room the
  // folded days leave), so on PostgreSQL they run at once.
  const [[site], days, keptRows] = await Promise.all([
    db.select({ id: sites.id }).from(sites).where(eq(sites.id, input.siteId)).limit(1),
    cursor === undefined || cursor.k === 'd' ? folded(db, input, cursor?.day, input.limit + 1) : [],
    kept(db, input, cursor?.k === 's' ? cursor : undefined, input.limit + 1),
  ]);
  if (!site) throw new AppError('not_found', `Site ${input.siteId} not found`);

  if (days.length > input.limit) {
    const page = days.slice(0, input.limit);
    const last = page.at(-1) as Extract<HistoryPoint, { kind: 'day' }>;
    return { siteId: site.id, items: page, nextCursor: encodeCursor({ k: 'd', day: last.day }) };
  }
  const items: HistoryPoint[] = [...days];
  const room = input.limit - items.length;
  const rows = keptRows.slice(0, room + 1);
  for (const row of rows.slice(0, room)) {
    items.push({
      kind: 'scan',
      scanId: row.id,
      at: (row.startedAt ?? new Date(0)).toISOString(),
      outcome: row.outcome,
      grade: row.grade,
      score: row.score,
      counts: countsFrom(row),
    });
  }
  const lastKept = rows.length > room ? rows[room - 1] : undefined;
  // A page that ended exactly on the last folded day continues with the kept scans.
  const endedOnDays = room === 0 && rows.length > 0;
  let nextCursor: string | null = null;
  if (lastKept) nextCursor = encodeCursor({ k: 's', t: lastKept.startedAt?.getTime() ?? 0, id: lastKept.id });
  else if (endedOnDays) {
    const lastDay = items.at(-1) as Extract<HistoryPoint, { kind: 'day' }>;
    nextCursor = encodeCursor({ k: 'd', day: lastDay.day });
  }
  return { siteId: site.id, items, nextCursor };
}
