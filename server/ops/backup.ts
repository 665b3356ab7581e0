import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { databaseFile, isPostgresUrl, redactUrl } from '../db';
import { AppError } from '../errors';
import { readColumn, readValue } from './sqlite-file';

/**
 * Backup and restore of the SQLite file through SQLite's online backup API: a consistent snapshot while
 * the server keeps writing, never a file copy. A PostgreSQL installation uses pg_dump and pg_restore
 * (ADR 0003): both commands refuse a PostgreSQL URL and say so.
 */

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations/sqlite', import.meta.url));
const MIGRATIONS_TABLE = '__drizzle_migrations';
const SQLITE_MAGIC = 'SQLite format 3\u0000';
/** Pages per backup step: all of them, so the copy is one read transaction and never restarts under writes. */
const ALL_PAGES = 0x7fffffff;
/** How long backup waits for the server's write lock before reading. */
const BUSY_TIMEOUT_MS = 5000;

/** What a verified Vigil database holds. */
export interface DatabaseSummary {
  file: string;
  bytes: number;
  /** Migrations applied: the schema version /api/version reports. */
  schemaVersion: number;
  sites: number;
  scans: number;
}

export interface RestoreReport {
  /** The database the server opens (`<dataDir>/vigil.db`), now holding the backup. */
  file: string;
  /** Where the database that was there before now is; null when there was none. */
  previousFile: string | null;
  restored: DatabaseSummary;
}

function fileStamp(at: Date): string {
  return at
    .toISOString()
    .replaceAll(':', '-')
    .replace(/\.\d+Z$/, 'Z');
}

function startsLikeSqlite(file: string): boolean {
  const header = Buffer.alloc(SQLITE_MAGIC.length);
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, header, 0, header.length, 0);
    return read === header.length && header.toString('latin1') === SQLITE_MAGIC;
  } finally {
    closeSync(fd);
  }
}

function isBusy(error: unknown): boolean {
  return error instanceof Error && 'code' in error && String(error.code).startsWith('SQLITE_BUSY');
}

/** Where the operations guide explains backups, named in every refusal so the reader knows where to go. */
const BACKUP_DOCS = 'docs/operations.md#backup-and-restore';

/** Backup and restore copy SQLite files; a PostgreSQL database is the operator's to dump with its own tools. */
function refusePostgres(location: string, command: 'backup' | 'restore'): void {
  if (!isPostgresUrl(location)) return;
  const instead =
    command === 'backup'
      ? 'back it up with pg_dump (pg_dump --format=custom --file=vigil.dump "$URL")'
      : 'restore a pg_dump backup with pg_restore, Vigil stopped (pg_restore --clean --if-exists --dbname="$URL" vigil.dump)';
  throw new AppError(
    'invalid_request',
    `vigil ${command} works on SQLite files; this database is PostgreSQL (${redactUrl(location)}): ${instead}. See ${BACKUP_DOCS}`,
  );
}

function notVigil(file: string, reason: string): AppError {
  return new AppError('invalid_request', `${file} is not a usable Vigil database: ${reason}`);
}

/**
 * Checks that a file is a whole, uncorrupted Vigil database this version can run: SQLite's integrity
 * check passes and every migration it has applied is one this build ships. Opens it read-only.
 */
export function inspectDatabase(file: string): DatabaseSummary {
  if (!existsSync(file) || !statSync(file).isFile())
    throw new AppError('invalid_request', `${file}: no such file`);
  if (!startsLikeSqlite(file)) throw notVigil(file, 'not an SQLite database');
  const client = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    let problems: string[];
    try {
      problems = readColumn(client, 'pragma integrity_check').map((line) => String(line));
    } catch (error) {
      throw notVigil(
        file,
        `integrity check failed (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    if (problems.join() !== 'ok')
      throw notVigil(file, `integrity check failed: ${problems.slice(0, 3).join('; ')}`);
    const hasMigrations = readValue(
      client,
      "select count(*) from sqlite_master where type = 'table' and name = ?",
      MIGRATIONS_TABLE,
    );
    if (!hasMigrations) throw notVigil(file, 'it has no Vigil migrations table');
    const applied = readColumn(client, `select hash from "${MIGRATIONS_TABLE}" order by created_at`).map(
      (hash) => String(hash),
    );
    const known = new Set(readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).map((m) => m.hash));
    if (applied.length === 0) throw notVigil(file, 'no migration was ever applied to it');
    const unknown = applied.filter((hash) => !known.has(hash)).length;
    if (unknown > 0)
      throw notVigil(
        file,
        `${unknown} of its ${applied.length} migrations are unknown to this Vigil (made by a newer version? upgrade first)`,
      );
    return {
      file,
      bytes: statSync(file).size,
      schemaVersion: applied.length,
      sites: Number(readValue(client, 'select count(*) from sites')),
      scans: Number(readValue(client, 'select count(*) from scans')),
    };
  } finally {
    client.close();
  }
}

/** SQLite's online backup of a whole database in one step: one read transaction, never restarted by writers. */
async function onlineCopy(source: BetterSqlite3.Database, target: string): Promise<void> {
  await source.backup(target, { progress: () => ALL_PAGES });
}

/** Opens a file as a database by itself: no -wal or -shm beside it, so it can be copied anywhere as is. */
function makeSelfContained(file: string): void {
  const client = new BetterSqlite3(file, { fileMustExist: true });
  try {
    client.pragma('journal_mode = DELETE');
  } finally {
    client.close();
  }
}

/**
 * `vigil backup <file>`: an online backup of `<dataDir>/vigil.db` taken in one read transaction (the
 * server keeps writing meanwhile), verified, then moved into place, so `file` is never half written.
 */
export async function backupDatabase(input: {
  /** The data directory; a PostgreSQL URL is refused. */
  location: string;
  to: string;
  overwrite?: boolean;
}): Promise<DatabaseSummary> {
  refusePostgres(input.location, 'backup');
  const source = databaseFile(input.location);
  const target = resolve(input.to);
  if (!existsSync(source)) throw new AppError('invalid_request', `No Vigil database at ${source}`);
  if (existsSync(target) && !input.overwrite)
    throw new AppError('invalid_request', `${target} exists; pass --force to replace it`);
  if (existsSync(target) && realpathSync(target) === realpathSync(source))
    throw new AppError('invalid_request', 'The backup file cannot be the database itself');
  if (!existsSync(dirname(target)))
    throw new AppError('invalid_request', `${dirname(target)}: no such directory`);

  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  const client = new BetterSqlite3(source, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    await onlineCopy(client, partial);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    client.close();
  }
  try {
    makeSelfContained(partial);
    const summary = inspectDatabase(partial);
    renameSync(partial, target);
    return { ...summary, file: target };
  } finally {
    rmSync(partial, { force: true });
  }
}

/**
 * Takes the database file for this process alone, or refuses when anything else has it open. SQLite
 * holds a shared lock on a WAL database for as long as a connection is open (a running server, a
 * backup), so an exclusive lock is only granted when nobody else uses it; the kernel drops the locks of
 * a crashed process, so there is no stale lock file to clean up.
 */
function lockExclusively(file: string): BetterSqlite3.Database {
  const inUse = new AppError(
    'conflict',
    `${file} is in use by another process (a running vigil serve or backup?); stop the server first`,
  );
  const client = new BetterSqlite3(file, { fileMustExist: true, timeout: 0 });
  try {
    client.pragma('locking_mode = EXCLUSIVE');
    // Leaving WAL needs the exclusive lock; it also folds the WAL in, so the file alone is the whole database.
    if (client.pragma('journal_mode = DELETE', { simple: true }) !== 'delete') throw inUse;
    return client;
  } catch (error) {
    client.close();
    throw isBusy(error) ? inUse : error;
  }
}

/**
 * `vigil restore <file>`: verifies the backup, takes the live database exclusively (refusing while a
 * server holds it), keeps a copy of it as `vigil.db.before-restore-<time>` and writes the backup into
 * the live file. The server migrates it at its next start if the backup is older.
 */
export async function restoreDatabase(input: {
  /** The data directory; a PostgreSQL URL is refused. */
  location: string;
  from: string;
  now?: () => Date;
}): Promise<RestoreReport> {
  refusePostgres(input.location, 'restore');
  const from = resolve(input.from);
  const live = resolve(databaseFile(input.location));
  if (existsSync(live) && existsSync(from) && realpathSync(from) === realpathSync(live))
    throw new AppError('invalid_request', 'The backup file is the live database itself');
  const verified = inspectDatabase(from);
  mkdirSync(dirname(live), { recursive: true });
  const stamp = fileStamp((input.now ?? (() => new Date()))());
  const staging = `${live}.restoring-${stamp}`;
  const restored = (): RestoreReport['restored'] => ({ ...verified, file: live, bytes: statSync(live).size });
  try {
    const source = new BetterSqlite3(from, { readonly: true, fileMustExist: true });
    try {
      await onlineCopy(source, staging);
    } finally {
      source.close();
    }
    makeSelfContained(staging);
    if (!existsSync(live)) {
      renameSync(staging, live);
      return { file: live, previousFile: null, restored: restored() };
    }

    const previousFile = `${live}.before-restore-${stamp}`;
    const lock = lockExclusively(live);
    try {
      await onlineCopy(lock, previousFile);
      // Left by a crashed server; nobody else has the file open, and it is no longer in WAL mode.
      rmSync(`${live}-shm`, { force: true });
    } finally {
      lock.close();
    }
    // Into the live file itself rather than a rename: whoever opens the path from now on waits for this
    // write and then reads the restored database, never a file that was moved away under it.
    const staged = new BetterSqlite3(staging, { readonly: true, fileMustExist: true });
    try {
      await onlineCopy(staged, live);
    } catch (error) {
      if (!isBusy(error)) throw error;
      throw new AppError(
        'conflict',
        `${live} was opened by another process during the restore; it is unchanged`,
      );
    } finally {
      staged.close();
    }
    return { file: live, previousFile, restored: restored() };
  } finally {
    rmSync(staging, { force: true });
  }
}
