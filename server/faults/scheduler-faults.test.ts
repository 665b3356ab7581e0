import BetterSqlite3 from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseFile } from '../db';
import { scans } from '../db/schema';
import { createTempDatabase } from '../db/temp-database';
import { createClock, TEST_DEFAULTS } from '../routes/test-app';
import { createScheduler } from '../scheduler/scheduler';
import { createScriptedScan } from '../scheduler/scripted-scan';
import { getSiteHistory } from '../services/history';
import { createSite } from '../services/sites';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('scheduler over a database that refuses writes', () => {
  it('hands a scan whose end could not be stored back to the queue, and stores it once the database takes writes', async () => {
    const database = createTempDatabase();
    const clock = createClock();
    const scripted = createScriptedScan();
    const lines: string[] = [];
    const scheduler = createScheduler({
      db: database.db,
      runScan: scripted.runScan,
      defaults: TEST_DEFAULTS,
      now: clock.now,
      random: () => 0.5,
      tickCron: null,
      log: (line) => lines.push(line),
    });
    cleanups.push(async () => {
      scripted.release();
      await scheduler.stop({ graceMs: 500 });
      database.remove();
    });
    const site = createSite({
      db: database.db,
      now: clock.now,
      defaults: TEST_DEFAULTS,
      input: { host: 'shop.example.com' },
    });
    scripted.hold();
    expect(scheduler.start()).toMatchObject({ enqueued: 1, started: 1 });
    const scanId = database.db.select({ id: scans.id }).from(scans).get()!.id;

    // Another process takes the write lock while the scan runs: its result cannot be stored.
    const other = new BetterSqlite3(databaseFile(database.dataDir));
    cleanups.push(() => {
      other.close();
    });
    other.exec('BEGIN IMMEDIATE');
    scripted.release();
    await until('the failed write', () => scheduler.status().running === 0);
    expect(lines).toContain(
      `vigil: could not record scan ${scanId}: the database is locked by another process; it runs again once the database takes writes`,
    );
    const stuck = () => database.db.select().from(scans).where(eq(scans.id, scanId)).get()!;
    expect(stuck()).toMatchObject({ state: 'running', attempts: 1 });
    expect(() => scheduler.tick()).toThrow();

    other.exec('ROLLBACK');
    scheduler.tick();
    await scheduler.drain();
    expect(lines).toContain('vigil: re-queued 1 scans whose results could not be stored');
    // The same row, scanned again and stored once; the refused write did not count as an attempt.
    expect(stuck()).toMatchObject({ state: 'done', outcome: 'ok', attempts: 1 });
    expect(scripted.calls).toHaveLength(2);
    const history = getSiteHistory({
      db: database.db,
      input: { siteId: site.id, limit: 10 },
    });
    expect(history.items.map((item) => item.kind === 'scan' && item.scanId)).toEqual([scanId]);
  });
});
