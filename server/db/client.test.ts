import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  databaseFile,
  migrateDatabase,
  openDatabase,
  openMigratedDatabase,
  SERVING_BUSY_TIMEOUT_MS,
} from './client';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-client-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('migrateDatabase', () => {
  it('creates the schema once and is a no-op the second time', () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const first = migrateDatabase(dataDir);
    expect(first.file).toBe(databaseFile(dataDir));
    expect(first.applied).toBeGreaterThan(0);
    expect(migrateDatabase(dataDir).applied).toBe(0);

    const { db, close } = openDatabase(first.file);
    const tables = db
      .all<{ name: string }>(sql`select name from sqlite_master where type = 'table' order by name`)
      .map((row) => row.name);
    close();
    expect(tables).toEqual(
      expect.arrayContaining(['sites', 'site_tags', 'scans', 'finding_sets', 'settings']),
    );
  });
});

describe('openMigratedDatabase', () => {
  it('turns on WAL, foreign keys and a short busy timeout for serving (commands wait longer)', () => {
    const dataDir = tempDir();
    const { db, close } = openMigratedDatabase(dataDir);
    expect(db.get<{ journal_mode: string }>(sql`pragma journal_mode`)?.journal_mode).toBe('wal');
    expect(db.get<{ foreign_keys: number }>(sql`pragma foreign_keys`)?.foreign_keys).toBe(1);
    expect(db.get<{ timeout: number }>(sql`pragma busy_timeout`)?.timeout).toBe(SERVING_BUSY_TIMEOUT_MS);
    close();
    const command = openDatabase(databaseFile(dataDir));
    expect(command.db.get<{ timeout: number }>(sql`pragma busy_timeout`)?.timeout).toBe(5000);
    command.close();
  });
});
