import { afterEach, describe, expect, it } from 'vitest';
import { createSmtpMailer } from '../alerts/mailer';
import {
  type AlertWorld,
  createAlertWorld,
  DEBUG_FINDING,
  MAIL_FROM,
  PUBLIC_URL,
} from '../alerts/testing/alert-world';
import { createSignedInApp, jsonRequest, readJson, TEST_DEFAULTS } from './test-app';

const HOST = 'shop.example.test';
const worlds: AlertWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
});

/** The real app over an alert world whose shop has just had DEBUG switched on (one open incident, one mail). */
async function setup() {
  const w = await createAlertWorld();
  worlds.push(w);
  const mailer = createSmtpMailer({ url: w.smtp.url, from: MAIL_FROM });
  const app = await createSignedInApp({
    database: w.database,
    scheduler: w.scheduler,
    defaults: TEST_DEFAULTS,
    now: w.clock.now,
    dashboardDir: null,
    mail: { mailer, mailFrom: MAIL_FROM, publicUrl: PUBLIC_URL },
  });
  await w.addRecipient({ email: 'ops@example.test' });
  const siteId = await w.addSite({ host: HOST, intervalMinutes: 60 });
  const otherId = await w.addSite({ host: 'blog.example.test', intervalMinutes: 60 });
  await w.scheduledScan(siteId);
  await w.scheduledScan(otherId);
  w.set(HOST, [DEBUG_FINDING]);
  await w.scheduledScan(siteId);
  return { w, app, siteId, otherId };
}

describe('GET /api/incidents', () => {
  it('lists open incidents with the site, the catalogue title and whether it is muted; filters by site', async () => {
    const { app, siteId, otherId } = await setup();
    const open = await readJson(await app.request('/api/incidents'));
    expect(open).toMatchObject({
      total: 1,
      items: [
        {
          siteId,
          host: HOST,
          key: 'django.debug',
          title: 'Django DEBUG is on',
          severity: 'critical',
          status: 'open',
          acknowledgedAt: null,
          flapping: false,
          muted: null,
          evidence: DEBUG_FINDING.evidence,
        },
      ],
    });
    expect(await readJson(await app.request('/api/incidents?status=past'))).toEqual({ total: 0, items: [] });
    expect((await readJson(await app.request(`/api/incidents?siteId=${otherId}`))).total).toBe(0);
    expect((await readJson(await app.request(`/api/incidents?siteId=${siteId}&status=all`))).total).toBe(1);
  });

  it('moves a recovered incident to the past', async () => {
    const { w, app, siteId } = await setup();
    w.set(HOST, []);
    await w.scheduledScan(siteId);
    expect((await readJson(await app.request('/api/incidents'))).total).toBe(0);
    const past = await readJson(await app.request('/api/incidents?status=past'));
    expect(past.items).toMatchObject([{ key: 'django.debug', status: 'resolved' }]);
    expect(past.items[0].resolvedAt).not.toBeNull();
  });

  it('refuses bad filters with the one error shape', async () => {
    const { app } = await setup();
    const response = await app.request('/api/incidents?status=closed&siteId=abc');
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('Invalid query') },
    });
  });
});

describe('GET /api/incidents/:id', () => {
  it('shows the timeline and each mail with its deliveries', async () => {
    const { w, app } = await setup();
    const [listed] = (await readJson(await app.request('/api/incidents'))).items;
    const detail = await readJson(await app.request(`/api/incidents/${listed.id}`));
    expect(detail.events).toMatchObject([{ type: 'opened', severity: 'critical', mailed: true }]);
    expect(detail.mails).toMatchObject([
      {
        kind: 'change',
        subject: `[Vigil] ${HOST}: Django DEBUG is on (A+ → F)`,
        deliveries: [{ address: 'ops@example.test', status: 'sent', attempts: 1, lastError: null }],
      },
    ]);
    expect(detail.mails[0].deliveries[0].messageId).toBe(w.smtp.messages[0]?.messageId);
    expect((await app.request('/api/incidents/999')).status).toBe(404);
  });
});

describe('POST /api/incidents/:id/acknowledge', () => {
  it('records who is on it once, and refuses resolved or unknown incidents', async () => {
    const { w, app, siteId } = await setup();
    const [listed] = (await readJson(await app.request('/api/incidents'))).items;
    const acknowledged = await app.request(
      `/api/incidents/${listed.id}/acknowledge`,
      jsonRequest('POST', { note: 'rolling back the deploy' }),
    );
    expect(acknowledged.status).toBe(200);
    const body = await readJson(acknowledged);
    expect(body).toMatchObject({ id: listed.id, acknowledgedNote: 'rolling back the deploy' });
    expect(body.acknowledgedAt).toBe(w.clock.now().toISOString());
    const again = await readJson(
      await app.request(`/api/incidents/${listed.id}/acknowledge`, jsonRequest('POST', {})),
    );
    expect(again.acknowledgedNote).toBe('rolling back the deploy');
    const detail = await readJson(await app.request(`/api/incidents/${listed.id}`));
    expect(detail.events.map((event: { type: string }) => event.type)).toEqual(['opened', 'acknowledged']);

    expect((await app.request('/api/incidents/999/acknowledge', jsonRequest('POST', {}))).status).toBe(404);
    expect((await app.request(`/api/incidents/${listed.id}/acknowledge`, { method: 'POST' })).status).toBe(
      415,
    );
    w.set(HOST, []);
    await w.scheduledScan(siteId);
    const resolved = await app.request(`/api/incidents/${listed.id}/acknowledge`, jsonRequest('POST', {}));
    expect(resolved.status).toBe(409);
    expect(await readJson(resolved)).toMatchObject({ error: { code: 'conflict' } });
  });
});
