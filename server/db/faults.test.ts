import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../testing/postgres';
import { type Database, databaseFile, openDatabase, openPostgres } from './client';
import { checkDatabaseHealth, storageFault } from './faults';
import { settings } from './schema';
import { createTempDatabase, testDialect } from './temp-database';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDatabase() {
  const database = await createTempDatabase();
  cleanups.push(database.remove);
  return database;
}

const aSetting = { key: 'k', value: '1', updatedAt: new Date('2026-11-25T12:00:00Z') };

/** What a query on the database throws (Drizzle's error, with the driver's as its cause). */
async function thrownBy(query: Promise<unknown>): Promise<unknown> {
  try {
    await query;
  } catch (error) {
    return error;
  }
  throw new Error('the query succeeded');
}

describe('storageFault', () => {
  it('maps driver and file-system codes to faults, and nothing else', () => {
    const coded = (code: string) => Object.assign(new Error('the driver says no'), { code });
    expect(storageFault(coded('SQLITE_FULL'))?.kind).toBe('full');
    expect(storageFault(coded('SQLITE_IOERR_WRITE'))?.kind).toBe('io');
    expect(storageFault(coded('SQLITE_READONLY_DBMOVED'))?.kind).toBe('read-only');
    expect(storageFault(coded('SQLITE_CONSTRAINT_UNIQUE'))).toBeNull();
    expect(storageFault(coded('SQLITE_BUSYNESS'))).toBeNull();
    expect(storageFault(coded('EROFS'))).toEqual({
      kind: 'read-only',
      message: 'the database is read-only (EROFS)',
    });
    expect(storageFault(coded('ENOSPC'))?.kind).toBe('full');
    expect(storageFault(coded('ENOENT'))).toBeNull();
    // SQLSTATE classes: a unique violation or a syntax error is a bug or bad input, not the operator's.
    expect(storageFault(coded('53100'))?.kind).toBe('full');
    expect(storageFault(coded('08006'))?.kind).toBe('unreachable');
    expect(storageFault(coded('23505'))).toBeNull();
    expect(storageFault(coded('42601'))).toBeNull();
    expect(storageFault(new Error('boom'))).toBeNull();
    expect(storageFault('not an error')).toBeNull();
  });
});

/** A second connection, as another process would hold it. */
function otherSqliteConnection(dataDir: string): BetterSqlite3.Database {
  const client = new BetterSqlite3(databaseFile(dataDir));
  cleanups.push(() => {
    client.close();
  });
  return client;
}

// File locks, write access and free space are SQLite's; the PostgreSQL server guards its own files.
describe.skipIf(testDialect() === 'pg')('SQLite file faults', () => {
  it('names the lock behind a failed Drizzle query', async () => {
    const { db, dataDir } = await tempDatabase();
    otherSqliteConnection(dataDir).exec('BEGIN IMMEDIATE');
    const thrown = await thrownBy(db.insert(settings).values(aSetting));
    expect(String(thrown)).toContain('Failed query');
    expect(storageFault(thrown)).toEqual({
      kind: 'locked',
      message: 'the database is locked by another process',
    });
  });

  it('health is ok for a writable database, and leaves no transaction open', async () => {
    const database = await tempDatabase();
    expect(await checkDatabaseHealth(database)).toEqual({ ok: true });
    expect(database.sqlite?.inTransaction).toBe(false);
  });

  it('health reports a write lock held by another connection, within a quarter second, and recovers', async () => {
    const database = await tempDatabase();
    const other = otherSqliteConnection(database.dataDir);
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    expect(await checkDatabaseHealth(database)).toEqual({
      ok: false,
      kind: 'locked',
      error: 'the database is locked by another process',
    });
    expect(performance.now() - started).toBeLessThan(1000);
    // The probe put the connection's own busy timeout back.
    expect(database.sqlite?.pragma('busy_timeout', { simple: true })).toBe(250);
    other.exec('ROLLBACK');
    expect(await checkDatabaseHealth(database)).toEqual({ ok: true });
  });

  it('health reports a connection without write access, and a closed one', async () => {
    const temp = await tempDatabase();
    const readOnly = new BetterSqlite3(databaseFile(temp.dataDir), { readonly: true });
    const closeReadOnly = async () => {
      readOnly.close();
    };
    cleanups.push(closeReadOnly);
    // Health looks at the driver handle; the builder beside it does not matter here.
    const readOnlyDatabase: Database = { ...temp, sqlite: readOnly, close: closeReadOnly };
    expect(await checkDatabaseHealth(readOnlyDatabase)).toEqual({
      ok: false,
      kind: 'read-only',
      error: 'the database is read-only (opened without write access)',
    });

    const closed = openDatabase(temp.dataDir);
    await closed.close();
    expect(await checkDatabaseHealth(closed)).toEqual({
      ok: false,
      kind: 'closed',
      error: 'the database is closed',
    });
  });
});

/** A connection of its own to the test database, as another process (psql, a migration, a backup) would hold. */
async function otherPostgresConnection(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  cleanups.push(() => client.end());
  return client;
}

// What a PostgreSQL server answers (SQLSTATEs, refused connections) has no SQLite counterpart.
describe.skipIf(testDialect() === 'sqlite')('PostgreSQL faults', () => {
  it('a server nobody answers on is unreachable, for queries and for health', async () => {
    const database = openPostgres(`postgres://postgres@127.0.0.1:${await freeLoopbackPort()}/vigil`);
    cleanups.push(database.close);
    const thrown = await thrownBy(database.db.select().from(settings));
    expect(storageFault(thrown)).toEqual({
      kind: 'unreachable',
      message: 'the database server cannot be reached (ECONNREFUSED)',
    });
    expect(await checkDatabaseHealth(database)).toEqual({
      ok: false,
      kind: 'unreachable',
      error: 'the database server cannot be reached (ECONNREFUSED)',
    });
  });

  it('a database that refuses writes (SQLSTATE 25006) is read-only, for writes and for health', async () => {
    const temp = await tempDatabase();
    const admin = await otherPostgresConnection(temp.url);
    // Applies to connections opened from now on; the temporary database's pool has opened none yet.
    await admin.query(`alter database "${admin.database}" set default_transaction_read_only = on`);
    const thrown = await thrownBy(temp.db.insert(settings).values(aSetting));
    expect((thrown as Error).cause).toMatchObject({ code: '25006' });
    expect(storageFault(thrown)).toEqual({ kind: 'read-only', message: 'the database is read-only' });
    expect(await checkDatabaseHealth(temp)).toMatchObject({ ok: false, kind: 'read-only' });
    // Reads go on: it is writes the server refuses.
    expect(await temp.db.select().from(settings)).toEqual([]);
  });

  it('a lock another session holds past lock_timeout (SQLSTATE 55P03) is locked', async () => {
    const temp = await tempDatabase();
    const other = await otherPostgresConnection(temp.url);
    await other.query(`alter database "${other.database}" set lock_timeout = '200ms'`);
    await other.query('begin');
    await other.query('lock table settings in access exclusive mode');
    const started = performance.now();
    const thrown = await thrownBy(temp.db.insert(settings).values(aSetting));
    expect(performance.now() - started).toBeLessThan(5000);
    expect((thrown as Error).cause).toMatchObject({ code: '55P03' });
    expect(storageFault(thrown)).toEqual({
      kind: 'locked',
      message: 'the database is locked by another process',
    });
    await other.query('rollback');
    await temp.db.insert(settings).values(aSetting);
    expect(await temp.db.select().from(settings)).toEqual([aSetting]);
  });

  it('a connection the server terminates mid-query (SQLSTATE 57P01) is unreachable, and the next query reconnects', async () => {
    const temp = await tempDatabase();
    const other = await otherPostgresConnection(temp.url);
    await temp.db.insert(settings).values(aSetting);
    const sleeping = thrownBy(temp.db.select({ slept: sql`pg_sleep(10)` }).from(settings));
    await expect
      .poll(async () => {
        const terminated = await other.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(10)%' and pid <> pg_backend_pid()",
        );
        return terminated.rowCount;
      })
      .toBe(1);
    const thrown = await sleeping;
    expect((thrown as Error).cause).toMatchObject({ code: '57P01' });
    expect(storageFault(thrown)?.kind).toBe('unreachable');
    expect(await temp.db.select().from(settings)).toEqual([aSetting]);
    expect(await checkDatabaseHealth(temp)).toEqual({ ok: true });
  });

  it('health is ok for a server that takes writes, and a closed pool is closed', async () => {
    const temp = await tempDatabase();
    expect(await checkDatabaseHealth(temp)).toEqual({ ok: true });
    const closed = openPostgres(temp.url);
    await closed.close();
    expect(storageFault(await thrownBy(closed.db.select().from(settings)))?.kind).toBe('closed');
    expect(await checkDatabaseHealth(closed)).toEqual({
      ok: false,
      kind: 'closed',
      error: 'the database is closed',
    });
  });
});
