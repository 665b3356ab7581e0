import { asc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Database, openMigratedDatabase } from '../db';
import { scans, sites } from '../db/schema';
import { createTempDatabase, testDialect } from '../db/temp-database';
import { createClock, TEST_DEFAULTS } from '../routes/test-app';
import { makeFinding } from '../scan/catalogue';
import type { Settings } from '../services/context';
import { getSiteHistory } from '../services/history';
import { countActiveScans, MAX_SCAN_ATTEMPTS, requestScan } from '../services/scan-queue';
import { updateSettings } from '../services/settings';
import { createSite, getSite } from '../services/sites';
import { createSqliteScanQueue, type ScanQueue } from './queue';
import { createScheduler, type RunScan, type Scheduler } from './scheduler';
import { createScriptedScan } from './scripted-scan';
import { createTestPgBossQueue } from './testing';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const onPostgres = testDialect() === 'pg';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  options: {
    defaults?: Partial<Settings>;
    runScan?: RunScan;
    scanTimeoutMs?: number;
    onScanRecorded?: (scanId: number) => void;
  } = {},
) {
  const database = await createTempDatabase();
  const clock = createClock();
  const scripted = createScriptedScan();
  const defaults = { ...TEST_DEFAULTS, ...options.defaults };
  const logs: string[] = [];
  const schedulers: Scheduler[] = [];
  const queues: ScanQueue[] = [];
  const random = () => 0.5;

  /** The queue `vigil serve` gives its scheduler: the scans table on SQLite, pg-boss on PostgreSQL. */
  const openQueue = async (db: Database['db']): Promise<ScanQueue> => {
    if (!onPostgres) return createSqliteScanQueue({ db, now: clock.now, random });
    const queue = await createTestPgBossQueue({
      db,
      databaseUrl: database.url,
      // Each scheduler stands for a process of its own.
      worker: `scheduler-test-${queues.length + 1}`,
      now: clock.now,
      log: (line) => logs.push(line),
    });
    queues.push(queue);
    return queue;
  };

  const scheduler = async (
    db: Database['db'] = database.db,
    runScan: RunScan = options.runScan ?? scripted.runScan,
    pollMs: number | null = null,
  ) => {
    const created = createScheduler({
      db,
      runScan,
      defaults,
      now: clock.now,
      random,
      tickCron: null,
      queue: await openQueue(db),
      pollMs,
      log: (line) => logs.push(line),
      ...(options.scanTimeoutMs ? { scanTimeoutMs: options.scanTimeoutMs } : {}),
      ...(options.onScanRecorded ? { onScanRecorded: options.onScanRecorded } : {}),
    });
    schedulers.push(created);
    return created;
  };
  cleanups.push(async () => {
    scripted.release();
    for (const created of schedulers) await created.stop({ graceMs: 500 });
    for (const queue of queues) await queue.close();
    await database.remove();
  });
  const ctx = { db: database.db, now: clock.now, defaults };
  const addSite = (host: string, extra: Partial<Parameters<typeof createSite>[0]['input']> = {}) =>
    createSite({ ...ctx, input: { host, ...extra } });
  const scanRows = () => database.db.select().from(scans).orderBy(asc(scans.id));
  return { database, clock, scripted, scheduler, ctx, addSite, scanRows, logs };
}

/** The database's own refusal of a second active scan for a site (the partial unique index). */
function isUniqueViolation(error: unknown): boolean {
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) messages.push(current.message);
  return messages.some((message) =>
    /UNIQUE constraint failed|duplicate key value violates unique/.test(message),
  );
}

describe('scheduler ticks', () => {
  it('scans due sites, then again only after their interval plus jitter', async () => {
    const { clock, scheduler, ctx, addSite, scanRows } = await setup();
    const a = await addSite('a.example.com');
    await addSite('b.example.com', { intervalMinutes: 30 });
    const run = await scheduler();

    expect(await run.start()).toMatchObject({ enqueued: 2, started: 2 });
    await run.drain();
    expect((await scanRows()).map((scan) => [scan.state, scan.outcome, scan.trigger])).toEqual([
      ['done', 'ok', 'schedule'],
      ['done', 'ok', 'schedule'],
    ]);
    // 6 h plus half (random 0.5) of min(10% of 6 h, 15 min).
    const site = await getSite({ ...ctx, input: { id: a.id } });
    expect(site.nextScanAt).toBe(new Date(clock.now().getTime() + 6 * HOUR + 7.5 * MINUTE).toISOString());
    // hsts.missing (high −25), csp.missing (medium −10), referrer-policy.missing (low −5).
    expect(site.lastScan).toMatchObject({ state: 'done', grade: 'C+', score: 60 });

    clock.advance(30 * MINUTE);
    expect((await run.tick()).enqueued).toBe(0);
    clock.advance(1.5 * MINUTE);
    expect((await run.tick()).enqueued).toBe(1);
    await run.drain();
    clock.advance(6 * HOUR);
    expect((await run.tick()).enqueued).toBe(2);
    await run.drain();
    expect(await scanRows()).toHaveLength(5);
  });

  it('never runs more scans at once than the concurrency setting', async () => {
    const { scheduler, scripted, ctx, addSite } = await setup();
    await updateSettings({ ...ctx, input: { scanConcurrency: 3 } });
    for (let index = 0; index < 20; index += 1) await addSite(`site-${index}.example.com`);
    scripted.hold();
    const run = await scheduler();
    expect(await run.start()).toMatchObject({ enqueued: 20, started: 3 });
    expect(await countActiveScans(ctx)).toEqual({ queued: 17, running: 3 });
    expect(run.status()).toMatchObject({ running: 3, concurrency: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(scripted.calls).toHaveLength(3);
    scripted.release();
    await run.drain();
    expect(scripted.maxRunning).toBe(3);
    expect(scripted.calls).toHaveLength(20);
    expect(await countActiveScans(ctx)).toEqual({ queued: 0, running: 0 });
  });

  it('never queues a second scan for a site that is still being scanned', async () => {
    const { clock, scheduler, scripted, ctx, addSite, scanRows, database } = await setup();
    const site = await addSite('a.example.com');
    scripted.hold();
    const run = await scheduler();
    await run.start();
    clock.advance(24 * HOUR);
    expect((await run.tick()).enqueued).toBe(0);
    const manual = await requestScan({ ...ctx, input: { siteId: site.id } });
    expect(manual.created).toBe(false);
    expect(manual.scan).toMatchObject({ state: 'running', trigger: 'schedule' });
    // The database itself refuses a second active scan for the site.
    const refused = await database.db
      .insert(scans)
      .values({ siteId: site.id, trigger: 'manual', state: 'queued', queuedAt: clock.now() })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(isUniqueViolation(refused), String(refused)).toBe(true);
    scripted.release();
    await run.drain();
    expect(await scanRows()).toHaveLength(1);
    expect(scripted.calls).toHaveLength(1);
  });

  it('puts a manual scan at the head of the queue', async () => {
    const { scheduler, scripted, ctx, addSite } = await setup({ defaults: { scanConcurrency: 1 } });
    await addSite('a.example.com');
    await addSite('b.example.com');
    await addSite('c.example.com');
    const run = await scheduler();
    scripted.hold();
    await run.start();
    const d = await addSite('d.example.com', { enabled: false });
    const manual = await requestScan({ ...ctx, input: { siteId: d.id } });
    expect(manual).toMatchObject({ created: true, scan: { state: 'queued', trigger: 'manual' } });
    // What the scan-now route's wake() does: a shared queue hears of the scan (a no-op for the scans table).
    await run.queue.dispatch();
    scripted.release();
    await run.drain();
    expect(scripted.calls.map((call) => call.host)).toEqual([
      'a.example.com',
      'd.example.com',
      'b.example.com',
      'c.example.com',
    ]);
  });

  it('skips disabled sites and drops their queued scheduled scans', async () => {
    const { scheduler, scripted, ctx, addSite, scanRows, database } = await setup({
      defaults: { scanConcurrency: 1 },
    });
    await addSite('a.example.com');
    const b = await addSite('b.example.com');
    await addSite('c.example.com', { enabled: false });
    scripted.hold();
    const run = await scheduler();
    expect((await run.start()).enqueued).toBe(2);
    await database.db.update(sites).set({ enabled: false }).where(eq(sites.id, b.id));
    scripted.release();
    await run.drain();
    expect(scripted.calls.map((call) => call.host)).toEqual(['a.example.com']);
    expect(await scanRows()).toHaveLength(1);
    expect((await getSite({ ...ctx, input: { id: b.id } })).lastScan).toBeNull();
  });

  it('records a scan function that throws or hangs as a failed scan and keeps going', async () => {
    const hang: RunScan = (job, signal) =>
      job.host.startsWith('hang.')
        ? new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))
        : createScriptedScan().runScan(job, signal);
    const { scheduler, addSite, scanRows, ctx, clock } = await setup({ runScan: hang, scanTimeoutMs: 50 });
    await addSite('broken.example.com');
    const hung = await addSite('hang.example.com');
    await addSite('fine.example.com');
    const run = await scheduler();
    await run.start();
    await run.drain();
    const byHost: Record<string, Awaited<ReturnType<typeof scanRows>>[number]> = {};
    for (const scan of await scanRows())
      byHost[(await getSite({ ...ctx, input: { id: scan.siteId } })).host] = scan;
    expect(byHost['broken.example.com']).toMatchObject({
      state: 'done',
      outcome: 'error',
      error: 'scan engine crashed on broken.example.com',
      grade: null,
    });
    expect(byHost['hang.example.com']).toMatchObject({
      state: 'done',
      outcome: 'error',
      error: 'Scan did not finish within 0.05 s',
    });
    expect(byHost['fine.example.com']).toMatchObject({ outcome: 'ok' });
    expect(Date.parse((await getSite({ ...ctx, input: { id: hung.id } })).nextScanAt)).toBeGreaterThan(
      clock.now().getTime() + 6 * HOUR,
    );
  });

  it('passes the global allow-private setting to every scan, the site flag to its own', async () => {
    const { scheduler, scripted, ctx, addSite } = await setup();
    const a = await addSite('a.example.com');
    await addSite('b.example.com', { allowPrivate: true });
    const run = await scheduler();
    await run.start();
    await run.drain();
    // Started together: the order they start in is the queue's (a pg-boss batch has none).
    expect([...scripted.calls].sort((x, y) => x.host.localeCompare(y.host))).toEqual([
      { host: 'a.example.com', allowPrivate: false },
      { host: 'b.example.com', allowPrivate: true },
    ]);
    await updateSettings({ ...ctx, input: { allowPrivate: true } });
    await requestScan({ ...ctx, input: { siteId: a.id } });
    await run.tick();
    await run.drain();
    expect(scripted.calls[2]).toEqual({ host: 'a.example.com', allowPrivate: true });
  });

  it('calls the after-scan hook once per stored scan and survives a hook that throws', async () => {
    const seen: number[] = [];
    const { scheduler, addSite, scanRows, logs } = await setup({
      onScanRecorded: (scanId) => {
        seen.push(scanId);
        if (seen.length === 1) throw new Error('alert engine down');
      },
    });
    await addSite('a.example.com');
    await addSite('broken.example.com');
    const run = await scheduler();
    await run.start();
    await run.drain();
    const rows = await scanRows();
    expect(seen.sort((x, y) => x - y)).toEqual(rows.map((scan) => scan.id));
    expect(logs.some((line) => line.includes('alert engine down'))).toBe(true);
    expect(rows.every((scan) => scan.state === 'done')).toBe(true);
  });

  it('reports liveness and the last tick', async () => {
    const { scheduler, clock } = await setup();
    const run = await scheduler();
    expect(run.status()).toMatchObject({ alive: false, startedAt: null, lastTickAt: null });
    await run.start();
    expect(run.status()).toMatchObject({ alive: true, lastTickAt: clock.now().toISOString() });
    await run.stop();
    expect(run.status().alive).toBe(false);
  });
});

describe('restart safety', () => {
  // Start-up recovery of what a crash left running is the SQLite queue's: on PostgreSQL another worker may
  // be running those scans, so leases decide (queue.test.ts: a dead worker's scan is retried after its
  // lease, its late result refused; a scan no worker can finish is dead-lettered).
  describe.skipIf(onPostgres)('after a crash (SQLite start-up recovery)', () => {
    it('re-queues a scan a crash left running and finishes it once, in the same row', async () => {
      const { database, scheduler, scripted, addSite, clock, logs } = await setup();
      const site = await addSite('a.example.com');
      scripted.hold();
      const crashed = await scheduler();
      await crashed.start();
      const [running] = await database.db.select().from(scans);
      expect(running).toMatchObject({ state: 'running', attempts: 1 });

      // The process dies: its database handle goes away with the scan still in flight.
      await database.close();
      const reopened = await openMigratedDatabase(database.dataDir);
      cleanups.push(() => reopened.close());
      const fresh = createScriptedScan();
      clock.advance(MINUTE);
      const restarted = await scheduler(reopened.db, fresh.runScan);
      expect(await restarted.start()).toMatchObject({ enqueued: 0, started: 1 });
      await restarted.drain();
      // The dead process's scan finishing late must not write anything.
      scripted.release();
      await vi.waitFor(() =>
        expect(logs.some((line) => line.includes(`could not record scan ${running!.id}`))).toBe(true),
      );

      const rows = await reopened.db.select().from(scans);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: running!.id, state: 'done', outcome: 'ok', attempts: 2 });
      expect(fresh.calls).toHaveLength(1);
      const history = await getSiteHistory({ db: reopened.db, input: { siteId: site.id, limit: 100 } });
      expect(history.items).toHaveLength(1);
      expect(logs).toContain('vigil: re-queued 1 interrupted scans, closed 0 as failed');
    });

    it('closes a scan interrupted too often as failed instead of looping', async () => {
      const { database, scheduler, addSite, clock } = await setup();
      const site = await addSite('a.example.com');
      await database.db.insert(scans).values({
        siteId: site.id,
        trigger: 'schedule',
        state: 'running',
        attempts: MAX_SCAN_ATTEMPTS,
        queuedAt: clock.now(),
        startedAt: clock.now(),
      });
      const run = await scheduler();
      await run.start();
      await run.drain();
      const rows = await database.db.select().from(scans);
      expect(rows[0]).toMatchObject({ state: 'done', outcome: 'error' });
      expect(rows[0]?.error).toContain('interrupted 3 times');
    });
  });

  it('stops gracefully: waits for short scans, hands long ones back for the next worker', async () => {
    const { database, scheduler, scripted, addSite } = await setup();
    await addSite('a.example.com');
    scripted.hold();
    const first = await scheduler();
    await first.start();
    expect(await first.stop({ graceMs: 50 })).toEqual({ finished: 0, requeued: 1 });
    expect((await database.db.select().from(scans))[0]).toMatchObject({
      state: 'queued',
      attempts: 0,
      startedAt: null,
    });
    expect(await first.tick()).toEqual({ enqueued: 0, started: 0, foldedScans: 0 });

    // The next worker takes the scan (pg-boss: once its retry delay has passed, found by polling as a
    // `vigil serve` worker does) and is asked to stop mid-scan.
    const second = await scheduler(undefined, undefined, onPostgres ? 100 : null);
    await second.start();
    await vi.waitFor(() => expect(second.status().running).toBe(1), { timeout: 10_000, interval: 50 });
    const stopping = second.stop({ graceMs: 5000 });
    scripted.release();
    expect(await stopping).toEqual({ finished: 1, requeued: 0 });
    expect((await database.db.select().from(scans))[0]).toMatchObject({ state: 'done', attempts: 1 });
  });
});

describe('retention from the tick', () => {
  it('folds scans older than the retention period into daily summaries once a day', async () => {
    const { database, scheduler, scripted, addSite, clock, ctx } = await setup();
    const site = await addSite('a.example.com', { intervalMinutes: 360 });
    const run = await scheduler();
    await run.start();
    await run.drain();
    // Four scans a day for 40 days; the findings change on day 10.
    for (let step = 1; step < 160; step += 1) {
      if (step === 40)
        scripted.setFindings('a.example.com', [makeFinding('hsts.missing', { evidence: 'no header' })]);
      clock.advance(6 * HOUR + 7.5 * MINUTE);
      await run.tick();
      await run.drain();
    }
    const countScans = async () => (await database.db.select({ id: scans.id }).from(scans)).length;
    const before = await countScans();
    expect(before).toBe(160);
    await updateSettings({ ...ctx, input: { retentionDays: 30 } });
    clock.advance(24 * HOUR);
    const report = await run.tick();
    expect(report.foldedScans).toBeGreaterThan(0);
    await run.drain();
    const after = await countScans();
    expect(after).toBe(before + 1 - report.foldedScans);

    const history = await getSiteHistory({ ...ctx, input: { siteId: site.id, limit: 5000 } });
    const days = history.items.filter((item) => item.kind === 'day');
    const kept = history.items.filter((item) => item.kind === 'scan');
    expect(kept).toHaveLength(after);
    expect(days.length).toBeGreaterThan(5);
    expect(days.reduce((sum, day) => sum + (day.kind === 'day' ? day.scans : 0), 0)).toBe(report.foldedScans);
    // Oldest first, folded days before kept scans, no overlap.
    const times = history.items.map((item) => Date.parse(item.at));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    // Paging with a cursor crosses from folded days to kept scans without losing or repeating a point.
    for (const limit of [1, 3, 7, days.length]) {
      const paged: typeof history.items = [];
      let cursor: string | undefined;
      do {
        const page = await getSiteHistory({ ...ctx, input: { siteId: site.id, limit, cursor } });
        paged.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(paged, `limit ${limit}`).toEqual(history.items);
    }
    // Not again within a day.
    clock.advance(HOUR);
    expect((await run.tick()).foldedScans).toBe(0);
  }, 120_000);
});
