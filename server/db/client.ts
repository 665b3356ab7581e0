import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { type StorageFault, storageFault } from './faults';
import * as schema from './schema';

/** Drizzle over better-sqlite3; `$client` is the raw handle, for health probes and pragmas. */
export type Db = BetterSQLite3Database<typeof schema> & { $client: BetterSqlite3.Database };

/** A database handle: the Drizzle instance services use, and how to close it. */
export interface Database {
  db: Db;
  file: string;
  close(): void;
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations/sqlite', import.meta.url));
const MIGRATIONS_TABLE = '__drizzle_migrations';

export function databaseFile(dataDir: string): string {
  return join(dataDir, 'vigil.db');
}

/** How often a server that cannot open its database for writing tries again. */
const START_RETRY_MS = 5000;
/** One-shot work (migrations, commands) may wait this long for another process's write lock. */
const COMMAND_BUSY_TIMEOUT_MS = 5000;
/**
 * A serving connection waits on the event loop, so a lock held elsewhere must cost it little: its writes
 * fail fast (the API answers 503) instead of freezing every request for seconds.
 */
export const SERVING_BUSY_TIMEOUT_MS = 250;

/** Opens (creating if needed) a SQLite file with the pragmas Vigil relies on; does not migrate. */
export function openDatabase(file: string, options: { busyTimeoutMs?: number } = {}): Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const client = new BetterSqlite3(file);
  client.pragma('journal_mode = WAL');
  client.pragma('foreign_keys = ON');
  client.pragma(`busy_timeout = ${options.busyTimeoutMs ?? COMMAND_BUSY_TIMEOUT_MS}`);
  // Safe with WAL (a power cut may lose the last commits, never corrupt) and much faster for many small writes.
  client.pragma('synchronous = NORMAL');
  const db = drizzle({ client, schema });
  return {
    db,
    file,
    close() {
      if (client.open) client.close();
    },
  };
}

/** How many migrations the database has applied: its schema version. */
export function appliedMigrationCount(db: Db): number {
  const exists = db.get<{ n: number }>(
    sql`select count(*) as n from sqlite_master where type = 'table' and name = ${MIGRATIONS_TABLE}`,
  );
  if (!exists?.n) return 0;
  return db.get<{ n: number }>(sql`select count(*) as n from ${sql.identifier(MIGRATIONS_TABLE)}`)?.n ?? 0;
}

/** Applies every pending migration from migrations/sqlite/; returns how many were applied. */
export function applyMigrations(db: Db): number {
  const before = appliedMigrationCount(db);
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER, migrationsTable: MIGRATIONS_TABLE });
  return appliedMigrationCount(db) - before;
}

/** Opens `<dataDir>/vigil.db` and brings its schema up to date: what the server does at start-up. */
export function openMigratedDatabase(dataDir: string): Database {
  const database = openDatabase(databaseFile(dataDir));
  try {
    applyMigrations(database.db);
  } catch (error) {
    database.close();
    throw error;
  }
  database.db.$client.pragma(`busy_timeout = ${SERVING_BUSY_TIMEOUT_MS}`);
  return database;
}

/**
 * openMigratedDatabase for `vigil serve`, waiting out storage faults (a read-only file or directory, a full
 * disk, a lock held elsewhere): the server starts by itself once the operator fixes them, instead of
 * exiting into a restart loop. It says what it waits for, once per distinct fault; other errors throw.
 */
export async function waitForMigratedDatabase(
  dataDir: string,
  options: { log: (line: string) => void; retryMs?: number },
): Promise<Database> {
  const retryMs = options.retryMs ?? START_RETRY_MS;
  let waitingFor: string | null = null;
  for (;;) {
    let fault: StorageFault | null;
    try {
      const database = openMigratedDatabase(dataDir);
      // SQLite falls back to read-only when it may not write the file: that is not a database to serve from.
      if (!database.db.$client.readonly) {
        if (waitingFor) options.log('vigil: the database takes writes now; starting');
        return database;
      }
      database.close();
      fault = { kind: 'read-only', message: 'the database is read-only (opened without write access)' };
    } catch (error) {
      fault = storageFault(error);
      if (!fault) throw error;
    }
    if (fault.message !== waitingFor)
      options.log(
        `vigil: cannot start yet: ${fault.message} (${databaseFile(dataDir)}); trying again every ${retryMs / 1000} s`,
      );
    waitingFor = fault.message;
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}

/** `vigil migrate`: applies pending migrations to `<dataDir>/vigil.db` and closes it. */
export function migrateDatabase(dataDir: string): { file: string; applied: number } {
  const database = openDatabase(databaseFile(dataDir));
  try {
    return { file: database.file, applied: applyMigrations(database.db) };
  } finally {
    database.close();
  }
}

/** Bytes the database occupies (pages in use after a WAL checkpoint), for benchmarks and health. */
export function databaseSize(db: Db): { bytes: number; pages: number; pageSize: number } {
  db.run(sql`pragma wal_checkpoint(TRUNCATE)`);
  const pageSize = db.get<{ page_size: number }>(sql`pragma page_size`)?.page_size ?? 0;
  const pages = db.get<{ page_count: number }>(sql`pragma page_count`)?.page_count ?? 0;
  const free = db.get<{ freelist_count: number }>(sql`pragma freelist_count`)?.freelist_count ?? 0;
  return { bytes: (pages - free) * pageSize, pages: pages - free, pageSize };
}

/** Bytes per table and index (SQLite's dbstat), largest first, for benchmarks. */
export function storageByObject(db: Db): { name: string; bytes: number }[] {
  return db.all<{ name: string; bytes: number }>(
    sql`select name, sum(pgsize) as bytes from dbstat group by name order by bytes desc`,
  );
}
