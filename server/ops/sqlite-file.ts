import type BetterSqlite3 from 'better-sqlite3';

/**
 * Reads straight from a SQLite file through better-sqlite3, for what only a SQLite file has (a backup's
 * integrity, its migrations table, a copy being verified); the application reads through Drizzle.
 */

/** The first column of the first row, or undefined when there is no row. */
export function readValue(client: BetterSqlite3.Database, query: string, ...params: unknown[]): unknown {
  return client
    .prepare(query)
    .pluck()
    .get(...params);
}

/** The first column of every row. */
export function readColumn(client: BetterSqlite3.Database, query: string, ...params: unknown[]): unknown[] {
  return client
    .prepare(query)
    .pluck()
    .all(...params);
}

/** Every row, as objects. */
export function readRows(client: BetterSqlite3.Database, query: string, ...params: unknown[]): unknown[] {
  return client.prepare(query).all(...params);
}
