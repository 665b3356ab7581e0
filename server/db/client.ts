import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzleSqlite, type SqliteRemoteDatabase } from 'drizzle-orm/sqlite-proxy';
import { migrate as migrateSqlite } from 'drizzle-orm/sqlite-proxy/migrator';
import pg from 'pg';
import { type StorageFault, storageFault } from './faults';
import * as pgSchema from './pg-schema';
import { type Dialect, useDialect } from './schema';
import type * as sqliteSchema from './sqlite-schema';

/**
 * The query builder services use, on either dialect. It is typed as Drizzle's asynchronous SQLite
 * database: every query is awaited, never run with `.get()`/`.all()`/`.run()` (PostgreSQL has none of them;
 * `no-sync-queries.test.ts` keeps them out), and results are read from `returning()` rather than row counts.
 * On PostgreSQL it is Drizzle's node-postgres database over the same tables (schema.ts).
 */
export type Db = SqliteRemoteDatabase<typeof sqliteSchema>;
/** A transaction: the same builder, inside `db.transaction(async (tx) => ...)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** What a service that reads or writes takes: the database or a transaction on it. */
export type DbOrTx = Db | Tx;

/** An open database: the builder services use, its dialect, and the driver handle under it. */
export interface Database {
  db: Db;
  dialect: Dialect;
  /** Where the data lives, for messages: the SQLite file, or the PostgreSQL URL without its password. */
  location: string;
  /** The better-sqlite3 handle (pragmas, backups, health); null on PostgreSQL. */
  sqlite: BetterSqlite3.Database | null;
  /** The node-postgres pool; null on SQLite. */
  pool: pg.Pool | null;
  close(): Promise<void>;
}

const SQLITE_MIGRATIONS = fileURLToPath(new URL('../../migrations/sqlite', import.meta.url));
const PG_MIGRATIONS = fileURLToPath(new URL('../../migrations/pg', import.meta.url));
const MIGRATIONS_TABLE = '__drizzle_migrations';
/** Several processes (web, scheduler, workers) may start at once; one migrates while the others wait. */
const PG_MIGRATION_LOCK = 0x76696769; // "vigi"

export function databaseFile(dataDir: string): string {
  return join(dataDir, 'vigil.db');
}

/** Is this a PostgreSQL connection URL rather than a data directory or file? */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** The URL with its password replaced, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
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
/** Prepared statements kept per SQLite connection; services use a few hundred distinct queries. */
const STATEMENT_CACHE_SIZE = 2000;

/**
 * Drizzle's asynchronous SQLite builder over a synchronous better-sqlite3 connection. The connection is
 * one, so a transaction holds it alone from `begin` to `commit`: awaiting a query yields to other
 * requests, whose queries would otherwise run inside the open transaction (and be rolled back with it)
 * and whose own `begin` would fail. Transactions take turns, and a query from outside the running one
 * waits for its end; the transaction's own code is recognised by its async context. A transaction must
 * therefore do only database work (no network, no timers) between `begin` and `commit`: everything else
 * waits meanwhile.
 */
function sqliteBuilder(client: BetterSqlite3.Database): Db {
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (query: string): BetterSqlite3.Statement => {
    let statement = statements.get(query);
    if (!statement) {
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
      statement = client.prepare(query);
      statements.set(query, statement);
    }
    return statement;
  };
  // The running transaction, known to its own queries by the async context it runs in. Work it started
  // that outlives it keeps that context, but is a stranger to the next transaction.
  const transactionContext = new AsyncLocalStorage<object>();
  let running: { owner: object; done: Promise<unknown> } | null = null;
  const isRunningTransaction = () => running !== null && transactionContext.getStore() === running.owner;
  let lastTurn: Promise<unknown> = Promise.resolve();

  const db: Db = drizzleSqlite(async (query, params, method) => {
    // Checked and run in one synchronous step, so no transaction can begin in between.
    while (running && !isRunningTransaction()) await running.done.catch(() => {});
    // A write transaction takes the write lock at its start, so it cannot fail half-way for want of it.
    if (query === 'begin') {
      client.exec('begin immediate');
      return { rows: [] };
    }
    // SQLite has already rolled back after a full disk or I/O error; the fault, not this, is the error to report.
    if (query === 'rollback' && !client.inTransaction) return { rows: [] };
    const statement = prepare(query);
    if (method === 'run' || !statement.reader) {
      statement.run(...params);
      return { rows: [] };
    }
    statement.raw(true);
    if (method === 'get') return { rows: statement.get(...params) as unknown[] };
    return { rows: statement.all(...params) };
  });
  const transaction = db.transaction.bind(db);
  db.transaction = (work, config) => {
    if (isRunningTransaction()) return transaction(work, config);
    const turn = lastTurn.then(() => {
      const owner = {};
      const done = transactionContext.run(owner, () => transaction(work, config));
      running = { owner, done };
      return done.finally(() => {
        if (running?.owner === owner) running = null;
      });
    });
    lastTurn = turn.catch(() => {});
    return turn;
  };
  return db;
}

/** Opens (creating if needed) a SQLite file with the pragmas Vigil relies on; does not migrate. */
export function openSqlite(file: string, options: { busyTimeoutMs?: number } = {}): Database {
  useDialect('sqlite');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const client = new BetterSqlite3(file);
  client.pragma('journal_mode = WAL');
  client.pragma('foreign_keys = ON');
  client.pragma(`busy_timeout = ${options.busyTimeoutMs ?? COMMAND_BUSY_TIMEOUT_MS}`);
  // Safe with WAL (a power cut may lose the last commits, never corrupt) and much faster for many small writes.
  client.pragma('synchronous = NORMAL');
  return {
    db: sqliteBuilder(client),
    dialect: 'sqlite',
    location: file,
    sqlite: client,
    pool: null,
    async close() {
      if (client.open) client.close();
    },
  };
}

/** Connections per process; a worker holds one per running scan at most, briefly. */
const PG_POOL_SIZE = 10;

/** Connects a pool to PostgreSQL (lazily: the first query connects); does not migrate. */
export function openPostgres(url: string, options: { poolSize?: number } = {}): Database {
  useDialect('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? PG_POOL_SIZE,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'vigil',
  });
  // An idle connection the server drops must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = drizzlePostgres({ client: pool, schema: pgSchema.tables }) as unknown as Db;
  return {
    db,
    dialect: 'pg',
    location: redactUrl(url),
    sqlite: null,
    pool,
    async close() {
      // Safe to call twice (a test that closes the database under the app, then tears the app down).
      if (!pool.ended) await pool.end();
    },
  };
}

/** Opens a data directory's SQLite file, or a PostgreSQL database when given a `postgres://` URL. */
export function openDatabase(
  location: string,
  options: { busyTimeoutMs?: number; poolSize?: number } = {},
): Database {
  return isPostgresUrl(location)
    ? openPostgres(location, options)
    : openSqlite(databaseFile(location), options);
}

/** How many migrations the database has applied: its schema version. */
export async function appliedMigrationCount(database: Database): Promise<number> {
  if (database.sqlite) {
    const client = database.sqlite;
    const exists = client
      .prepare("select count(*) as n from sqlite_master where type = 'table' and name = ?")
      .get(MIGRATIONS_TABLE) as { n: number };
    if (!exists.n) return 0;
    return (client.prepare(`select count(*) as n from "${MIGRATIONS_TABLE}"`).get() as { n: number }).n;
  }
  const pool = requirePool(database);
  const exists = await pool.query<{ n: string }>(
    "select count(*) as n from information_schema.tables where table_schema = 'drizzle' and table_name = $1",
    [MIGRATIONS_TABLE],
  );
  if (Number(exists.rows[0]?.n ?? 0) === 0) return 0;
  const applied = await pool.query<{ n: string }>(`select count(*) as n from drizzle."${MIGRATIONS_TABLE}"`);
  return Number(applied.rows[0]?.n ?? 0);
}

function requirePool(database: Database): pg.Pool {
  if (!database.pool) throw new Error('not a PostgreSQL database');
  return database.pool;
}

/** Applies every pending migration for the database's dialect; returns how many were applied. */
export async function applyMigrations(database: Database): Promise<number> {
  const before = await appliedMigrationCount(database);
  if (database.sqlite) {
    const client = database.sqlite;
    // The migrator reads what is applied, then applies the rest: both under one write lock, so two
    // processes starting on the same file migrate one after the other.
    client.exec('begin immediate');
    try {
      await migrateSqlite(
        database.db,
        async (queries) => {
          for (const query of queries) client.exec(query);
        },
        { migrationsFolder: SQLITE_MIGRATIONS, migrationsTable: MIGRATIONS_TABLE },
      );
      client.exec('commit');
    } catch (error) {
      if (client.inTransaction) client.exec('rollback');
      throw error;
    }
  } else {
    // One connection holds an advisory lock for the whole run, so concurrent starters migrate one at a time.
    const connection = await requirePool(database).connect();
    try {
      await connection.query('select pg_advisory_lock($1)', [PG_MIGRATION_LOCK]);
      await migratePostgres(drizzlePostgres({ client: connection }), {
        migrationsFolder: PG_MIGRATIONS,
        migrationsTable: MIGRATIONS_TABLE,
      });
    } finally {
      await connection.query('select pg_advisory_unlock($1)', [PG_MIGRATION_LOCK]).catch(() => {});
      connection.release();
    }
  }
  return (await appliedMigrationCount(database)) - before;
}

/** Opens a data directory's database or a PostgreSQL URL and brings its schema up to date. */
export async function openMigratedDatabase(
  location: string,
  options: { poolSize?: number } = {},
): Promise<Database> {
  const database = openDatabase(location, options);
  try {
    await applyMigrations(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  database.sqlite?.pragma(`busy_timeout = ${SERVING_BUSY_TIMEOUT_MS}`);
  return database;
}

/**
 * openMigratedDatabase for `vigil serve`, waiting out storage faults (a read-only file or directory, a full
 * disk, a lock held elsewhere, a PostgreSQL server not up yet): the server starts by itself once the
 * operator fixes them, instead of exiting into a restart loop. It says what it waits for, once per
 * distinct fault; other errors throw.
 */
export async function waitForMigratedDatabase(
  location: string,
  options: { log: (line: string) => void; retryMs?: number; poolSize?: number },
): Promise<Database> {
  const retryMs = options.retryMs ?? START_RETRY_MS;
  const where = isPostgresUrl(location) ? redactUrl(location) : databaseFile(location);
  let waitingFor: string | null = null;
  for (;;) {
    let fault: StorageFault | null;
    try {
      const database = await openMigratedDatabase(
        location,
        options.poolSize ? { poolSize: options.poolSize } : {},
      );
      // SQLite falls back to read-only when it may not write the file: that is not a database to serve from.
      if (!database.sqlite?.readonly) {
        if (waitingFor) options.log('vigil: the database takes writes now; starting');
        return database;
      }
      await database.close();
      fault = { kind: 'read-only', message: 'the database is read-only (opened without write access)' };
    } catch (error) {
      fault = storageFault(error);
      if (!fault) throw error;
    }
    if (fault.message !== waitingFor)
      options.log(
        `vigil: cannot start yet: ${fault.message} (${where}); trying again every ${retryMs / 1000} s`,
      );
    waitingFor = fault.message;
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}

/** `vigil migrate`: applies pending migrations to a data directory's database or a PostgreSQL URL. */
export async function migrateDatabase(location: string): Promise<{ location: string; applied: number }> {
  const database = openDatabase(location);
  try {
    return { location: database.location, applied: await applyMigrations(database) };
  } finally {
    await database.close();
  }
}

/** Bytes the database occupies (SQLite: pages in use after a WAL checkpoint), for benchmarks and health. */
export async function databaseSize(database: Database): Promise<{ bytes: number }> {
  if (database.sqlite) {
    const client = database.sqlite;
    client.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = Number(client.pragma('page_size', { simple: true }));
    const pages = Number(client.pragma('page_count', { simple: true }));
    const free = Number(client.pragma('freelist_count', { simple: true }));
    return { bytes: (pages - free) * pageSize };
  }
  const result = await requirePool(database).query<{ bytes: string }>(
    'select pg_database_size(current_database()) as bytes',
  );
  return { bytes: Number(result.rows[0]?.bytes ?? 0) };
}

/** Bytes per table and index, largest first, for benchmarks. */
export async function storageByObject(database: Database): Promise<{ name: string; bytes: number }[]> {
  if (database.sqlite)
    return database.sqlite
      .prepare('select name, sum(pgsize) as bytes from dbstat group by name order by bytes desc')
      .all() as { name: string; bytes: number }[];
  const result = await requirePool(database).query<{ name: string; bytes: string }>(
    // A table's own size (with its TOAST data) and each index apart, as SQLite's dbstat reports them.
    `select c.relname as name, case c.relkind when 'r' then pg_table_size(c.oid) else pg_relation_size(c.oid) end as bytes from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'i') order by bytes desc`,
  );
  return result.rows.map((row) => ({ name: row.name, bytes: Number(row.bytes) }));
}
