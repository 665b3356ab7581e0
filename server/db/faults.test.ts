import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseFile, openDatabase } from './client';
import { checkDatabaseHealth, storageFault } from './faults';
import * as schema from './schema';
import { createTempDatabase } from './temp-database';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function tempDatabase() {
  const database = createTempDatabase();
  cleanups.push(database.remove);
  return database;
}

/** A second connection, as another process would hold it. */
function otherConnection(dataDir: string): BetterSqlite3.Database {
  const client = new BetterSqlite3(databaseFile(dataDir));
  cleanups.push(() => client.close());
  return client;
}

describe('storageFault', () => {
  it('names the fault behind a failed Drizzle query, and nothing else', () => {
    const { db, dataDir } = tempDatabase();
    otherConnection(dataDir).exec('BEGIN IMMEDIATE');
    let thrown: unknown;
    try {
      db.run(sql`insert into settings (key, value, updated_at) values ('k', '1', 0)`);
    } catch (error) {
      thrown = error;
    }
    expect(String(thrown)).toContain('DrizzleError');
    expect(storageFault(thrown)).toEqual({
      kind: 'locked',
      message: 'the database is locked by another process',
    });

    const sqliteError = (code: string) => Object.assign(new Error('sqlite says no'), { code });
    expect(storageFault(sqliteError('SQLITE_FULL'))?.kind).toBe('full');
    expect(storageFault(sqliteError('SQLITE_IOERR_WRITE'))?.kind).toBe('io');
    expect(storageFault(sqliteError('SQLITE_READONLY_DBMOVED'))?.kind).toBe('read-only');
    expect(storageFault(sqliteError('SQLITE_CONSTRAINT_UNIQUE'))).toBeNull();
    expect(storageFault(sqliteError('SQLITE_BUSYNESS'))).toBeNull();
    const fsError = (code: string) => Object.assign(new Error(`${code}: no`), { code });
    expect(storageFault(fsError('EROFS'))).toEqual({
      kind: 'read-only',
      message: 'the database is read-only (EROFS)',
    });
    expect(storageFault(fsError('ENOSPC'))?.kind).toBe('full');
    expect(storageFault(fsError('ENOENT'))).toBeNull();
    expect(storageFault(new Error('boom'))).toBeNull();
    expect(storageFault('not an error')).toBeNull();
  });
});

describe('checkDatabaseHealth', () => {
  it('is ok for a writable database, and leaves no transaction open', () => {
    const { db } = tempDatabase();
    expect(checkDatabaseHealth(db)).toEqual({ ok: true });
    expect(db.$client.inTransaction).toBe(false);
  });

  it('reports a write lock held by another connection, within a quarter second, and recovers', () => {
    const { db, dataDir } = tempDatabase();
    const other = otherConnection(dataDir);
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    expect(checkDatabaseHealth(db)).toEqual({
      ok: false,
      kind: 'locked',
      error: 'the database is locked by another process',
    });
    expect(performance.now() - started).toBeLessThan(1000);
    // The probe put the connection's own busy timeout back.
    expect(db.$client.pragma('busy_timeout', { simple: true })).toBe(250);
    other.exec('ROLLBACK');
    expect(checkDatabaseHealth(db)).toEqual({ ok: true });
  });

  it('reports a connection without write access, and a closed one', () => {
    const { dataDir } = tempDatabase();
    const client = new BetterSqlite3(databaseFile(dataDir), { readonly: true });
    cleanups.push(() => client.close());
    expect(checkDatabaseHealth(drizzle({ client, schema }))).toEqual({
      ok: false,
      kind: 'read-only',
      error: 'the database is read-only (opened without write access)',
    });

    const { db, close } = openDatabase(databaseFile(dataDir));
    close();
    expect(checkDatabaseHealth(db)).toEqual({ ok: false, kind: 'closed', error: 'the database is closed' });
  });
});
