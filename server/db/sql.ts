import { or, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { GRADES } from '../scan/grade';
import { currentDialect, sites } from './schema';

/** SQL fragments the services compose with Drizzle builders; every hand-written SQL lives in server/db. */

/** The largest id a key column holds on both dialects (PostgreSQL's integer is 32-bit): a larger one matches nothing. */
export const MAX_ROW_ID = 2_147_483_647;

/** Case-insensitive substring match on any of the columns (no LIKE, so `%` and `_` in the text are literal). */
export function containsText(columns: readonly AnySQLiteColumn[], text: string): SQL {
  const needle = text.toLowerCase();
  const position = currentDialect() === 'pg' ? 'strpos' : 'instr';
  return or(...columns.map((column) => sql`${sql.raw(position)}(lower(${column}), ${needle}) > 0`))!;
}

/** Position of a grade in GRADES (0 is A+); no grade sorts after F. */
export function gradeRank(column: AnySQLiteColumn): SQL<number> {
  // Ranks are written as literals: PostgreSQL would type bound ones as text and sort "10" before "2".
  const cases = GRADES.map((grade, rank) => sql`when ${grade} then ${sql.raw(String(rank))}`);
  return sql<number>`(case ${column} ${sql.join(cases, sql` `)} else ${sql.raw(String(GRADES.length))} end)`;
}

/** An ORDER BY term with NULL as the smallest value, as SQLite sorts it (PostgreSQL's default is the reverse). */
export function orderNullsSmallest(column: SQLWrapper, direction: 'asc' | 'desc'): SQL {
  return direction === 'asc' ? sql`${column} asc nulls first` : sql`${column} desc nulls last`;
}

/** In an upsert's conflict update: the value the insert proposed for `column` (the same on both dialects). */
export function excludedValue(column: AnySQLiteColumn): SQL {
  return sql`excluded.${sql.identifier(column.name)}`;
}

/**
 * Did this error come from a statement that would have broken a unique index (SQLite's constraint codes,
 * PostgreSQL's SQLSTATE 23505)? Drizzle wraps the driver's error as its cause.
 */
export function isUniqueViolation(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = 'code' in current ? String(current.code) : '';
    if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      return true;
    current = current.cause;
  }
  return false;
}

/** `table.column`, qualified even where Drizzle would leave it bare (a one-table query's subquery). */
function qualified(column: AnySQLiteColumn): SQL {
  return sql`${column.table}.${sql.identifier(column.name)}`;
}

/**
 * Rows whose `id` no row of the `references` columns points to, as one pass over each table (`except`).
 * Both dialects' `not in` / `not exists` can search a large table again for every row: SQLite's
 * `not exists` and PostgreSQL's `not exists` where it guesses a nested loop (the referencing columns have
 * no index), and PostgreSQL's `not in` once the ids outgrow work_mem.
 */
export function notReferencedBy(id: AnySQLiteColumn, references: readonly AnySQLiteColumn[]): SQL {
  const referenced = references.map(
    (reference) => sql`select ${qualified(reference)} from ${reference.table}`,
  );
  return sql`${qualified(id)} in (select ${qualified(id)} from ${id.table} except ${sql.join(referenced, sql` except `)})`;
}

/**
 * Score of the site's newest finished scan started at or before `at`, as a correlated scalar subquery over
 * a query on `sites` (written out in full: Drizzle leaves columns unqualified in one-table queries).
 */
export function scoreAtOrBefore(at: Date): SQL<number | null> {
  const outerSiteId = qualified(sites.id);
  // SQLite stores instants as epoch milliseconds, PostgreSQL as timestamptz.
  const instant = currentDialect() === 'pg' ? sql`${at.toISOString()}::timestamptz` : sql`${at.getTime()}`;
  return sql<
    number | null
  >`(select s.score from scans s where s.site_id = ${outerSiteId} and s.started_at <= ${instant} and s.state = 'done' order by s.started_at desc limit 1)`;
}

/** A PostgreSQL select builder, as the locking clause needs it (the services' builders are typed as SQLite's). */
interface LockableSelect<T> {
  for(strength: 'no key update', config: { skipLocked?: boolean }): T;
}

/**
 * The rows a select reads stay locked until the transaction ends, so another process's transaction that
 * locks them waits (or, with `skipLocked`, passes them over). `no key update` still lets other transactions
 * insert rows that reference them. SQLite needs no clause: a write transaction (`begin immediate`)
 * already shuts out every other writer.
 */
export function lockedForUpdate<T>(query: T, options: { skipLocked?: boolean } = {}): T {
  if (currentDialect() !== 'pg') return query;
  return (query as unknown as LockableSelect<T>).for(
    'no key update',
    options.skipLocked ? { skipLocked: true } : {},
  );
}
