import { or, type SQL, sql } from 'drizzle-orm';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { GRADES } from '../scan/grade';
import { sites } from './schema';

/** SQL fragments the services compose with Drizzle builders; every hand-written SQL lives in server/db. */

/** Case-insensitive substring match on any of the columns (no LIKE, so `%` and `_` in the text are literal). */
export function containsText(columns: readonly AnySQLiteColumn[], text: string): SQL {
  const needle = text.toLowerCase();
  return or(...columns.map((column) => sql`instr(lower(${column}), ${needle}) > 0`))!;
}

/** Position of a grade in GRADES (0 is A+); no grade sorts after F. */
export function gradeRank(column: AnySQLiteColumn): SQL<number> {
  const cases = GRADES.map((grade, rank) => sql`when ${grade} then ${rank}`);
  return sql<number>`(case ${column} ${sql.join(cases, sql` `)} else ${GRADES.length} end)`;
}

/**
 * Score of the site's newest finished scan started at or before `at`, as a correlated scalar subquery over
 * a query on `sites` (written out in full: Drizzle leaves columns unqualified in one-table queries).
 */
export function scoreAtOrBefore(at: Date): SQL<number | null> {
  const outerSiteId = sql`${sites}.${sql.identifier(sites.id.name)}`;
  return sql<
    number | null
  >`(select s.score from scans s where s.site_id = ${outerSiteId} and s.started_at <= ${at.getTime()} and s.state = 'done' order by s.started_at desc limit 1)`;
}
