import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { count, eq } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, freeLoopbackPort, testPostgresUrl } from '../testing/postgres';
import {
  appliedMigrationCount,
  type Database,
  databaseFile,
  migrateDatabase,
  openDatabase,
  openMigratedDatabase,
  redactUrl,
  SERVING_BUSY_TIMEOUT_MS,
  waitForMigratedDatabase,
} from './client';
import { findingSets, scans, settings, sites } from './schema';
import { createTempDatabase, testDialect } from './temp-database';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-client-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Where no database exists yet: a data directory to be created, or a new, empty PostgreSQL database. */
async function freshLocation(): Promise<string> {
  if (testDialect() === 'sqlite') return join(tempDir(), 'nested', 'data');
  const created = await createDatabase(testPostgresUrl());
  cleanups.push(created.drop);
  return created.url;
}

function opened(database: Database): Database {
  cleanups.push(database.close);
  return database;
}

/** The migrations this build ships for the test dialect: what a fresh database ends up with. */
const SHIPPED_MIGRATIONS = readMigrationFiles({
  migrationsFolder: fileURLToPath(new URL(`../../migrations/${testDialect()}`, import.meta.url)),
}).length;

describe('migrations', () => {
  it('are applied once to a fresh database, and a second run applies none', async () => {
    const location = await freshLocation();
    const before = openDatabase(location);
    expect(await appliedMigrationCount(before)).toBe(0);
    await before.close();

    const first = await migrateDatabase(location);
    expect(first).toEqual({
      location: testDialect() === 'sqlite' ? databaseFile(location) : redactUrl(location),
      applied: SHIPPED_MIGRATIONS,
    });
    expect((await migrateDatabase(location)).applied).toBe(0);

    const database = opened(await openMigratedDatabase(location));
    expect(await appliedMigrationCount(database)).toBe(SHIPPED_MIGRATIONS);
    for (const table of [sites, scans, findingSets, settings])
      expect(await database.db.select({ n: count() }).from(table)).toEqual([{ n: 0 }]);
  });

  // The advisory lock is PostgreSQL's; SQLite runs as one process on its file.
  it.skipIf(testDialect() === 'sqlite')(
    'run one at a time when several processes start on a fresh database at once',
    async () => {
      const location = await freshLocation();
      const starters = await Promise.all([1, 2, 3].map(() => openMigratedDatabase(location)));
      for (const database of starters) opened(database);
      const [first] = starters;
      expect(await appliedMigrationCount(first!)).toBe(SHIPPED_MIGRATIONS);
      const hashes = await first!.pool!.query<{ rows: string; distinct: string }>(
        'select count(*) as rows, count(distinct hash) as distinct from drizzle.__drizzle_migrations',
      );
      expect(hashes.rows[0]).toEqual({
        rows: String(SHIPPED_MIGRATIONS),
        distinct: String(SHIPPED_MIGRATIONS),
      });
    },
  );
});

describe('transactions', () => {
  async function tempDatabase() {
    const database = await createTempDatabase();
    cleanups.push(database.remove);
    return database;
  }

  const setting = (key: string) => ({ key, value: key, updatedAt: new Date('2026-11-25T12:00:00Z') });
  async function storedKeys(database: Database): Promise<string[]> {
    const rows = await database.db.select({ key: settings.key }).from(settings).orderBy(settings.key);
    return rows.map((row) => row.key);
  }

  it('roll back everything they wrote when they throw, and the error reaches the caller', async () => {
    const database = await tempDatabase();
    await database.db.insert(settings).values(setting('kept'));
    const failing = database.db.transaction(async (tx) => {
      await tx.insert(settings).values(setting('added'));
      await tx.update(settings).set({ value: 'changed' }).where(eq(settings.key, 'kept'));
      throw new Error('the transaction gives up');
    });
    await expect(failing).rejects.toThrow('the transaction gives up');
    expect(await database.db.select().from(settings)).toEqual([setting('kept')]);
  });

  it('roll a nested transaction back to its savepoint while the outer one commits', async () => {
    const database = await tempDatabase();
    const outcome = await database.db.transaction(async (tx) => {
      await tx.insert(settings).values(setting('outer'));
      const inner = await tx
        .transaction(async (nested) => {
          await nested.insert(settings).values(setting('inner'));
          throw new Error('inner gives up');
        })
        .catch((error: Error) => error.message);
      await tx.insert(settings).values(setting('outer-after'));
      return inner;
    });
    expect(outcome).toBe('inner gives up');
    expect(await storedKeys(database)).toEqual(['outer', 'outer-after']);
  });

  it('started at once by concurrent requests each commit whole, and a write beside them is not undone', async () => {
    const database = await tempDatabase();
    const writeTwice = (key: string) =>
      database.db.transaction(async (tx) => {
        await tx.insert(settings).values(setting(key));
        await tx
          .update(settings)
          .set({ value: `${key} again` })
          .where(eq(settings.key, key));
      });
    const failing = database.db.transaction(async (tx) => {
      await tx.insert(settings).values(setting('undone'));
      await tx.select().from(settings);
      throw new Error('gives up');
    });
    const beside = (async () => {
      await Promise.resolve();
      await database.db.insert(settings).values(setting('beside'));
    })();
    const results = await Promise.allSettled([
      writeTwice('a'),
      writeTwice('b'),
      writeTwice('c'),
      failing,
      beside,
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(await storedKeys(database)).toEqual(['a', 'b', 'beside', 'c']);
  });
});

/** Starts answering on `port` by relaying every connection to the real server: the server "comes up". */
async function relay(port: number, target: URL): Promise<() => Promise<void>> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
}

// The SQLite start-up faults (locked, full, read-only files) are tested on real processes in server/faults.
describe.skipIf(testDialect() === 'sqlite')('waitForMigratedDatabase on PostgreSQL', () => {
  it('waits for a server that is not up yet, says why once, and starts when it answers', async () => {
    const real = new URL(await freshLocation());
    const port = await freeLoopbackPort();
    const location = new URL(real);
    location.port = String(port);

    const lines: string[] = [];
    const starting = waitForMigratedDatabase(location.toString(), {
      log: (line) => lines.push(line),
      retryMs: 50,
    });
    await expect.poll(() => lines.length).toBe(1);
    // Several more refused attempts (one every 50 ms) go by without another line.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(lines).toEqual([
      `vigil: cannot start yet: the database server cannot be reached (ECONNREFUSED) (${redactUrl(location.toString())}); trying again every 0.05 s`,
    ]);

    cleanups.push(await relay(port, real));
    const database = opened(await starting);
    expect(lines).toEqual([expect.any(String), 'vigil: the database takes writes now; starting']);
    expect(await appliedMigrationCount(database)).toBe(SHIPPED_MIGRATIONS);
  });
});

// Pragmas are SQLite's; PostgreSQL has its own settings and no busy timeout.
describe.skipIf(testDialect() === 'pg')('SQLite connections', () => {
  it('turn on WAL, foreign keys and a short busy timeout for serving (commands wait longer)', async () => {
    const dataDir = tempDir();
    const serving = opened(await openMigratedDatabase(dataDir));
    expect(serving.sqlite?.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(serving.sqlite?.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(serving.sqlite?.pragma('busy_timeout', { simple: true })).toBe(SERVING_BUSY_TIMEOUT_MS);
    const command = opened(openDatabase(dataDir));
    expect(command.sqlite?.pragma('busy_timeout', { simple: true })).toBe(5000);
  });
});
