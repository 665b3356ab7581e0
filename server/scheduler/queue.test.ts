import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../db';
import { createTempDatabase } from '../db/temp-database';
import { createClock, TEST_DEFAULTS } from '../routes/test-app';
import { makeFinding } from '../scan/catalogue';
import { getSiteHistory } from '../services/history';
import { MAX_SCAN_ATTEMPTS, requestScan } from '../services/scan-queue';
import { createSite, updateSite } from '../services/sites';
import { createSqliteScanQueue, type ScanQueue } from './queue';
import { createScheduler } from './scheduler';
import { createScriptedScan, scanResultFor } from './scripted-scan';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type QueueFactory = (deps: { db: Db; now: () => Date }) => ScanQueue;

function setup(makeQueue: QueueFactory) {
  const database = createTempDatabase();
  cleanups.push(() => database.remove());
  const clock = createClock();
  const ctx = { db: database.db, now: clock.now, defaults: TEST_DEFAULTS };
  const addSite = (host: string) => createSite({ ...ctx, input: { host } });
  const queue = () => makeQueue({ db: database.db, now: clock.now });
  return { ctx, clock, addSite, queue };
}

/**
 * What any ScanQueue must do, written against the interface alone so a second implementation (pg-boss,
 * ADR 0003) runs the same cases.
 */
function describeScanQueueContract(name: string, makeQueue: QueueFactory): void {
  describe(`ScanQueue contract: ${name}`, () => {
    it('queues each due site once, hands scans out manual-first, and reports its depth', () => {
      const { ctx, clock, addSite, queue: open } = setup(makeQueue);
      const queue = open();
      const first = addSite('first.example.com');
      clock.advance(MINUTE);
      const second = addSite('second.example.com');
      const disabled = addSite('off.example.com');
      updateSite({ ...ctx, input: { id: disabled.id, patch: { enabled: false } } });

      expect(queue.depth()).toEqual({ queued: 0, running: 0 });
      expect(queue.enqueueDue()).toBe(2);
      expect(queue.enqueueDue()).toBe(0);
      clock.advance(MINUTE);
      const manual = addSite('manual.example.com');
      requestScan({ ...ctx, input: { siteId: manual.id } });
      expect(queue.depth()).toEqual({ queued: 3, running: 0 });

      const claimed = [queue.claimNext(), queue.claimNext(), queue.claimNext()];
      expect(claimed.map((job) => job?.host)).toEqual([
        'manual.example.com',
        'first.example.com',
        'second.example.com',
      ]);
      expect(claimed.map((job) => job?.attempt)).toEqual([1, 1, 1]);
      expect(queue.claimNext()).toBeNull();
      expect(queue.depth()).toEqual({ queued: 0, running: 3 });
      expect(claimed.map((job) => job?.siteId)).toEqual([manual.id, first.id, second.id]);
    });

    it('stores a finished or failed scan once and moves the site on', () => {
      const { ctx, clock, addSite, queue: open } = setup(makeQueue);
      const queue = open();
      const good = addSite('good.example.com');
      const bad = addSite('bad.example.com');
      queue.enqueueDue();
      const jobs = [queue.claimNext()!, queue.claimNext()!];
      const goodJob = jobs.find((job) => job.siteId === good.id)!;
      const badJob = jobs.find((job) => job.siteId === bad.id)!;
      const result = scanResultFor('good.example.com', [makeFinding('hsts.missing', { evidence: 'none' })]);

      expect(queue.complete(goodJob.scanId, result)).toBe(true);
      expect(queue.complete(goodJob.scanId, result)).toBe(false);
      expect(queue.fail(badJob.scanId, 'engine crashed')).toBe(true);
      expect(queue.depth()).toEqual({ queued: 0, running: 0 });

      const goodHistory = getSiteHistory({ db: ctx.db, input: { siteId: good.id, limit: 10 } }).items;
      expect(goodHistory).toMatchObject([{ outcome: 'ok', grade: result.grade, score: result.score }]);
      const badHistory = getSiteHistory({ db: ctx.db, input: { siteId: bad.id, limit: 10 } }).items;
      expect(badHistory).toMatchObject([{ outcome: 'error' }]);
      // Not due again until its interval has passed.
      clock.advance(HOUR);
      expect(queue.enqueueDue()).toBe(0);
    });

    it('hands running scans back on shutdown without counting the attempt', () => {
      const { addSite, queue: open } = setup(makeQueue);
      const queue = open();
      addSite('a.example.com');
      queue.enqueueDue();
      const job = queue.claimNext()!;
      expect(queue.requeue([job.scanId])).toBe(1);
      expect(queue.requeue([job.scanId])).toBe(0);
      expect(queue.depth()).toEqual({ queued: 1, running: 0 });
      expect(queue.claimNext()).toMatchObject({ scanId: job.scanId, attempt: 1 });
    });

    it('after a crash re-queues what was running, and closes a scan that keeps crashing as an error', () => {
      const { ctx, addSite, queue: open } = setup(makeQueue);
      const site = addSite('a.example.com');
      const crashed = open();
      crashed.enqueueDue();
      let job = crashed.claimNext()!;
      for (let attempt = 1; attempt < MAX_SCAN_ATTEMPTS; attempt += 1) {
        // A new process over the same storage finds the scan still marked running.
        const restarted = open();
        expect(restarted.recoverInterrupted()).toEqual({ requeued: 1, abandoned: 0 });
        job = restarted.claimNext()!;
        expect(job.attempt).toBe(attempt + 1);
      }
      expect(open().recoverInterrupted()).toEqual({ requeued: 0, abandoned: 1 });
      expect(open().depth()).toEqual({ queued: 0, running: 0 });
      const history = getSiteHistory({ db: ctx.db, input: { siteId: site.id, limit: 10 } }).items;
      expect(history).toMatchObject([{ outcome: 'error' }]);
    });
  });
}

describeScanQueueContract('SQLite (scans table)', (deps) =>
  createSqliteScanQueue({ ...deps, random: () => 0.5 }),
);

describe('the scheduler and its queue', () => {
  it('scans only what the queue it is given hands out', async () => {
    const { addSite, ctx, clock } = setup(createSqliteScanQueue);
    addSite('eu.example.com');
    addSite('us.example.com');
    const shared = createSqliteScanQueue({ db: ctx.db, now: clock.now });
    // A worker bound to one region: the seam a pg-boss queue with region labels plugs into.
    const euOnly: ScanQueue = {
      ...shared,
      claimNext: () => {
        const job = shared.claimNext();
        if (job && !job.host.startsWith('eu.')) {
          shared.requeue([job.scanId]);
          return null;
        }
        return job;
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

    expect(scheduler.start()).toMatchObject({ enqueued: 2, started: 1 });
    await scheduler.drain();
    expect(scripted.calls.map((call) => call.host)).toEqual(['eu.example.com']);
    expect(shared.depth()).toEqual({ queued: 1, running: 0 });
  });
});
