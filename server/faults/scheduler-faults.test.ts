import BetterSqlite3 from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseFile } from '../db';
import { scans } from '../db/schema';
import { createTempDatabase, type TempDatabase, testDialect } from '../db/temp-database';
import { createClock, TEST_DEFAULTS } from '../routes/test-app';
import { createSqliteScanQueue, type ScanQueue } from '../scheduler/queue';
import { createScheduler } from '../scheduler/scheduler';
import { createScriptedScan } from '../scheduler/scripted-scan';
import { createTestPgBossQueue } from '../scheduler/testing';
import { getSiteHistory } from '../services/history';
import { createSite } from '../services/sites';

const onPostgres = testDialect() === 'pg';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How long a PostgreSQL write waits for a lock before it fails (SQLite's serving busy timeout is 250 ms). */
const LOCK_TIMEOUT = '200ms';

/**
 * Another process holding the write lock on the scans table until released: SQLite's database-wide write
 * lock, or a PostgreSQL session's EXCLUSIVE table lock (reads go on, writes wait and time out).
 */
async function holdWriteLock(database: TempDatabase): Promise<{ release(): Promise<void> }> {
  if (!onPostgres) {
    const other = new BetterSqlite3(databaseFile(database.dataDir));
    other.exec('BEGIN IMMEDIATE');
    let held = true;
    const release = async () => {
      if (held) other.exec('ROLLBACK');
      held = false;
      if (other.open) other.close();
    };
    cleanups.push(release);
    return { release };
  }
  const other = new pg.Client({ connectionString: database.url });
  await other.connect();
  await other.query('begin');
  await other.query('lock table scans in exclusive mode');
  let held = true;
  const release = async () => {
    if (!held) return;
    held = false;
    await other.query('rollback');
    await other.end();
  };
  cleanups.push(release);
  return { release };
}

describe('scheduler over a database that refuses writes', () => {
  it('hands a scan whose end could not be stored back to the queue, and stores it once the database takes writes', async () => {
    const database = await createTempDatabase();
    cleanups.push(() => database.remove());
    if (onPostgres) {
      // Before the pool's first connection: the setting applies to sessions opened from now on.
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query(`alter database "${admin.database}" set lock_timeout = '${LOCK_TIMEOUT}'`);
      await admin.end();
    }
    const clock = createClock();
    const scripted = createScriptedScan();
    const lines: string[] = [];
    const random = () => 0.5;
    const queue: ScanQueue = onPostgres
      ? await createTestPgBossQueue({
          db: database.db,
          databaseUrl: database.url,
          worker: 'faults-test-worker',
          now: clock.now,
        })
      : createSqliteScanQueue({ db: database.db, now: clock.now, random });
    const scheduler = createScheduler({
      db: database.db,
      runScan: scripted.runScan,
      defaults: TEST_DEFAULTS,
      now: clock.now,
      random,
      tickCron: null,
      queue,
      log: (line) => lines.push(line),
    });
    cleanups.push(async () => {
      scripted.release();
      await scheduler.stop({ graceMs: 500 });
      await queue.close();
    });
    const site = await createSite({
      db: database.db,
      now: clock.now,
      defaults: TEST_DEFAULTS,
      input: { host: 'shop.example.com' },
    });
    scripted.hold();
    expect(await scheduler.start()).toMatchObject({ enqueued: 1, started: 1 });
    const [queued] = await database.db.select({ id: scans.id }).from(scans);
    const scanId = queued!.id;

    // Another process takes the write lock while the scan runs: its result cannot be stored.
    const lock = await holdWriteLock(database);
    scripted.release();
    await until('the failed write', () => scheduler.status().running === 0);
    expect(lines).toContain(
      `vigil: could not record scan ${scanId}: the database is locked by another process; it runs again once the database takes writes`,
    );
    const stuck = async () => (await database.db.select().from(scans).where(eq(scans.id, scanId)))[0];
    expect(await stuck()).toMatchObject({ state: 'running', attempts: 1 });
    const handedBack = 'vigil: handed 1 scans whose results could not be stored back to the queue';

    if (onPostgres) {
      // pg-boss keeps its jobs in tables of its own: the scan goes back to it (a retry, after its delay) at once.
      await scheduler.tick();
      expect(lines).toContain(handedBack);
      await lock.release();
    } else {
      // The scans table is the queue: handing the scan back is itself a write, and waits for the lock.
      await expect(scheduler.tick()).rejects.toThrow();
      expect(lines).not.toContain(handedBack);
      await lock.release();
      await scheduler.tick();
      expect(lines).toContain(handedBack);
    }
    await until('the scan stored', async () => {
      await scheduler.tick();
      await scheduler.drain();
      return (await stuck())?.state === 'done';
    });
    // The same row, scanned again and stored once. On SQLite the refused write did not count as an attempt;
    // a pg-boss retry is one (its retry limit bounds how long a failing database keeps a scan going).
    expect(await stuck()).toMatchObject({ state: 'done', outcome: 'ok', attempts: onPostgres ? 2 : 1 });
    expect(scripted.calls).toHaveLength(2);
    const history = await getSiteHistory({
      db: database.db,
      input: { siteId: site.id, limit: 10 },
    });
    expect(history.items.map((item) => item.kind === 'scan' && item.scanId)).toEqual([scanId]);
  });
});
