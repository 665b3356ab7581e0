import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testClient } from 'hono/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSignedInApp, createTestApp, jsonRequest, readJson, TEST_DEFAULTS } from './test-app';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('GET /healthz', () => {
  it('is 503 until the scheduler runs, 200 while it ticks, 503 again when it stops', async () => {
    const before = await t.app.request('/healthz');
    expect(before.status).toBe(503);
    expect(await readJson(before)).toMatchObject({ status: 'unavailable', scheduler: { alive: false } });

    await t.scheduler.start();
    const live = await t.app.request('/healthz');
    expect(live.status).toBe(200);
    expect(await readJson(live)).toEqual({
      status: 'ok',
      database: { ok: true },
      scheduler: {
        alive: true,
        startedAt: t.clock.now().toISOString(),
        lastTickAt: t.clock.now().toISOString(),
        running: 0,
        concurrency: 8,
        roles: { schedule: true, work: true },
        backend: t.scheduler.queue.backend,
        queued: 0,
      },
    });

    await t.scheduler.stop();
    expect((await t.app.request('/healthz')).status).toBe(503);
  });

  it('is 503 naming the database when it is unreachable', async () => {
    await t.scheduler.start();
    await t.closeDatabase();
    const response = await t.app.request('/healthz');
    expect(response.status).toBe(503);
    expect(await readJson(response)).toMatchObject({
      status: 'unavailable',
      database: { ok: false, kind: 'closed', error: 'the database is closed' },
      scheduler: { queued: null },
    });
  });
});

/** Every migration this build ships for the test dialect: a fresh database has applied them all. */
function migrationCount(dialect: 'sqlite' | 'pg'): number {
  const journal = readFileSync(
    new URL(`../../migrations/${dialect}/meta/_journal.json`, import.meta.url),
    'utf8',
  );
  return (JSON.parse(journal) as { entries: unknown[] }).entries.length;
}

describe('GET /api/version and unknown paths', () => {
  it('reports the package version, the storage dialect and the schema version', async () => {
    const response = await t.app.request('/api/version');
    expect(response.status).toBe(200);
    expect(await readJson(response)).toEqual({
      name: 'vigil',
      version: '0.1.0',
      node: process.versions.node,
      storage: t.dialect,
      schemaVersion: migrationCount(t.dialect),
    });
  });

  it('answers unknown paths and methods with the error shape', async () => {
    const response = await t.app.request('/api/nothing-here');
    expect(response.status).toBe(404);
    expect(await readJson(response)).toEqual({
      error: { code: 'not_found', message: 'No route for GET /api/nothing-here' },
    });
    expect((await t.app.request('/api/overview', { method: 'DELETE' })).status).toBe(404);
  });
});

describe('dashboard', () => {
  it('serves the built dashboard for client routes and keeps /api answering JSON', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'vigil-dist-'));
    try {
      writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Vigil</title>');
      const app = await createSignedInApp({
        database: t.database,
        scheduler: t.scheduler,
        defaults: TEST_DEFAULTS,
        dashboardDir: dist,
      });
      const page = await app.request('/sites/3');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Vigil</title>');
      const api = await app.request('/api/unknown');
      expect(api.status).toBe(404);
      expect((await readJson(api)).error.code).toBe('not_found');
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});

describe('typed client (AppType)', () => {
  it('drives the API through hc with the route types', async () => {
    const client = testClient(t.app);
    const created = await client.api.sites.$post({ json: { host: 'typed.example.com', tags: ['eu'] } });
    expect(created.status).toBe(201);
    const site = await created.json();
    expect(site.host).toBe('typed.example.com');
    const fetched = await client.api.sites[':id'].$get({ param: { id: String(site.id) } });
    expect(fetched.status).toBe(200);
    const settings = await client.api.settings.$get();
    expect((await settings.json()).retentionDays).toBe(400);
    expect(
      (await t.app.request('/api/sites', jsonRequest('POST', { host: 'typed.example.com' }))).status,
    ).toBe(409);
  });
});
