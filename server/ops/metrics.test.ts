import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { alertDeliveries, alertMails, incidents, scans } from '../db/schema';
import { testDialect } from '../db/temp-database';
import type { AppEnv } from '../routes/env';
import { createErrorHandler } from '../routes/error-handler';
import { createTestApp, readJson, TEST_DEFAULTS } from '../routes/test-app';
import type { ScanResult } from '../scan/types';
import type { RunScan } from '../scheduler/scheduler';
import { scanResultFor } from '../scheduler/scripted-scan';
import { createSite } from '../services/sites';
import { metricsRoutes } from './metrics.routes';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus';

const TOKEN = 'metrics-token-for-tests-0123456789';

let t: Awaited<ReturnType<typeof createTestApp>>;
afterEach(async () => {
  await t?.close();
});

/** /metrics as createApp mounts it, with a token given here instead of through the environment. */
function metricsApp(token: string | undefined) {
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(() => {}));
  app.use('*', async (c, next) => {
    c.set('ctx', { db: t.db, now: t.clock.now, defaults: TEST_DEFAULTS });
    c.set('scheduler', t.scheduler);
    await next();
  });
  app.route('/metrics', metricsRoutes({ db: t.db, token }));
  return app;
}

async function scrape(app: ReturnType<typeof metricsApp>): Promise<string> {
  const response = await app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one sample line, e.g. `vigil_scans_total{outcome="ok"}`. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

async function addSite(host: string) {
  return await createSite({ db: t.db, now: t.clock.now, defaults: TEST_DEFAULTS, input: { host } });
}

/** A scan function each test finishes by hand, host by host. */
function manualScans() {
  const waiting = new Map<string, (result: ScanResult) => void>();
  const runScan: RunScan = (job) =>
    new Promise((resolve) => {
      waiting.set(job.host, resolve);
    });
  return {
    runScan,
    /** Finishes the host's scan once the scheduler has started it. */
    async finish(host: string, durationMs = 120) {
      for (let turn = 0; !waiting.has(host); turn += 1) {
        if (turn > 1000) throw new Error(`${host} was never scanned`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      waiting.get(host)?.(scanResultFor(host, [], { durationMs }));
      waiting.delete(host);
    },
  };
}

describe('GET /metrics access', () => {
  it('does not exist while VIGIL_METRICS_TOKEN is unset', async () => {
    t = await createTestApp();
    const response = await t.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(404);
    expect(await readJson(response)).toEqual({
      error: { code: 'not_found', message: 'No route for GET /metrics' },
    });
  });

  it('answers only with the bearer token, in the Prometheus text format', async () => {
    t = await createTestApp();
    const app = metricsApp(TOKEN);
    const anonymous = await app.request('/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="vigil-metrics"');
    for (const authorization of [
      `Bearer ${TOKEN}x`,
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      TOKEN,
    ]) {
      expect((await app.request('/metrics', { headers: { authorization } })).status).toBe(401);
    }
    const response = await app.request('/metrics', { headers: { authorization: `bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const text = await response.text();
    for (const family of ['vigil_scans_total', 'vigil_scan_duration_seconds', 'vigil_scan_queue_depth']) {
      expect(text.match(new RegExp(`^# HELP ${family} `, 'gm'))).toHaveLength(1);
      expect(text.match(new RegExp(`^# TYPE ${family} `, 'gm'))).toHaveLength(1);
    }
  });
});

describe('GET /metrics values', () => {
  it('counts scans by outcome with their durations, and shows queue, sites, incidents and outbox', async () => {
    t = await createTestApp({ defaults: { scanConcurrency: 2 } });
    const app = metricsApp(TOKEN);
    for (const host of ['a.example.com', 'b.example.com', 'c.example.com', 'broken.example.com'])
      await addSite(host);
    t.scripted.hold();
    await t.scheduler.start();

    const busy = await scrape(app);
    expect(value(busy, 'vigil_scan_queue_depth')).toBe(2);
    expect(value(busy, 'vigil_scans_running')).toBe(2);
    expect(value(busy, 'vigil_scan_concurrency')).toBe(2);
    expect(value(busy, 'vigil_scheduler_up')).toBe(1);
    expect(value(busy, 'vigil_sites{enabled="true"}')).toBe(4);
    expect(value(busy, 'vigil_scans_total{outcome="ok"}')).toBe(0);

    t.scripted.release();
    await t.scheduler.drain();
    const done = await scrape(app);
    expect(value(done, 'vigil_scans_total{outcome="ok"}')).toBe(3);
    expect(value(done, 'vigil_scans_total{outcome="error"}')).toBe(1);
    expect(value(done, 'vigil_scans_total{outcome="unreachable"}')).toBe(0);
    // The scripted scans take 120 ms; the crashed one took no time on the test clock.
    expect(value(done, 'vigil_scan_duration_seconds_bucket{le="0.1"}')).toBe(1);
    expect(value(done, 'vigil_scan_duration_seconds_bucket{le="0.25"}')).toBe(4);
    expect(value(done, 'vigil_scan_duration_seconds_bucket{le="+Inf"}')).toBe(4);
    expect(value(done, 'vigil_scan_duration_seconds_count')).toBe(4);
    expect(value(done, 'vigil_scan_duration_seconds_sum')).toBeCloseTo(0.36);
    expect(value(done, 'vigil_scan_queue_depth')).toBe(0);

    const at = t.clock.now();
    const site = await addSite('d.example.com');
    await t.db.insert(incidents).values(
      (['critical', 'high', 'high'] as const).map((severity, index) => ({
        siteId: site.id,
        key: `key-${index}`,
        severity,
        status: 'open' as const,
        openedAt: at,
        firstSeenAt: at,
        lastNotifiedAt: at,
        updatedAt: at,
      })),
    );
    const [mail] = await t.db
      .insert(alertMails)
      .values({ kind: 'change', siteId: site.id, subject: 's', text: 't', html: 'h', createdAt: at })
      .returning({ id: alertMails.id });
    await t.db.insert(alertDeliveries).values(
      (['pending', 'sending', 'sent', 'failed'] as const).map((status, index) => ({
        mailId: mail!.id,
        address: `ops${index}@example.com`,
        messageId: `<m${index}@example.com>`,
        status,
        nextAttemptAt: at,
        createdAt: at,
      })),
    );
    const alerting = await scrape(app);
    expect(value(alerting, 'vigil_incidents_open{severity="critical"}')).toBe(1);
    expect(value(alerting, 'vigil_incidents_open{severity="high"}')).toBe(2);
    expect(value(alerting, 'vigil_incidents_open{severity="info"}')).toBe(0);
    expect(value(alerting, 'vigil_alert_outbox_backlog')).toBe(2);
    expect(value(alerting, 'vigil_alert_outbox_failed')).toBe(1);

    await t.scheduler.stop();
    expect(value(await scrape(app), 'vigil_scheduler_up')).toBe(0);
  });

  it('counts each scan that finishes while it runs once, in any order, and never goes backwards', async () => {
    const scanner = manualScans();
    t = await createTestApp({ runScan: scanner.runScan });
    await addSite('before.example.com');
    await t.scheduler.start();
    await scanner.finish('before.example.com');
    await t.scheduler.drain();
    await addSite('slow.example.com');
    await addSite('fast.example.com');
    expect(await t.scheduler.tick()).toMatchObject({ enqueued: 2, started: 2 });

    // Created now, as at server start: the scan already finished is not this process's to count.
    const app = metricsApp(TOKEN);
    expect(value(await scrape(app), 'vigil_scans_total{outcome="ok"}')).toBe(0);

    // The later scan finishes first, while the older one still runs.
    await scanner.finish('fast.example.com', 50);
    await vi.waitFor(async () => expect(value(await scrape(app), 'vigil_scans_total{outcome="ok"}')).toBe(1));
    await scanner.finish('slow.example.com', 4000);
    await t.scheduler.drain();
    const text = await scrape(app);
    expect(value(text, 'vigil_scans_total{outcome="ok"}')).toBe(2);
    expect(value(text, 'vigil_scan_duration_seconds_bucket{le="0.1"}')).toBe(1);
    expect(value(text, 'vigil_scan_duration_seconds_bucket{le="5"}')).toBe(2);
    expect(value(await scrape(app), 'vigil_scans_total{outcome="ok"}')).toBe(2);

    // Retention folding old scans away must not lower a counter.
    await t.db.delete(scans);
    expect(value(await scrape(app), 'vigil_scans_total{outcome="ok"}')).toBe(2);
  });

  // Only PostgreSQL commits ids out of order: SQLite lets one writer at a time take the next id.
  it.skipIf(testDialect() === 'sqlite')(
    'counts a scan whose transaction commits after a newer scan was counted',
    async () => {
      t = await createTestApp();
      const site = await addSite('a.example.com');
      const app = metricsApp(TOKEN);
      const at = t.clock.now();
      const finished = {
        siteId: site.id,
        trigger: 'manual' as const,
        state: 'done' as const,
        outcome: 'ok' as const,
        queuedAt: at,
        startedAt: at,
        finishedAt: at,
        durationMs: 300,
      };
      let inserted!: () => void;
      const insertedSlowly = new Promise<void>((resolve) => {
        inserted = resolve;
      });
      let commit!: () => void;
      const committing = new Promise<void>((resolve) => {
        commit = resolve;
      });
      // The counter starts before either scan exists.
      expect(value(await scrape(app), 'vigil_scans_total{outcome="ok"}')).toBe(0);
      // A worker whose transaction takes the lower id and commits last.
      const slowWorker = t.db.transaction(async (tx) => {
        const [older] = await tx.insert(scans).values(finished).returning({ id: scans.id });
        inserted();
        await committing;
        return older!.id;
      });
      try {
        await insertedSlowly;
        const [newer] = await t.db.insert(scans).values(finished).returning({ id: scans.id });
        expect(value(await scrape(app), 'vigil_scans_total{outcome="ok"}')).toBe(1);

        commit();
        expect(await slowWorker).toBeLessThan(newer!.id);
        expect(value(await scrape(app), 'vigil_scans_total{outcome="ok"}')).toBe(2);
        expect(value(await scrape(app), 'vigil_scans_total{outcome="ok"}')).toBe(2);
      } finally {
        // Its connection must go back to the pool, or the database cannot be dropped.
        commit();
        await slowWorker.catch(() => {});
      }
    },
  );
});
