import { and, asc, count, desc, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import { z } from 'zod';
import type { Db, DbOrTx } from '../db';
import { findingSets, isActiveScan, type ScanOutcome, type ScanState, scans, sites } from '../db/schema';
import { containsText, gradeRank, orderNullsSmallest, scoreAtOrBefore } from '../db/sql';
import { GRADES } from '../scan/grade';
import type { Grade } from '../scan/types';
import type { ServiceContext } from './context';
import { countActiveScans } from './scan-queue';
import { countsFrom, type SeverityCounts, severityCountColumns } from './scan-views';
import { sitesWithTag, tagSchema, tagsBySite } from './sites';

export const TREND_DAYS = 7;
const DAY_MS = 86_400_000;

const gradeFilterSchema = z
  .string()
  .max(200)
  .transform((text, context) => {
    const wanted: (Grade | 'none')[] = [];
    for (const raw of text.split(',')) {
      // A `+` in a query string decodes to a space: `grade=A+` arrives as "A ".
      const value = raw.replace(/^([A-D]) $/, '$1+').trim();
      if (value === 'none' || (GRADES as readonly string[]).includes(value))
        wanted.push(value as Grade | 'none');
      else {
        context.addIssue({ code: 'custom', message: `unknown grade "${value}" (use A+ … F, or none)` });
        return z.NEVER;
      }
    }
    return wanted;
  });

export const overviewQuerySchema = z.object({
  sort: z.enum(['grade', 'score', 'host', 'lastScan', 'nextScan']).default('grade'),
  order: z.enum(['asc', 'desc']).optional(),
  grade: gradeFilterSchema.optional(),
  tag: tagSchema.optional(),
  q: z.string().trim().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export type OverviewQuery = z.infer<typeof overviewQuerySchema>;

export interface OverviewItem {
  site: {
    id: number;
    host: string;
    label: string;
    tags: string[];
    enabled: boolean;
    intervalMinutes: number;
  };
  latest: {
    scanId: number;
    outcome: ScanOutcome | null;
    grade: Grade | null;
    score: number | null;
    finishedAt: string | null;
    counts: SeverityCounts | null;
  } | null;
  /** Score now against the newest scan at least TREND_DAYS old. */
  trend: { since: string; score: number; delta: number; direction: 'up' | 'down' | 'flat' } | null;
  nextScanAt: string;
  activeScan: { id: number; state: ScanState } | null;
}

export interface Overview {
  total: number;
  items: OverviewItem[];
  fleet: { sites: number; byGrade: Record<Grade | 'none', number>; queued: number; running: number };
}

function aliasScans(table: typeof scans) {
  return { table, lastScan: alias(table, 'last_scan'), activeScan: alias(table, 'active_scan') };
}
let aliases: ReturnType<typeof aliasScans> | undefined;

/** The scans table under the two names the overview joins it by, made from the process's dialect's table. */
function scanAliases(): ReturnType<typeof aliasScans> {
  if (aliases?.table !== scans) aliases = aliasScans(scans);
  return aliases;
}

/** Default direction: worst grade and lowest score first, hosts A→Z, most recent scans first, soonest next scans first. */
const DEFAULT_ORDER: Record<OverviewQuery['sort'], 'asc' | 'desc'> = {
  grade: 'desc',
  score: 'asc',
  host: 'asc',
  lastScan: 'desc',
  nextScan: 'asc',
};

function orderBy(query: OverviewQuery): SQL[] {
  const { lastScan } = scanAliases();
  const direction = query.order ?? DEFAULT_ORDER[query.sort];
  const by = direction === 'asc' ? asc : desc;
  const keys: Record<OverviewQuery['sort'], SQL[]> = {
    // Within a grade, the lower score is the worse site.
    grade: [
      by(gradeRank(lastScan.grade)),
      orderNullsSmallest(lastScan.score, direction === 'asc' ? 'desc' : 'asc'),
    ],
    score: [orderNullsSmallest(lastScan.score, direction)],
    host: [by(sites.host)],
    lastScan: [orderNullsSmallest(lastScan.finishedAt, direction)],
    nextScan: [by(sites.nextScanAt)],
  };
  return [...keys[query.sort], asc(sites.host)];
}

function filters(db: Db, query: OverviewQuery): SQL | undefined {
  const { lastScan } = scanAliases();
  const conditions: SQL[] = [];
  if (query.grade) {
    const grades = query.grade.filter((grade): grade is Grade => grade !== 'none');
    const wanted: SQL[] = [];
    if (grades.length > 0) wanted.push(inArray(lastScan.grade, grades));
    if (query.grade.includes('none')) wanted.push(isNull(lastScan.grade));
    conditions.push(or(...wanted)!);
  }
  if (query.tag) conditions.push(inArray(sites.id, sitesWithTag(db, query.tag)));
  if (query.q) conditions.push(containsText([sites.host, sites.label], query.q));
  return conditions.length > 0 ? and(...conditions) : undefined;
}

async function fleetSummary(db: Db): Promise<Overview['fleet']> {
  const byGrade = Object.fromEntries([...GRADES, 'none'].map((grade) => [grade, 0])) as Record<
    Grade | 'none',
    number
  >;
  const { lastScan } = scanAliases();
  const [rows, active] = await Promise.all([
    db
      .select({ grade: lastScan.grade, n: count() })
      .from(sites)
      .leftJoin(lastScan, eq(lastScan.id, sites.lastScanId))
      .groupBy(lastScan.grade),
    countActiveScans({ db }),
  ]);
  let total = 0;
  for (const row of rows) {
    byGrade[row.grade ?? 'none'] += row.n;
    total += row.n;
  }
  return { sites: total, byGrade, ...active };
}

/** Each page site's score at `since`, looked up for the page only (not for every site before sorting). */
async function scoresAtOrBefore(
  db: DbOrTx,
  siteIds: readonly number[],
  since: Date,
): Promise<Map<number, number | null>> {
  if (siteIds.length === 0) return new Map();
  const rows = await db
    .select({ siteId: sites.id, score: scoreAtOrBefore(since) })
    .from(sites)
    .where(inArray(sites.id, [...siteIds]));
  return new Map(rows.map((row) => [row.siteId, row.score]));
}

async function countSites(db: Db, where: SQL | undefined): Promise<number> {
  const { lastScan } = scanAliases();
  const [counted] = await db
    .select({ n: count() })
    .from(sites)
    .leftJoin(lastScan, eq(lastScan.id, sites.lastScanId))
    .where(where);
  return counted?.n ?? 0;
}

/** One page of sites with their latest scan, its finding counts and any scan in progress, sorted. */
function overviewPage(db: Db, where: SQL | undefined, query: OverviewQuery) {
  const { lastScan, activeScan } = scanAliases();
  return db
    .select({
      site: {
        id: sites.id,
        host: sites.host,
        label: sites.label,
        enabled: sites.enabled,
        intervalMinutes: sites.intervalMinutes,
        nextScanAt: sites.nextScanAt,
      },
      last: {
        id: lastScan.id,
        outcome: lastScan.outcome,
        grade: lastScan.grade,
        score: lastScan.score,
        finishedAt: lastScan.finishedAt,
      },
      ...severityCountColumns(),
      active: { id: activeScan.id, state: activeScan.state },
    })
    .from(sites)
    .leftJoin(lastScan, eq(lastScan.id, sites.lastScanId))
    .leftJoin(findingSets, eq(findingSets.id, lastScan.findingSetId))
    .leftJoin(activeScan, and(eq(activeScan.siteId, sites.id), isActiveScan(activeScan.state)))
    .where(where)
    .orderBy(...orderBy(query))
    .limit(query.limit)
    .offset(query.offset);
}

/**
 * Every site with its latest grade, severity counts, trend and schedule: the fleet dashboard's one query,
 * with the total, the fleet summary and then the page's tags and trends read beside it (on PostgreSQL at
 * the same time, on connections of their own).
 */
export async function getOverview({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: OverviewQuery }): Promise<Overview> {
  const where = filters(db, input);
  const since = new Date(now().getTime() - TREND_DAYS * DAY_MS);
  const [total, rows, fleet] = await Promise.all([
    countSites(db, where),
    overviewPage(db, where, input),
    fleetSummary(db),
  ]);
  const pageIds = rows.map((row) => row.site.id);
  const [tags, scoresThen] = await Promise.all([
    tagsBySite(db, pageIds),
    scoresAtOrBefore(db, pageIds, since),
  ]);
  const items = rows.map((row): OverviewItem => {
    const { site, last, active } = row;
    const scoreThen = scoresThen.get(site.id) ?? null;
    const score = last?.score ?? null;
    return {
      site: {
        id: site.id,
        host: site.host,
        label: site.label,
        tags: tags.get(site.id) ?? [],
        enabled: site.enabled,
        intervalMinutes: site.intervalMinutes,
      },
      latest: last
        ? {
            scanId: last.id,
            outcome: last.outcome,
            grade: last.grade,
            score,
            finishedAt: last.finishedAt?.toISOString() ?? null,
            counts: countsFrom(row),
          }
        : null,
      trend:
        score === null || scoreThen === null
          ? null
          : {
              since: since.toISOString(),
              score: scoreThen,
              delta: score - scoreThen,
              direction: score > scoreThen ? 'up' : score < scoreThen ? 'down' : 'flat',
            },
      nextScanAt: site.nextScanAt.toISOString(),
      activeScan: active ? { id: active.id, state: active.state } : null,
    };
  });
  return { total, items, fleet };
}
