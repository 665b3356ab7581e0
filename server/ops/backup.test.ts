import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseFile, openDatabase, openMigratedDatabase } from '../db';
import { testDialect } from '../db/temp-database';
import { TEST_DEFAULTS } from '../routes/test-app';
import { createSite } from '../services/sites';
import { backupDatabase, inspectDatabase, restoreDatabase } from './backup';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ops-'));
  dirs.push(dir);
  return dir;
}

/** A data directory whose database holds the given sites. */
async function dataDirWith(hosts: string[]): Promise<string> {
  const dataDir = join(tempDir(), 'data');
  const database = await openMigratedDatabase(dataDir);
  for (const host of hosts)
    await createSite({ db: database.db, now: () => new Date(), defaults: TEST_DEFAULTS, input: { host } });
  await database.close();
  return dataDir;
}

const AT = new Date('2026-11-25T10:00:00.000Z');

// SQLite's online backup of the data directory's file: the PostgreSQL suite has no file to copy.
describe.skipIf(testDialect() === 'pg')('on SQLite', () => {
  describe('backupDatabase', () => {
    it('writes a verified, self-contained copy and will not overwrite one unless asked', async () => {
      const dataDir = await dataDirWith(['a.example.com', 'b.example.com']);
      const file = join(tempDir(), 'backup.db');
      const summary = await backupDatabase({ location: dataDir, to: file });
      expect(summary).toMatchObject({ file, sites: 2, scans: 0 });
      expect(summary.schemaVersion).toBeGreaterThan(0);
      expect(inspectDatabase(file)).toEqual(summary);

      await expect(backupDatabase({ location: dataDir, to: file })).rejects.toThrow(/exists; pass --force/);
      const more = await dataDirWith(['c.example.com']);
      expect(await backupDatabase({ location: more, to: file, overwrite: true })).toMatchObject({ sites: 1 });
    });

    it('says so when there is no database or no such directory', async () => {
      await expect(
        backupDatabase({ location: join(tempDir(), 'none'), to: join(tempDir(), 'b.db') }),
      ).rejects.toThrow(/No Vigil database/);
      const dataDir = await dataDirWith([]);
      await expect(
        backupDatabase({ location: dataDir, to: join(tempDir(), 'missing', 'b.db') }),
      ).rejects.toThrow(/no such directory/);
    });
  });

  describe('inspectDatabase', () => {
    it('refuses a database made by a newer Vigil (a migration this build does not know)', async () => {
      const dataDir = await dataDirWith(['a.example.com']);
      const client = new BetterSqlite3(databaseFile(dataDir));
      client
        .prepare('insert into __drizzle_migrations (hash, created_at) values (?, ?)')
        .run('f'.repeat(64), Date.now());
      client.close();
      expect(() => inspectDatabase(databaseFile(dataDir))).toThrow(/1 of its \d+ migrations are unknown/);
    });

    it('refuses a database no migration was ever applied to', async () => {
      const dataDir = join(tempDir(), 'data');
      const file = databaseFile(dataDir);
      await openDatabase(dataDir).close();
      const client = new BetterSqlite3(file);
      client.exec(
        'create table __drizzle_migrations (id integer primary key, hash text, created_at numeric)',
      );
      client.close();
      expect(() => inspectDatabase(file)).toThrow(/no migration was ever applied/);
    });
  });

  describe('restoreDatabase', () => {
    it('restores into an empty data directory with nothing to keep aside', async () => {
      const backup = join(tempDir(), 'backup.db');
      await backupDatabase({ location: await dataDirWith(['a.example.com']), to: backup });
      const dataDir = join(tempDir(), 'fresh');
      const report = await restoreDatabase({ location: dataDir, from: backup, now: () => AT });
      expect(report).toMatchObject({ previousFile: null, restored: { sites: 1 } });
      expect(readdirSync(dataDir)).toEqual(['vigil.db']);
      expect(inspectDatabase(databaseFile(dataDir)).sites).toBe(1);
    });

    it('keeps the replaced database aside, whole, and the restored one opens and migrates', async () => {
      const backup = join(tempDir(), 'backup.db');
      await backupDatabase({ location: await dataDirWith(['a.example.com']), to: backup });
      const dataDir = await dataDirWith(['x.example.com', 'y.example.com', 'z.example.com']);
      const inode = statSync(databaseFile(dataDir)).ino;
      const report = await restoreDatabase({ location: dataDir, from: backup, now: () => AT });
      // Written into the same file, not renamed over it: a process opening the path meanwhile gets the new data.
      expect(statSync(databaseFile(dataDir)).ino).toBe(inode);
      expect(report.previousFile).toBe(`${databaseFile(dataDir)}.before-restore-2026-11-25T10-00-00Z`);
      expect(inspectDatabase(report.previousFile!).sites).toBe(3);
      const reopened = await openMigratedDatabase(dataDir);
      await reopened.close();
      expect(inspectDatabase(databaseFile(dataDir)).sites).toBe(1);
    });

    it('refuses while another connection holds the database, even an idle one', async () => {
      const backup = join(tempDir(), 'backup.db');
      await backupDatabase({ location: await dataDirWith(['a.example.com']), to: backup });
      const dataDir = await dataDirWith(['x.example.com']);
      const server = await openMigratedDatabase(dataDir);
      try {
        await expect(restoreDatabase({ location: dataDir, from: backup })).rejects.toThrow(
          /is in use by another process/,
        );
        expect(readdirSync(dataDir).some((name) => name.includes('restor'))).toBe(false);
      } finally {
        await server.close();
      }
      expect(existsSync(databaseFile(dataDir))).toBe(true);
      expect(inspectDatabase(databaseFile(dataDir)).sites).toBe(1);
    });

    it('refuses to restore the live database onto itself', async () => {
      const dataDir = await dataDirWith(['a.example.com']);
      await expect(restoreDatabase({ location: dataDir, from: databaseFile(dataDir) })).rejects.toThrow(
        /live database itself/,
      );
    });
  });
});

describe('on PostgreSQL', () => {
  const url = 'postgres://vigil:s3cret@127.0.0.1:5432/vigil';

  it('backup refuses, pointing to pg_dump and the operations guide, without the password', async () => {
    const file = join(tempDir(), 'backup.db');
    const refused = backupDatabase({ location: url, to: file });
    await expect(refused).rejects.toMatchObject({ code: 'invalid_request' });
    const message = await refused.catch((error: Error) => error.message);
    expect(message).toContain('vigil backup works on SQLite files; this database is PostgreSQL');
    expect(message).toContain('pg_dump --format=custom');
    expect(message).toContain('docs/operations.md#backup-and-restore');
    expect(message).toContain('postgres://vigil:***@127.0.0.1:5432/vigil');
    expect(message).not.toContain('s3cret');
    expect(existsSync(file)).toBe(false);
  });

  it('restore refuses, pointing to pg_restore and the operations guide, and reads nothing', async () => {
    const refused = restoreDatabase({ location: url, from: join(tempDir(), 'absent.db') });
    await expect(refused).rejects.toMatchObject({ code: 'invalid_request' });
    const message = await refused.catch((error: Error) => error.message);
    // Refused before looking at the file: the absent backup is not what it complains about.
    expect(message).not.toContain('no such file');
    expect(message).toContain('vigil restore works on SQLite files; this database is PostgreSQL');
    expect(message).toContain('pg_restore --clean --if-exists');
    expect(message).toContain('docs/operations.md#backup-and-restore');
    expect(message).not.toContain('s3cret');
  });
});
