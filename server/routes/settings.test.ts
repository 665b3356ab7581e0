import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, jsonRequest, readJson } from './test-app';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp({ defaults: { scanConcurrency: 4 } });
});
afterEach(async () => {
  await t.close();
});

describe('/api/settings', () => {
  it('shows the environment defaults, then stored changes over them', async () => {
    expect(await readJson(await t.app.request('/api/settings'))).toEqual({
      allowPrivate: false,
      retentionDays: 400,
      scanConcurrency: 4,
      defaultIntervalMinutes: 360,
    });
    const response = await t.app.request(
      '/api/settings',
      jsonRequest('PATCH', { scanConcurrency: 2, defaultIntervalMinutes: 60 }),
    );
    expect(response.status).toBe(200);
    expect(await readJson(response)).toMatchObject({
      scanConcurrency: 2,
      defaultIntervalMinutes: 60,
      retentionDays: 400,
    });

    const site = await readJson(
      await t.app.request('/api/sites', jsonRequest('POST', { host: 'a.example.com' })),
    );
    expect(site.intervalMinutes).toBe(60);
  });

  it('lets private addresses be registered once allowed globally', async () => {
    expect((await t.app.request('/api/sites', jsonRequest('POST', { host: '192.168.1.10' }))).status).toBe(
      400,
    );
    await t.app.request('/api/settings', jsonRequest('PATCH', { allowPrivate: true }));
    const created = await t.app.request('/api/sites', jsonRequest('POST', { host: '192.168.1.10' }));
    expect(created.status).toBe(201);
    expect((await readJson(created)).allowPrivate).toBe(false);
  });

  it('answers 400 for an empty patch, an out-of-range value or an unknown setting', async () => {
    for (const body of [
      {},
      { retentionDays: 0 },
      { scanConcurrency: 1000 },
      { theme: 'dark' },
      { allowPrivate: 'yes' },
    ]) {
      const response = await t.app.request('/api/settings', jsonRequest('PATCH', body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await readJson(response)).error.code).toBe('invalid_request');
    }
    expect((await readJson(await t.app.request('/api/settings'))).retentionDays).toBe(400);
  });
});
