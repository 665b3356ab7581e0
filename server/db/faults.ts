import { accessSync, constants, statfsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from './client';

/**
 * Storage faults: the database file locked by another process, its disk full, the file read-only or
 * failing, the PostgreSQL server down or refusing. They are the operator's to fix, not bugs: the API answers 503 and /healthz names them.
 */

export type StorageFaultKind =
  | 'locked'
  | 'full'
  | 'read-only'
  | 'io'
  | 'cannot-open'
  | 'corrupt'
  | 'closed'
  | 'unreachable';

export interface StorageFault {
  kind: StorageFaultKind;
  /** What is wrong, for a person: no SQL, no stack. */
  message: string;
}

const MESSAGES: Record<StorageFaultKind, string> = {
  locked: 'the database is locked by another process',
  full: 'the disk holding the database is full',
  'read-only': 'the database is read-only',
  io: 'the database file cannot be read or written (disk I/O error)',
  'cannot-open': 'the database file cannot be opened',
  corrupt: 'the database file is corrupt',
  closed: 'the database is closed',
  unreachable: 'the database server cannot be reached',
};

/** SQLite result codes (extended codes share the primary's prefix) and the fault each one is. */
const KIND_BY_CODE: [prefix: string, kind: StorageFaultKind][] = [
  ['SQLITE_BUSY', 'locked'],
  ['SQLITE_LOCKED', 'locked'],
  ['SQLITE_FULL', 'full'],
  ['SQLITE_READONLY', 'read-only'],
  ['SQLITE_IOERR', 'io'],
  ['SQLITE_CANTOPEN', 'cannot-open'],
  ['SQLITE_CORRUPT', 'corrupt'],
  ['SQLITE_NOTADB', 'corrupt'],
  // PostgreSQL SQLSTATEs: connection exceptions, the server starting or shutting down, out of room.
  ['08', 'unreachable'],
  ['57P0', 'unreachable'],
  ['53100', 'full'],
  ['25006', 'read-only'],
  ['55P03', 'locked'],
];

/** File-system errors met before SQLite is involved (creating the data directory, checking the files). */
const KIND_BY_ERRNO: Record<string, StorageFaultKind> = {
  EACCES: 'read-only',
  EPERM: 'read-only',
  EROFS: 'read-only',
  ENOSPC: 'full',
  EDQUOT: 'full',
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  ETIMEDOUT: 'unreachable',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
};

function isSqlState(code: string, prefix: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code) && code.startsWith(prefix);
}

function faultOf(kind: StorageFaultKind, detail?: string): StorageFault {
  return { kind, message: detail ? `${MESSAGES[kind]} (${detail})` : MESSAGES[kind] };
}

/** The storage fault behind an error (Drizzle wraps SQLite's error as its cause), or null for any other error. */
export function storageFault(error: unknown): StorageFault | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = 'code' in current ? String(current.code) : '';
    const match = KIND_BY_CODE.find(([prefix]) =>
      prefix.startsWith('SQLITE_')
        ? code === prefix || code.startsWith(`${prefix}_`)
        : isSqlState(code, prefix),
    );
    if (match) return faultOf(match[1]);
    const errnoKind = KIND_BY_ERRNO[code];
    if (errnoKind) return faultOf(errnoKind, code);
    // better-sqlite3's words for a handle used after close().
    if (current instanceof TypeError && current.message.includes('database connection is not open'))
      return faultOf('closed');
    // node-postgres's words for a pool used after end(), and for a connection attempt that timed out.
    if (current.message === 'Cannot use a pool after calling end on the pool') return faultOf('closed');
    if (current.message.startsWith('timeout exceeded when trying to connect')) return faultOf('unreachable');
    current = current.cause;
  }
  return null;
}

export type DatabaseHealth = { ok: true } | { ok: false; kind: StorageFaultKind; error: string };

/** Below this, the next growth of the WAL or the file fails: report the disk as full before it does. */
export const MIN_FREE_BYTES = 1024 * 1024;
/** How long the health probe waits for the write lock before it calls the database locked. */
const LOCK_PROBE_MS = 250;

function unwritable(file: string): string | null {
  try {
    accessSync(file, constants.W_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? null : `${basename(file)}: ${code}`;
  }
}

function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  // Root may use the blocks reserved for it; anyone else only what is available.
  return (process.getuid?.() === 0 ? stats.bfree : stats.bavail) * stats.bsize;
}

/** Takes and drops the write lock, waiting briefly: fails when another process holds it. */
function probeWriteLock(client: BetterSqlite3.Database): void {
  if (client.inTransaction) return;
  const previous = client.pragma('busy_timeout', { simple: true });
  client.pragma(`busy_timeout = ${LOCK_PROBE_MS}`);
  try {
    client.exec('BEGIN IMMEDIATE');
    client.exec('ROLLBACK');
  } finally {
    client.pragma(`busy_timeout = ${Number(previous)}`);
  }
}

/**
 * Can the database take a write now? A read says nothing (WAL readers go on while the disk is full or
 * another process holds the lock), so this checks the files' write access, the free space and the lock.
 */
export async function checkDatabaseHealth(database: Database): Promise<DatabaseHealth> {
  const fail = (fault: StorageFault): DatabaseHealth => ({
    ok: false,
    kind: fault.kind,
    error: fault.message,
  });
  try {
    if (!database.sqlite) {
      // PostgreSQL guards its own disk and locks; what we can tell is whether it answers and takes writes.
      const result = await database.pool?.query<{ ro: string }>(
        "select current_setting('transaction_read_only') as ro",
      );
      if (result?.rows[0]?.ro === 'on')
        return fail(faultOf('read-only', 'the server is a read-only standby'));
      return { ok: true };
    }
    const client = database.sqlite;
    client.prepare('select 1').get();
    if (client.readonly) return fail(faultOf('read-only', 'opened without write access'));
    if (!client.memory) {
      const file = client.name;
      const refused = [file, `${file}-wal`, `${file}-shm`].map(unwritable).find(Boolean);
      if (refused) return fail(faultOf('read-only', refused));
      const free = freeBytes(dirname(file));
      if (free < MIN_FREE_BYTES) return fail(faultOf('full', `${Math.floor(free / 1024)} KiB free`));
    }
    probeWriteLock(client);
    return { ok: true };
  } catch (error) {
    return fail(
      storageFault(error) ?? { kind: 'io', message: error instanceof Error ? error.message : String(error) },
    );
  }
}
