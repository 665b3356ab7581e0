import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../auth/secrets';
import { apiTokens } from '../db/schema';
import { bearer, createTestApp, jsonRequest, readJson } from './test-app';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('API tokens', () => {
  it('shows a new token once, stores only its hash, lists it by prefix and records when it was last used', async () => {
    const viewer = await t.createUser({ email: 'ci@example.com' });
    const browser = t.as(await t.sessionFor(viewer));
    const created = await browser.request(
      '/api/tokens',
      jsonRequest('POST', { name: 'CI export', scope: 'read' }),
    );
    expect(created.status).toBe(201);
    const body = await readJson(created);
    expect(body).toMatchObject({
      name: 'CI export',
      scope: 'read',
      lastUsedAt: null,
      owner: { email: 'ci@example.com' },
    });
    expect(body.token).toMatch(/^vgl_[\w-]{43}$/);
    expect(body.prefix).toBe(`${body.token.slice(0, 10)}…`);
    const rows = await t.db.select().from(apiTokens);
    expect(rows.map((row) => row.tokenHash)).toContain(sha256(body.token));
    expect(JSON.stringify(rows)).not.toContain(body.token.slice(4));

    t.clock.advance(5 * 60_000);
    expect((await t.as(bearer(body.token)).request('/api/overview')).status).toBe(200);
    const listed = await readJson(await browser.request('/api/tokens'));
    const { token: _secret, ...view } = body;
    expect(listed).toEqual([{ ...view, lastUsedAt: t.clock.now().toISOString() }]);
    expect(JSON.stringify(listed)).not.toContain(body.token);
  });

  it('a read-scoped token reads but cannot change anything; revoked, it stops at once', async () => {
    const token = await t.tokenFor(t.admin, 'read');
    const script = t.as(bearer(token));
    expect((await script.request('/api/sites')).status).toBe(200);
    const refused = await script.request('/api/sites', jsonRequest('POST', { host: 'a.example.com' }));
    expect(refused.status).toBe(403);
    expect((await readJson(refused)).error.message).toMatch(/read scope/);

    const mine = await readJson(await t.app.request('/api/tokens'));
    const id = mine.find((entry: { scope: string }) => entry.scope === 'read').id;
    expect(
      (await t.as(await t.sessionFor(t.admin)).request(`/api/tokens/${id}`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect((await script.request('/api/sites')).status).toBe(401);
  });

  it('cannot mint tokens or change passwords itself, even with write scope (a leaked token cannot persist)', async () => {
    const created = await t.app.request('/api/tokens', jsonRequest('POST', { name: 'more', scope: 'write' }));
    expect(created.status).toBe(403);
    expect((await readJson(created)).error.message).toMatch(/sign in to the dashboard/);
  });

  it('people see and revoke their own tokens; admins see and revoke everyone’s', async () => {
    const viewer = await t.createUser({ email: 'viewer@example.com' });
    await t.tokenFor(viewer, 'read');
    const viewerBrowser = t.as(await t.sessionFor(viewer));
    const own = await readJson(await viewerBrowser.request('/api/tokens'));
    expect(own.map((entry: { owner: { email: string } }) => entry.owner.email)).toEqual([
      'viewer@example.com',
    ]);
    const all = await readJson(await t.app.request('/api/tokens'));
    expect(new Set(all.map((entry: { owner: { email: string } }) => entry.owner.email))).toEqual(
      new Set(['viewer@example.com', 'admin@vigil.test']),
    );
    const adminTokenId = all.find(
      (entry: { owner: { email: string } }) => entry.owner.email === 'admin@vigil.test',
    ).id;
    expect((await viewerBrowser.request(`/api/tokens/${adminTokenId}`, { method: 'DELETE' })).status).toBe(
      404,
    );
    expect((await t.app.request('/api/sites')).status).toBe(200);
    expect(
      (await t.as(await t.sessionFor(t.admin)).request(`/api/tokens/${own[0].id}`, { method: 'DELETE' }))
        .status,
    ).toBe(204);
    expect(await readJson(await viewerBrowser.request('/api/tokens'))).toEqual([]);
  });
});
