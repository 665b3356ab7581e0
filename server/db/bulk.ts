import { type SQL, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Grade } from '../scan/types';
import type { DbOrTx } from './client';
import { currentDialect, type ScanOutcome } from './schema';

export interface FinishedScanRow {
  siteId: number;
  queuedAt: Date;
  startedAt: Date;
  finishedAt: Date;
  outcome: ScanOutcome;
  grade: Grade | null;
  score: number | null;
  durationMs: number;
  error: string | null;
  findingSetId: number;
  contextSetId: number;
}

/** Rows per statement: each statement binds one value per column (or one JSON text), whatever its rows. */
const ROWS_PER_INSERT = 10_000;

const COLUMNS = sql.raw(
  'site_id, trigger, state, attempts, queued_at, started_at, finished_at, outcome, grade, score, duration_ms, error, finding_set_id, context_set_id',
);

/**
 * PostgreSQL: one array per column, unnested into rows. Building a Drizzle insert of a thousand rows costs
 * more than the database's work on it; eleven arrays cost next to nothing.
 */
function unnestInsert(rows: readonly FinishedScanRow[]): SQL {
  const column = <T>(pick: (row: FinishedScanRow) => T) => sql.param(rows.map(pick));
  const instant = (pick: (row: FinishedScanRow) => Date) => column((row) => pick(row).toISOString());
  return sql`insert into scans (${COLUMNS})
    select site_id, 'schedule', 'done', 1, queued_at, started_at, finished_at, outcome, grade, score, duration_ms, error, finding_set_id, context_set_id
    from unnest(${column((row) => row.siteId)}::integer[], ${instant((row) => row.queuedAt)}::timestamptz[],
      ${instant((row) => row.startedAt)}::timestamptz[], ${instant((row) => row.finishedAt)}::timestamptz[],
      ${column((row) => row.outcome)}::text[], ${column((row) => row.grade)}::text[], ${column((row) => row.score)}::integer[],
      ${column((row) => row.durationMs)}::integer[], ${column((row) => row.error)}::text[],
      ${column((row) => row.findingSetId)}::integer[], ${column((row) => row.contextSetId)}::integer[])
      as r(site_id, queued_at, started_at, finished_at, outcome, grade, score, duration_ms, error, finding_set_id, context_set_id)
    returning id`;
}

/** SQLite: the rows as one JSON text, read back row by row by json_each (instants as epoch milliseconds). */
function jsonInsert(rows: readonly FinishedScanRow[]): SQL {
  const json = JSON.stringify(
    rows.map((row) => [
      row.siteId,
      row.queuedAt.getTime(),
      row.startedAt.getTime(),
      row.finishedAt.getTime(),
      row.outcome,
      row.grade,
      row.score,
      row.durationMs,
      row.error,
      row.findingSetId,
      row.contextSetId,
    ]),
  );
  return sql`insert into scans (${COLUMNS})
    select value ->> 0, 'schedule', 'done', 1, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
      value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10
    from json_each(${json}) order by key
    returning id`;
}

/**
 * Inserts finished scans in a few large statements, for loading history in bulk (benchmarks, imports from
 * other tools); call it inside a transaction. Returns the new ids in the order of `rows`.
 */
export async function insertFinishedScans(db: DbOrTx, rows: readonly FinishedScanRow[]): Promise<number[]> {
  const ids: number[] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT);
    const inserted =
      currentDialect() === 'pg'
        ? (await (db as unknown as NodePgDatabase).execute<{ id: number }>(unnestInsert(chunk))).rows.map(
            (row) => row.id,
          )
        : (await db.values<[number]>(jsonInsert(chunk))).map(([id]) => id);
    // Both dialects number a statement's rows in the order it produces them (SQLite: max rowid + 1;
    // PostgreSQL: one nextval per row), while neither promises RETURNING's order: sorting restores it.
    ids.push(...inserted.sort((a, b) => a - b));
  }
  return ids;
}
