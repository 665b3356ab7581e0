import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../db';
import { scans, sites } from '../db/schema';
import { createTempDatabase, testDialect } from '../db/temp-database';
import { createClock, TEST_DEFAULTS } from '../routes/test-app';
import { makeFinding } from '../scan/catalogue';
import { getSiteHistory } from '../services/history';
import { GAVE_UP_PREFIX, MAX_SCAN_ATTEMPTS, requestScan } from '../services/scan-queue';
import { createSite, updateSite } from '../services/sites';
import { type ClaimedScan, createSqliteScanQueue, type ScanQueue } from './queue';
import { createScheduler } from './scheduler';
import { createScriptedScan, scanResultFor } from './scripted-scan';
import { createTestPgBossQueue } from './testing';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface QueueDeps {
  db: Db;
  now: () => Date;
  url: string;
  /** A distinct worker name per queue, as separate processes have. */
  worker: string;
  region?: string | null;
}
type QueueFactory = (deps: QueueDeps) => Promise<ScanQueue>;

async function setup(makeQueue: QueueFactory) {
  const database = await createTempDatabase();
  cleanups.push(() => database.remove());
  const clock = createClock(new Date());
  const ctx = { db: database.db, now: clock.now, defaults: TEST_DEFAULTS };
  const addSite = (host: string) => createSite({ ...ctx, input: { host } });
  let workers = 0;
  const open = async (options: { region?: string | null } = {}) => {
    workers += 1;
    const queue = await makeQueue({
      db: database.db,
      now: clock.now,
      url: database.url,
      worker: `test-worker-${workers}`,
      region: options.region ?? null,
    });
    cleanups.push(() => queue.close());
    return queue;
  };
  return { ctx, clock, addSite, open };
}

/** Claims until `count` scans are held or `ms` pass (a pg-boss retry becomes visible after its delay). */
async function claimWithin(queue: ScanQueue, count: number, ms: number): Promise<ClaimedScan[]> {
  const held: ClaimedScan[] = [];
  const deadline = Date.now() + ms;
  while (held.length < count && Date.now() < deadline) {
    held.push(...(await queue.claim(count - held.length)));
    if (held.length < count) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return held;
}

/** What any ScanQueue must do, written against the interface alone: both implementations run these cases. */
function describeScanQueueContract(name: string, makeQueue: QueueFactory): void {
  describe(`ScanQueue contract: ${name}`, () => {
    it('queues each due site once, hands scans out manual-first, and reports its depth', async () => {
      const { ctx, clock, addSite, open } = await setup(makeQueue);
      const queue = await open();
      const first = await addSite('first.example.com');
      clock.advance(MINUTE);
      const second = await addSite('second.example.com');
      const disabled = await addSite('off.example.com');
      await updateSite({ ...ctx, input: { id: disabled.id, patch: { enabled: false } } });

      expect(await queue.depth()).toEqual({ queued: 0, running: 0, retrying: 0 });
      expect(await queue.enqueueDue()).toBe(2);
      expect(await queue.enqueueDue()).toBe(0);
      clock.advance(MINUTE);
      const manual = await addSite('manual.example.com');
      await requestScan({ ...ctx, input: { siteId: manual.id } });
      await queue.dispatch();
      expect(await queue.depth()).toEqual({ queued: 3, running: 0, retrying: 0 });

      const claimed = [...(await queue.claim(1)), ...(await queue.claim(2))];
      expect(claimed.map((job) => job.host)).toEqual([
        'manual.example.com',
        'first.example.com',
        'second.example.com',
      ]);
      expect(claimed.map((job) => job.attempt)).toEqual([1, 1, 1]);
      expect(await queue.claim(5)).toEqual([]);
      expect(await queue.depth()).toEqual({ queued: 0, running: 3, retrying: 0 });
      expect(claimed.map((job) => job.siteId)).toEqual([manual.id, first.id, second.id]);
    });

    it('stores a finished or failed scan once and moves the site on', async () => {
      const { ctx, clock, addSite, open } = await setup(makeQueue);
      const queue = await open();
      const good = await addSite('good.example.com');
      const bad = await addSite('bad.example.com');
      await queue.enqueueDue();
      const jobs = await queue.claim(2);
      const goodJob = jobs.find((job) => job.siteId === good.id)!;
      const badJob = jobs.find((job) => job.siteId === bad.id)!;
      const result = scanResultFor('good.example.com', [makeFinding('hsts.missing', { evidence: 'none' })]);

      expect(await queue.complete(goodJob, result)).toBe(true);
      expect(await queue.complete(goodJob, result)).toBe(false);
      expect(await queue.fail(badJob, 'engine crashed')).toBe(true);
      expect(await queue.depth()).toEqual({ queued: 0, running: 0, retrying: 0 });

      const goodHistory = (await getSiteHistory({ db: ctx.db, input: { siteId: good.id, limit: 10 } })).items;
      expect(goodHistory).toMatchObject([{ outcome: 'ok', grade: result.grade, score: result.score }]);
      const badHistory = (await getSiteHistory({ db: ctx.db, input: { siteId: bad.id, limit: 10 } })).items;
      expect(badHistory).toMatchObject([{ outcome: 'error' }]);
      // Not due again until its interval has passed.
      clock.advance(HOUR);
      expect(await queue.enqueueDue()).toBe(0);
    });

    it('takes a handed-back scan again without counting the attempt', async () => {
      const { addSite, open } = await setup(makeQueue);
      const queue = await open();
      await addSite('a.example.com');
      await queue.enqueueDue();
      const [job] = await queue.claim(1);
      expect(await queue.handBack([job!])).toBe(1);
      expect(await queue.handBack([job!])).toBe(0);
      const [again] = await claimWithin(queue, 1, 5_000);
      expect(again).toMatchObject({ scanId: job!.scanId, attempt: 1 });
    });
  });
}

if (testDialect() === 'sqlite') {
  describeScanQueueContract('SQLite (scans table)', async (deps) =>
    createSqliteScanQueue({ ...deps, random: () => 0.5 }),
  );

  describe('SQLite queue after a crash', () => {
    it('re-queues what was running, and gives up on a scan that keeps crashing', async () => {
      const makeQueue: QueueFactory = async (deps) => createSqliteScanQueue(deps);
      const { ctx, addSite, open } = await setup(makeQueue);
      const site = await addSite('a.example.com');
      const crashed = await open();
      await crashed.enqueueDue();
      let [job] = await crashed.claim(1);
      for (let attempt = 1; attempt < MAX_SCAN_ATTEMPTS; attempt += 1) {
        // A new process over the same storage finds the scan still marked running.
        const restarted = await open();
        expect(await restarted.recoverInterrupted()).toEqual({ requeued: 1, abandoned: 0 });
        [job] = await restarted.claim(1);
        expect(job?.attempt).toBe(attempt + 1);
      }
      const last = await open();
      expect(await last.recoverInterrupted()).toEqual({ requeued: 0, abandoned: 1 });
      expect(await last.depth()).toEqual({ queued: 0, running: 0, retrying: 0 });
      const history = (await getSiteHistory({ db: ctx.db, input: { siteId: site.id, limit: 10 } })).items;
      expect(history).toMatchObject([{ outcome: 'error' }]);
      expect(await last.deadLetters(10)).toMatchObject([{ siteId: site.id, attempts: MAX_SCAN_ATTEMPTS }]);
    });
  });
}

if (testDialect() === 'pg') {
  /** Short leases and retries so a test sees pg-boss expire, retry and dead-letter within seconds. */
  const pgBoss =
    (overrides: { leaseSeconds?: number; retryLimit?: number } = {}): QueueFactory =>
    (deps) =>
      createTestPgBossQueue({
        db: deps.db,
        databaseUrl: deps.url,
        worker: deps.worker,
        region: deps.region ?? null,
        now: deps.now,
        ...overrides,
      });

  describeScanQueueContract('PostgreSQL (pg-boss)', pgBoss());

  describe('pg-boss queue across workers', () => {
    it('gives each queued scan to exactly one of several workers', async () => {
      const { addSite, open } = await setup(pgBoss());
      const workers = [await open(), await open(), await open()];
      for (let index = 0; index < 30; index += 1) await addSite(`site${index}.example.com`);
      expect(await workers[0]!.enqueueDue()).toBe(30);
      const claimed = (await Promise.all(workers.map((worker) => claimWithin(worker, 30, 300)))).flat();
      expect(claimed).toHaveLength(30);
      expect(new Set(claimed.map((job) => job.scanId)).size).toBe(30);
    });

    it("retries a dead worker's scan after its lease, and refuses the dead worker's late result", async () => {
      const { ctx, addSite, open } = await setup(pgBoss({ leaseSeconds: 1 }));
      const dead = await open();
      const alive = await open();
      const site = await addSite('a.example.com');
      await dead.enqueueDue();
      const [lost] = await dead.claim(1);
      // The lease runs out; the scheduler's next enqueueDue expires it and the retry comes back after its delay.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await alive.enqueueDue();
      const [taken] = await claimWithin(alive, 1, 5_000);
      expect(taken).toMatchObject({ scanId: lost!.scanId, attempt: 2 });
      const result = scanResultFor('a.example.com', []);
      expect(await dead.complete(lost!, result)).toBe(false);
      expect(await alive.complete(taken!, result)).toBe(true);
      const history = (await getSiteHistory({ db: ctx.db, input: { siteId: site.id, limit: 10 } })).items;
      expect(history).toHaveLength(1);
    });

    it('dead-letters a scan no worker can finish and lists it', async () => {
      const { ctx, addSite, open } = await setup(pgBoss({ retryLimit: 0 }));
      const queue = await open();
      const site = await addSite('a.example.com');
      await queue.enqueueDue();
      const [job] = await queue.claim(1);
      await queue.retryLater(job!, 'disk full');
      expect(await queue.settleDeadLetters()).toBe(1);
      expect(await queue.depth()).toMatchObject({ queued: 0, running: 0 });
      const [letter] = await queue.deadLetters(10);
      expect(letter).toMatchObject({ scanId: job!.scanId, siteId: site.id });
      const rows = await ctx.db.select().from(scans).where(eq(scans.siteId, site.id));
      expect(rows).toMatchObject([
        { state: 'done', outcome: 'error', error: expect.stringContaining(GAVE_UP_PREFIX) },
      ]);
    });

    it('gives a site that requires a region only to workers of that region', async () => {
      const { ctx, addSite, open } = await setup(pgBoss());
      const anywhere = await open();
      const eu = await open({ region: 'eu' });
      const site = await addSite('eu-only.example.com');
      await updateSite({ ...ctx, input: { id: site.id, patch: { region: 'eu' } } });
      expect((await ctx.db.select().from(sites).where(eq(sites.id, site.id)))[0]?.region).toBe('eu');
      await addSite('any.example.com');
      await anywhere.enqueueDue();
      expect((await claimWithin(anywhere, 2, 500)).map((job) => job.host)).toEqual(['any.example.com']);
      expect((await claimWithin(eu, 1, 500)).map((job) => job.host)).toEqual(['eu-only.example.com']);
    });
  });
}

describe('the scheduler and its queue', () => {
  it('scans only what the queue it is given hands out', async () => {
    const { addSite, ctx, clock } = await setup(async (deps) => createSqliteScanQueue(deps));
    await addSite('eu.example.com');
    await addSite('us.example.com');
    const shared = createSqliteScanQueue({ db: ctx.db, now: clock.now });
    // A worker that takes only some scans, handing the others straight back.
    const euOnly: ScanQueue = {
      ...shared,
      async claim(max) {
        const claimed = await shared.claim(max);
        const others = claimed.filter((job) => !job.host.startsWith('eu.'));
        await shared.handBack(others);
        return claimed.filter((job) => job.host.startsWith('eu.'));
      },
    };
    const scripted = createScriptedScan();
    const scheduler = createScheduler({
      db: ctx.db,
      runScan: scripted.runScan,
      defaults: TEST_DEFAULTS,
      now: clock.now,
      tickCron: null,
      queue: euOnly,
    });
    cleanups.push(async () => {
      await scheduler.stop({ graceMs: 100 });
    });

    expect(await scheduler.start()).toMatchObject({ enqueued: 2, started: 1 });
    await scheduler.drain();
    expect(scripted.calls.map((call) => call.host)).toEqual(['eu.example.com']);
    expect(await shared.depth()).toEqual({ queued: 1, running: 0, retrying: 0 });
  });
});
