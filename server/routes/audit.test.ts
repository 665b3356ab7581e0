import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactSecrets } from '../services/audit-log';
import { createTestApp, jsonRequest, readJson, TEST_ORIGIN } from './test-app';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp({ trustProxy: true });
});
afterEach(async () => {
  await t.close();
});

interface Entry {
  action: string;
  actor: string;
  via: string;
  target: string;
  detail: unknown;
  ip: string;
}

async function log(query = ''): Promise<{ items: Entry[]; nextBefore: number | null }> {
  return readJson(await t.app.request(`/api/audit${query}`));
}

describe('audit log', () => {
  it('records who added, changed and removed sites, changed settings and muted findings, and how they were signed in', async () => {
    const browser = t.as({ ...(await t.sessionFor(t.admin)), 'x-forwarded-for': '192.0.2.44' });
    const site = await readJson(
      await browser.request('/api/sites', jsonRequest('POST', { host: 'shop.example.com', label: 'Shop' })),
    );
    await t.app.request(`/api/sites/${site.id}`, jsonRequest('PATCH', { label: 'Webshop' }));
    await t.app.request('/api/settings', jsonRequest('PATCH', { retentionDays: 90 }));
    await t.app.request(
      '/api/alerts/mutes',
      jsonRequest('POST', {
        siteId: site.id,
        key: 'hsts.missing',
        reason: 'HSTS rollout next sprint',
        expiresAt: new Date(t.clock.now().getTime() + 86_400_000).toISOString(),
      }),
    );
    await t.app.request('/api/sites/import', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'blog.example.com\ndocs.example.com\nshop.example.com',
    });
    await t.app.request(`/api/sites/${site.id}`, { method: 'DELETE' });
    // Refused and read-only requests change nothing and are not recorded.
    await t.app.request('/api/sites', jsonRequest('POST', { host: 'not a host' }));
    await t.app.request('/api/sites');

    const { items } = await log();
    const tokenVia = items.find((entry) => entry.action === 'site.update')?.via;
    expect(
      items.reverse().map(({ action, actor, target, detail }) => ({ action, actor, target, detail })),
    ).toEqual([
      {
        action: 'site.create',
        actor: 'admin@vigil.test',
        target: `site:${site.id} shop.example.com`,
        detail: { host: 'shop.example.com', label: 'Shop' },
      },
      {
        action: 'site.update',
        actor: 'admin@vigil.test',
        target: `site:${site.id} shop.example.com`,
        detail: { label: 'Webshop' },
      },
      {
        action: 'settings.update',
        actor: 'admin@vigil.test',
        target: 'settings',
        detail: { retentionDays: 90 },
      },
      {
        action: 'finding.mute',
        actor: 'admin@vigil.test',
        target: expect.stringMatching(/^mute:\d+ shop\.example\.com$/),
        detail: expect.objectContaining({
          siteId: site.id,
          key: 'hsts.missing',
          reason: 'HSTS rollout next sprint',
        }),
      },
      {
        action: 'site.import',
        actor: 'admin@vigil.test',
        target: 'site',
        detail: { created: ['blog.example.com', 'docs.example.com'] },
      },
      {
        action: 'site.delete',
        actor: 'admin@vigil.test',
        target: `site:${site.id} shop.example.com`,
        detail: {},
      },
    ]);
    const first = (await log('?action=site.create')).items[0];
    expect(first).toMatchObject({ via: 'session', ip: '192.0.2.44' });
    expect(tokenVia).toMatch(/^token:\d+$/);
  });

  it('records sign-ins, failed ones too, without the password typed', async () => {
    await t.createUser({ email: 'v@example.com', password: 'cobalt-thistle-ember-3' });
    const login = (password: string) =>
      t.anonymous.request('/api/auth/login', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: TEST_ORIGIN,
          'x-forwarded-for': '203.0.113.5',
        },
        body: JSON.stringify({ email: 'v@example.com', password }),
      });
    await login('a wrong guess here');
    await login('cobalt-thistle-ember-3');
    const { items } = await log();
    expect(items.map(({ action, actor, ip }) => ({ action, actor, ip }))).toEqual([
      { action: 'auth.login', actor: 'v@example.com', ip: '203.0.113.5' },
      { action: 'auth.login.failed', actor: 'v@example.com', ip: '203.0.113.5' },
    ]);
    expect(JSON.stringify(items)).not.toContain('wrong guess');
  });

  it('pages newest first', async () => {
    for (const host of ['a.example.com', 'b.example.com', 'c.example.com'])
      await t.app.request('/api/sites', jsonRequest('POST', { host }));
    const first = await log('?limit=2');
    expect(first.items.map((entry) => entry.target.split(' ')[1])).toEqual([
      'c.example.com',
      'b.example.com',
    ]);
    const second = await log(`?limit=2&before=${first.nextBefore}`);
    expect(second).toMatchObject({
      items: [{ target: expect.stringContaining('a.example.com') }],
      nextBefore: null,
    });
  });
});

describe('redactSecrets', () => {
  it('hides any field named like a password, token or secret, at any depth', () => {
    expect(
      redactSecrets({
        email: 'a@example.com',
        password: 'hunter2hunter2',
        nested: [{ currentPassword: 'x', apiToken: 'vgl_x', note: 'kept' }],
        clientSecret: 's',
      }),
    ).toEqual({
      email: 'a@example.com',
      password: '[redacted]',
      nested: [{ currentPassword: '[redacted]', apiToken: '[redacted]', note: 'kept' }],
      clientSecret: '[redacted]',
    });
  });
});
