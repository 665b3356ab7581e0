import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAdminAuthorization } from '../auth/testing';
import { type Fleet, SITE_PRESETS, startFleet } from '../testing/fleet';
import {
  type ApiAnswer,
  api,
  spawnVigilProcess,
  startVigilProcess,
  until,
  type VigilProcess,
} from './vigil-process';

/**
 * The SQLite faults an operator meets, each under a real `vigil serve` process scanning the fixture fleet:
 * the write lock held by another process, the disk full (a tmpfs of its own), the files refusing writes
 * while it runs (the immutable flag: EPERM from the kernel, even for root) and a database it may not write
 * at start-up (run as `nobody`). Each must give a clear 503, say so on /healthz or in its log, lose no
 * scan, never crash, and recover by itself once the fault is gone.
 */

/** The unprivileged user the start-up test runs the server as. */
const NOBODY = 65534;

let fleet: Fleet;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  fleet = await startFleet({
    shop: SITE_PRESETS.hardened,
    debug: SITE_PRESETS.debug,
    leaky: SITE_PRESETS['leaked-files'],
    offline: SITE_PRESETS.offline,
    slow: SITE_PRESETS['dns-timeout'],
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await fleet?.close();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startVigil(dataDir: string): Promise<VigilProcess> {
  const vigil = await startVigilProcess({ dataDir, fleet });
  cleanups.push(() => vigil.kill());
  return vigil;
}

/** A small tmpfs of its own (needs root); null where mounting is not allowed. */
function mountTmpfs(sizeMb: number): string | null {
  const dir = tempDir('vigil-fault-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch {
    return null;
  }
  cleanups.push(() => {
    execFileSync('umount', ['-l', dir]);
  });
  return dir;
}

/** Writes a file until the disk refuses more; removing it frees the disk again. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  // The last partial chunk may have left a few KiB; a second pass takes them.
  const tail = openSync(file, 'a');
  try {
    for (;;) writeSync(tail, Buffer.alloc(512, 1));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(tail);
  }
}

/**
 * Makes files refuse writes at the kernel (the immutable flag: write(2) fails with EPERM even for root, as
 * on a file system gone read-only) and returns how to undo it; null where the flag is not supported.
 */
function makeImmutable(files: string[]): (() => void) | null {
  try {
    execFileSync('chattr', ['+i', ...files], { stdio: 'pipe' });
  } catch {
    return null;
  }
  const undo = () => {
    execFileSync('chattr', ['-i', ...files], { stdio: 'pipe' });
  };
  cleanups.push(undo);
  return undo;
}

/** What another client does at a quiet moment: fold the WAL into the file and truncate it, so the next write must grow a file. */
function truncateWal(file: string): void {
  const client = new BetterSqlite3(file);
  try {
    client.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    client.close();
  }
}

async function scanState(vigil: VigilProcess, scanId: number): Promise<string> {
  return (await api(vigil, `/api/scans/${scanId}`)).body.state;
}

/** Registers the fleet's sites and waits for the first round of scans. */
async function importFleet(vigil: VigilProcess): Promise<void> {
  const hosts = fleet.names().map((name) => fleet.host(name));
  const imported = await api(vigil, '/api/sites/import', { text: hosts.join('\n') });
  expect(imported.status).toBe(200);
  await until('the first round of scans', async () => {
    const { body } = await api(vigil, '/api/overview');
    return body.items.every((item: { latest: unknown }) => item.latest) && body.fleet.running === 0
      ? true
      : undefined;
  });
}

/** The one error shape, a 503, saying what is wrong in words a person can act on. */
function expectUnavailable(answer: ApiAnswer, reason: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(503);
  expect(Object.keys(answer.body)).toEqual(['error']);
  expect(answer.body.error.code).toBe('unavailable');
  expect(answer.body.error.message).toMatch(reason);
  expect(JSON.stringify(answer.body)).not.toMatch(/\bat .*\.ts:\d+|Failed query|SqliteError/);
}

/** Another process holding SQLite's write lock until released. */
async function holdWriteLock(file: string): Promise<{ release(): Promise<void> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
    process.stdin.resume();`;
  const child: ChildProcess = spawn(process.execPath, ['-e', script, file], {
    cwd: process.cwd(),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', () => resolve());
  });
  child.removeAllListeners('exit');
  const release = async () => {
    if (child.exitCode !== null) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    child.stdin!.end();
    await done;
  };
  cleanups.push(release);
  return { release };
}

describe('SQLite locked by another process', () => {
  it('answers 503 naming the lock, keeps serving reads, and recovers by itself when released', async () => {
    const dataDir = tempDir('vigil-fault-lock-');
    const vigil = await startVigil(dataDir);
    await importFleet(vigil);

    const lock = await holdWriteLock(join(dataDir, 'vigil.db'));
    // Long enough for the scheduler to run into the lock several times.
    for (let round = 0; round < 6; round += 1) {
      const health = await api(vigil, '/healthz');
      // A lock costs each write a quarter second, not the whole server its responsiveness.
      expect(health.ms).toBeLessThan(2000);
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({
        status: 'unavailable',
        database: { ok: false, kind: 'locked', error: 'the database is locked by another process' },
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const created = await api(vigil, '/api/sites', { json: { host: 'new.example.com' } });
    expectUnavailable(created, /^Database unavailable: the database is locked by another process$/);
    const scanNow = await api(vigil, `/api/sites/1/scan`, { method: 'POST' });
    expectUnavailable(scanNow, /locked/);
    // Reads go on: the dashboard still shows the fleet.
    const overview = await api(vigil, '/api/overview');
    expect(overview.status).toBe(200);
    expect(overview.body.total).toBe(fleet.names().length);
    expect(vigil.exit).toBeNull();

    await lock.release();
    await until(
      'healthz back to 200',
      async () => ((await api(vigil, '/healthz')).status === 200 ? true : undefined),
      15_000,
    );
    const site = await api(vigil, '/api/sites', {
      json: { host: fleet.host('shop').replace('shop', 'later') },
    });
    expect(site.status).toBe(201);
    const requested = await api(vigil, `/api/sites/1/scan`, { method: 'POST' });
    expect(requested.status).toBe(202);
    await until('the scan asked for after the lock', async () => {
      const { body } = await api(vigil, `/api/scans/${requested.body.id}`);
      return body.state === 'done' ? true : undefined;
    });
    expect(vigil.lines).toContain('vigil: scheduler tick failed: the database is locked by another process');
    expect(vigil.lines.some((line) => /^\s+at /.test(line))).toBe(false);
    expect(await vigil.stop()).toBe(0);
  });
});

describe('SQLite on a full disk', () => {
  it('answers 503 naming the full disk, loses no scan, and recovers by itself when space is freed', async (ctx) => {
    const mount = mountTmpfs(64);
    if (!mount) return ctx.skip('mounting a tmpfs needs root');
    const dataDir = join(mount, 'data');
    const vigil = await startVigil(dataDir);
    await importFleet(vigil);
    const slowId = (await api(vigil, '/api/sites?q=slow')).body.items[0].id;

    // A scan in flight when the disk fills: its result cannot be stored.
    const inFlight = await api(vigil, `/api/sites/${slowId}/scan`, { method: 'POST' });
    expect(inFlight.status).toBe(202);
    await until('the slow scan to run', async () =>
      (await scanState(vigil, inFlight.body.id)) === 'running' ? true : undefined,
    );
    truncateWal(join(dataDir, 'vigil.db'));
    const filler = join(mount, 'filler');
    fillDisk(filler);

    const health = await api(vigil, '/healthz');
    expect(health.status).toBe(503);
    expect(health.body.database).toMatchObject({ ok: false, kind: 'full' });
    expect(health.body.database.error).toMatch(/^the disk holding the database is full \(\d+ KiB free\)$/);
    expectUnavailable(
      await api(vigil, '/api/sites', { json: { host: 'new.example.com' } }),
      /^Database unavailable: the disk holding the database is full$/,
    );
    await until('the slow scan to end while the disk is full', () =>
      vigil.lines.some((line) => line.startsWith(`vigil: could not record scan ${inFlight.body.id}`))
        ? true
        : undefined,
    );
    expect((await api(vigil, '/api/overview')).status).toBe(200);
    expect(vigil.exit).toBeNull();

    rmSync(filler);
    await until(
      'healthz back to 200',
      async () => ((await api(vigil, '/healthz')).status === 200 ? true : undefined),
      15_000,
    );
    // The scan whose result was lost to the full disk runs again instead of staying "running" for ever.
    await until(
      'the interrupted scan to finish',
      async () => ((await scanState(vigil, inFlight.body.id)) === 'done' ? true : undefined),
      30_000,
    );
    const scan = (await api(vigil, `/api/scans/${inFlight.body.id}`)).body;
    expect(scan).toMatchObject({ siteId: slowId, state: 'done', outcome: 'error' });
    expect(scan.error).toContain('DNS');
    const history = (await api(vigil, `/api/sites/${slowId}/history`)).body.items;
    expect(history.map((item: { scanId: number }) => item.scanId)).toEqual([
      history[0].scanId,
      inFlight.body.id,
    ]);
    expect((await api(vigil, '/api/sites', { json: { host: 'new.example.com' } })).status).toBe(201);
    expect(await vigil.stop()).toBe(0);
  });
});

describe('SQLite file turned read-only under the running server', () => {
  it('answers 503, /healthz names the read-only file, no scan is lost, and it recovers when writable again', async (ctx) => {
    const dataDir = tempDir('vigil-fault-readonly-');
    const vigil = await startVigil(dataDir);
    await importFleet(vigil);
    const slowId = (await api(vigil, '/api/sites?q=slow')).body.items[0].id;
    const inFlight = await api(vigil, `/api/sites/${slowId}/scan`, { method: 'POST' });
    await until('the slow scan to run', async () =>
      (await scanState(vigil, inFlight.body.id)) === 'running' ? true : undefined,
    );

    // Not the -shm file: it is memory-mapped, and a mapping that cannot be written is a SIGBUS, not an error.
    const file = join(dataDir, 'vigil.db');
    const restore = makeImmutable([file, `${file}-wal`]);
    if (!restore) return ctx.skip('the immutable flag needs root and a file system that supports it');

    const health = await api(vigil, '/healthz');
    expect(health.status).toBe(503);
    expect(health.body.database).toEqual({
      ok: false,
      kind: 'read-only',
      error: 'the database is read-only (vigil.db: EPERM)',
    });
    expectUnavailable(
      await api(vigil, '/api/sites', { json: { host: 'new.example.com' } }),
      /^Database unavailable: the database file cannot be read or written \(disk I\/O error\)$/,
    );
    await until('the slow scan to end while the file is read-only', () =>
      vigil.lines.some((line) => line.startsWith(`vigil: could not record scan ${inFlight.body.id}:`))
        ? true
        : undefined,
    );
    expect((await api(vigil, '/api/overview')).status).toBe(200);
    expect(vigil.exit).toBeNull();

    restore();
    await until('healthz back to 200', async () =>
      (await api(vigil, '/healthz')).status === 200 ? true : undefined,
    );
    await until('the interrupted scan to finish', async () =>
      (await scanState(vigil, inFlight.body.id)) === 'done' ? true : undefined,
    );
    expect((await api(vigil, '/api/sites', { json: { host: 'new.example.com' } })).status).toBe(201);
    expect(await vigil.stop()).toBe(0);
    const check = new BetterSqlite3(file, { readonly: true });
    try {
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      check.close();
    }
  });
});

describe('SQLite read-only at start-up (the server runs as an unprivileged user)', () => {
  it('waits, saying why, instead of exiting into a restart loop, and starts by itself once the files are writable', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('running the server as another user needs root');
    const dataDir = tempDir('vigil-fault-startup-');
    // The database as root left it (a restore or a copy made as root); nobody may read it, not write it.
    const authorization = await seedAdminAuthorization(dataDir);
    chmodSync(dataDir, 0o755);
    const vigil = await spawnVigilProcess({
      dataDir,
      fleet,
      authorization,
      user: { uid: NOBODY, gid: NOBODY },
    });
    cleanups.push(() => vigil.kill());

    const waiting = await until('the reason it waits', () => {
      if (vigil.exit) throw new Error(`vigil serve exited (${vigil.exit.code}):\n${vigil.lines.join('\n')}`);
      return vigil.lines.find((line) => line.startsWith('vigil: cannot start yet: '));
    });
    expect(waiting).toMatch(/^vigil: cannot start yet: the database (is read-only|file cannot be opened)/);
    expect(waiting).toContain(join(dataDir, 'vigil.db'));
    // Still there a few retries later, and not repeating itself in the log.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(vigil.exit).toBeNull();
    expect(vigil.lines.filter((line) => line.startsWith('vigil: cannot start yet: '))).toEqual([waiting]);

    execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dataDir]);
    await vigil.listening(20_000);
    expect(vigil.lines).toContain('vigil: the database takes writes now; starting');
    expect((await api(vigil, '/healthz')).status).toBe(200);
    expect((await api(vigil, '/api/sites', { json: { host: fleet.host('shop') } })).status).toBe(201);
    expect(await vigil.stop()).toBe(0);
  });
});
