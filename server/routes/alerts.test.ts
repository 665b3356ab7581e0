import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_SETTINGS } from '../alerts/engine';
import { createSmtpMailer } from '../alerts/mailer';
import { type SmtpSink, startSmtpSink } from '../alerts/testing/smtp-sink';
import { createSite } from '../services/sites';
import { createSignedInApp, createTestApp, jsonRequest, readJson, TEST_DEFAULTS } from './test-app';

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function testApp(): Promise<TestApp> {
  const t = await createTestApp();
  cleanups.push(() => t.close());
  return t;
}

function addShop(t: TestApp): ReturnType<typeof createSite> {
  return createSite({
    db: t.db,
    now: t.clock.now,
    defaults: TEST_DEFAULTS,
    input: { host: 'shop.example.test' },
  });
}

/** The same app, now with a mail transport to a real SMTP server. */
async function withMail(
  t: TestApp,
): Promise<{ app: Awaited<ReturnType<typeof createSignedInApp>>; smtp: SmtpSink }> {
  const smtp = await startSmtpSink();
  cleanups.push(() => smtp.stop());
  const mailer = createSmtpMailer({
    url: smtp.url,
    from: 'Vigil <alerts@vigil.example.test>',
    timeoutMs: 10_000,
  });
  cleanups.push(() => mailer.close());
  const app = await createSignedInApp({
    database: t.database,
    scheduler: t.scheduler,
    defaults: TEST_DEFAULTS,
    now: t.clock.now,
    dashboardDir: null,
    mail: { mailer, mailFrom: 'Vigil <alerts@vigil.example.test>', publicUrl: 'https://vigil.example.test' },
  });
  return { app, smtp };
}

describe('/api/alerts/recipients', () => {
  it('creates a recipient for every site by default, lists, updates subscriptions and deletes', async () => {
    const t = await testApp();
    const site = await addShop(t);
    const created = await t.app.request(
      '/api/alerts/recipients',
      jsonRequest('POST', { email: 'Ops@Example.TEST' }),
    );
    expect(created.status).toBe(201);
    const recipient = await readJson(created);
    expect(recipient).toMatchObject({
      email: 'ops@example.test',
      mode: 'immediate',
      enabled: true,
      subscriptions: [{ scope: 'all' }],
    });
    expect(created.headers.get('location')).toBe(`/api/alerts/recipients/${recipient.id}`);

    const patched = await t.app.request(
      `/api/alerts/recipients/${recipient.id}`,
      jsonRequest('PATCH', {
        mode: 'digest',
        subscriptions: [
          { scope: 'site', siteId: site.id },
          { scope: 'tag', tag: 'Shops' },
          { scope: 'tag', tag: 'shops' },
        ],
      }),
    );
    expect(await readJson(patched)).toMatchObject({
      mode: 'digest',
      subscriptions: [
        { scope: 'site', siteId: site.id, host: 'shop.example.test' },
        { scope: 'tag', tag: 'shops' },
      ],
    });
    expect((await readJson(await t.app.request('/api/alerts/recipients'))).items).toHaveLength(1);
    expect((await t.app.request(`/api/alerts/recipients/${recipient.id}`, { method: 'DELETE' })).status).toBe(
      204,
    );
    expect((await t.app.request(`/api/alerts/recipients/${recipient.id}`)).status).toBe(404);
  });

  it('refuses duplicates, bad addresses and subscriptions to unknown sites', async () => {
    const t = await testApp();
    await t.app.request('/api/alerts/recipients', jsonRequest('POST', { email: 'ops@example.test' }));
    const duplicate = await t.app.request(
      '/api/alerts/recipients',
      jsonRequest('POST', { email: 'OPS@example.test' }),
    );
    expect(duplicate.status).toBe(409);
    const bad = await t.app.request(
      '/api/alerts/recipients',
      jsonRequest('POST', { email: 'ops@example.test\r\nBcc: everyone@example.test' }),
    );
    expect(bad.status).toBe(400);
    expect(await readJson(bad)).toMatchObject({
      error: { code: 'invalid_request', details: { target: 'json' } },
    });
    const unknownSite = await t.app.request(
      '/api/alerts/recipients',
      jsonRequest('POST', { email: 'new@example.test', subscriptions: [{ scope: 'site', siteId: 999 }] }),
    );
    expect(unknownSite.status).toBe(400);
    expect(await readJson(unknownSite)).toMatchObject({ error: { message: 'No site with id 999' } });
    const extra = await t.app.request(
      '/api/alerts/recipients',
      jsonRequest('POST', { email: 'x@example.test', role: 'admin' }),
    );
    expect(extra.status).toBe(400);
  });
});

describe('/api/alerts/mutes', () => {
  it('mutes a finding on a site until an expiry, lists active mutes and ends them', async () => {
    const t = await testApp();
    const site = await addShop(t);
    const inADay = new Date(t.clock.now().getTime() + 86_400_000).toISOString();
    const created = await t.app.request(
      '/api/alerts/mutes',
      jsonRequest('POST', {
        siteId: site.id,
        key: 'hsts.missing',
        reason: 'migrating the proxy',
        expiresAt: inADay,
      }),
    );
    expect(created.status).toBe(201);
    const mute = await readJson(created);
    expect(mute).toMatchObject({
      siteId: site.id,
      host: 'shop.example.test',
      key: 'hsts.missing',
      title: 'HSTS header missing',
      expiresAt: inADay,
    });
    expect((await readJson(await t.app.request(`/api/alerts/mutes?siteId=${site.id}`))).items).toHaveLength(
      1,
    );
    t.clock.advance(86_400_000);
    expect((await readJson(await t.app.request('/api/alerts/mutes'))).items).toHaveLength(0);
    t.clock.advance(-86_400_000);
    expect((await t.app.request(`/api/alerts/mutes/${mute.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await readJson(await t.app.request('/api/alerts/mutes'))).items).toHaveLength(0);
    expect((await t.app.request(`/api/alerts/mutes/${mute.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses unknown keys, past expiries, missing reasons and unknown sites', async () => {
    const t = await testApp();
    const site = await addShop(t);
    const future = new Date(t.clock.now().getTime() + 3_600_000).toISOString();
    const past = new Date(t.clock.now().getTime() - 1000).toISOString();
    const post = (body: unknown) => t.app.request('/api/alerts/mutes', jsonRequest('POST', body));
    expect((await post({ siteId: site.id, key: 'hsts.gone', reason: 'x', expiresAt: future })).status).toBe(
      400,
    );
    expect((await post({ siteId: site.id, key: 'hsts.missing', reason: 'x', expiresAt: past })).status).toBe(
      400,
    );
    expect(
      (await post({ siteId: site.id, key: 'hsts.missing', reason: ' ', expiresAt: future })).status,
    ).toBe(400);
    expect(
      (await post({ siteId: 999, key: 'site.unreachable', reason: 'x', expiresAt: future })).status,
    ).toBe(404);
    expect(
      (await post({ siteId: site.id, key: 'grade.drop', reason: 'redesign', expiresAt: future })).status,
    ).toBe(201);
  });
});

describe('/api/alerts/settings', () => {
  it('starts at the defaults and saves partial changes', async () => {
    const t = await testApp();
    expect(await readJson(await t.app.request('/api/alerts/settings'))).toEqual(DEFAULT_ALERT_SETTINGS);
    const updated = await t.app.request(
      '/api/alerts/settings',
      jsonRequest('PATCH', { minSeverity: 'high', reminderHours: 12 }),
    );
    expect(await readJson(updated)).toEqual({
      ...DEFAULT_ALERT_SETTINGS,
      minSeverity: 'high',
      reminderHours: 12,
    });
    expect((await readJson(await t.app.request('/api/alerts/settings'))).minSeverity).toBe('high');
    // The scan settings beside them are untouched.
    expect((await readJson(await t.app.request('/api/settings'))).retentionDays).toBe(400);
    expect((await t.app.request('/api/alerts/settings', jsonRequest('PATCH', {}))).status).toBe(400);
    expect(
      (await t.app.request('/api/alerts/settings', jsonRequest('PATCH', { gradeDropSteps: 99 }))).status,
    ).toBe(400);
    expect(
      (await t.app.request('/api/alerts/settings', jsonRequest('PATCH', { digestHour: 24 }))).status,
    ).toBe(400);
  });
});

describe('POST /api/alerts/test', () => {
  it('sends a test mail through the real transport and reports the server answer', async () => {
    const t = await testApp();
    const { app, smtp } = await withMail(t);
    const response = await app.request('/api/alerts/test', jsonRequest('POST', { to: 'ops@example.test' }));
    expect(response.status).toBe(200);
    const body = await readJson(response);
    expect(body.results).toMatchObject([
      { to: 'ops@example.test', delivered: true, response: expect.stringMatching(/^250/) },
    ]);
    const [received] = await smtp.waitForCount(1);
    expect(received).toMatchObject({ subject: '[Vigil] Test mail', messageId: body.results[0].messageId });
    expect(received?.text).toContain('If you can read it, alert mail works.');
    const status = await readJson(await app.request('/api/alerts/status'));
    expect(status).toEqual({
      smtp: `smtp://127.0.0.1:${smtp.port}`,
      from: 'Vigil <alerts@vigil.example.test>',
      publicUrl: 'https://vigil.example.test',
      waiting: 0,
    });
  });

  it('sends to every enabled recipient without "to", and needs at least one', async () => {
    const t = await testApp();
    const { app, smtp } = await withMail(t);
    const none = await app.request('/api/alerts/test', jsonRequest('POST', {}));
    expect(none.status).toBe(400);
    await app.request('/api/alerts/recipients', jsonRequest('POST', { email: 'a@example.test' }));
    await app.request(
      '/api/alerts/recipients',
      jsonRequest('POST', { email: 'b@example.test', enabled: false }),
    );
    expect((await app.request('/api/alerts/test', jsonRequest('POST', {}))).status).toBe(200);
    expect((await smtp.waitForCount(1)).map((mail) => mail.envelopeTo)).toEqual([['a@example.test']]);
  });

  it('says when mail is not configured or the SMTP server is down', async () => {
    const t = await testApp();
    const unconfigured = await t.app.request(
      '/api/alerts/test',
      jsonRequest('POST', { to: 'ops@example.test' }),
    );
    expect(unconfigured.status).toBe(409);
    expect(await readJson(unconfigured)).toMatchObject({
      error: { message: expect.stringContaining('VIGIL_SMTP_URL') },
    });
    const { app, smtp } = await withMail(t);
    await smtp.stop();
    const down = await app.request('/api/alerts/test', jsonRequest('POST', { to: 'ops@example.test' }));
    expect(down.status).toBe(503);
    expect(await readJson(down)).toMatchObject({
      error: { code: 'unavailable', message: expect.stringContaining('ECONNREFUSED') },
    });
  });
});
