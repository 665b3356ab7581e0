import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../auth/cookies';
import { sha256 } from '../auth/secrets';
import { invitations } from '../db/schema';
import { INVITATION_TTL_MS } from '../services/users';
import { bearer, createTestApp, jsonRequest, readJson, sessionCredential, TEST_ORIGIN } from './test-app';

const PASSWORD = 'harbour-violet-cinder-58';

let t: Awaited<ReturnType<typeof createTestApp>>;
let admin: ReturnType<typeof t.as>;
beforeEach(async () => {
  t = await createTestApp({ publicUrl: 'https://vigil.example.com/' });
  admin = t.as(await t.sessionFor(t.admin));
});
afterEach(async () => {
  await t.close();
});

function tokenOf(link: string): string {
  const token = /#token=([\w-]+)$/.exec(link)?.[1];
  if (!token) throw new Error(`no token in ${link}`);
  return token;
}

async function invite(email: string, role: 'admin' | 'viewer' = 'viewer') {
  const response = await admin.request('/api/users/invitations', jsonRequest('POST', { email, role }));
  expect(response.status).toBe(201);
  return readJson(response);
}

function publicPost(path: string, body: object) {
  return t.anonymous.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: TEST_ORIGIN },
    body: JSON.stringify(body),
  });
}

describe('invitations', () => {
  it('invites by one-time link: preview, accept with a password, signed in; the link is then used up', async () => {
    const created = await invite('New.Viewer@example.com');
    expect(created.invitation).toMatchObject({
      email: 'new.viewer@example.com',
      role: 'viewer',
      invitedBy: 'admin@vigil.test',
    });
    expect(created.link).toMatch(/^https:\/\/vigil\.example\.com\/invite#token=[\w-]{43}$/);
    const token = tokenOf(created.link);
    // Stored hashed; the list never shows the secret.
    expect(await t.db.select({ tokenHash: invitations.tokenHash }).from(invitations)).toEqual([
      { tokenHash: sha256(token) },
    ]);
    const pending = await readJson(await admin.request('/api/users/invitations'));
    expect(pending).toEqual([created.invitation]);
    expect(JSON.stringify(pending)).not.toContain(token);

    expect(await readJson(await publicPost('/api/auth/invitation', { token }))).toEqual({
      email: 'new.viewer@example.com',
      role: 'viewer',
      expiresAt: new Date(t.clock.now().getTime() + INVITATION_TTL_MS).toISOString(),
    });
    const weak = await publicPost('/api/auth/invitation/accept', { token, password: 'qwerty123456' });
    expect(weak.status).toBe(400);
    const accepted = await publicPost('/api/auth/invitation/accept', {
      token,
      name: 'Nia',
      password: PASSWORD,
    });
    expect(accepted.status).toBe(201);
    const id = accepted.headers.getSetCookie().find((line) => line.startsWith(`${SESSION_COOKIE}=`));
    const session = sessionCredential(id!.split(';')[0]!.split('=')[1]!);
    expect(await readJson(await t.as(session).request('/api/auth/me'))).toMatchObject({
      user: { email: 'new.viewer@example.com', name: 'Nia', role: 'viewer' },
    });

    expect((await publicPost('/api/auth/invitation/accept', { token, password: PASSWORD })).status).toBe(404);
    expect((await publicPost('/api/auth/invitation', { token })).status).toBe(404);
    expect(await readJson(await admin.request('/api/users/invitations'))).toEqual([]);
    const people = await readJson(await admin.request('/api/users'));
    expect(people.map((user: { email: string; role: string }) => [user.email, user.role])).toEqual([
      ['admin@vigil.test', 'admin'],
      ['new.viewer@example.com', 'viewer'],
    ]);
  });

  it('links to the address the admin uses when no public URL is configured', async () => {
    const local = await createTestApp();
    try {
      const response = await local
        .as(await local.sessionFor(local.admin))
        .request('/api/users/invitations', jsonRequest('POST', { email: 'a@example.com', role: 'viewer' }));
      expect((await readJson(response)).link).toMatch(/^http:\/\/localhost\/invite#token=/);
    } finally {
      await local.close();
    }
  });

  it('stops working when expired, revoked or replaced; an existing account cannot be invited', async () => {
    const expiring = tokenOf((await invite('late@example.com')).link);
    t.clock.advance(INVITATION_TTL_MS);
    expect((await publicPost('/api/auth/invitation', { token: expiring })).status).toBe(404);
    admin = t.as(await t.sessionFor(t.admin)); // a week later: a new day's session

    const revoked = await invite('revoked@example.com');
    expect(
      (await admin.request(`/api/users/invitations/${revoked.invitation.id}`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect((await publicPost('/api/auth/invitation', { token: tokenOf(revoked.link) })).status).toBe(404);

    const first = tokenOf((await invite('twice@example.com')).link);
    const second = tokenOf((await invite('twice@example.com', 'admin')).link);
    expect((await publicPost('/api/auth/invitation', { token: first })).status).toBe(404);
    expect(await readJson(await publicPost('/api/auth/invitation', { token: second }))).toMatchObject({
      role: 'admin',
    });

    const existing = await admin.request(
      '/api/users/invitations',
      jsonRequest('POST', { email: 'ADMIN@vigil.test', role: 'viewer' }),
    );
    expect(existing.status).toBe(409);
  });
});

describe('managing users', () => {
  it('disabling ends the user’s sessions and stops their tokens; enabling brings the tokens back', async () => {
    const viewer = await t.createUser({ email: 'v@example.com' });
    const session = await t.sessionFor(viewer);
    const token = bearer(await t.tokenFor(viewer, 'read'));
    const disabled = await admin.request(`/api/users/${viewer.id}`, jsonRequest('PATCH', { disabled: true }));
    expect(await readJson(disabled)).toMatchObject({ email: 'v@example.com', disabled: true });
    expect((await t.as(session).request('/api/sites')).status).toBe(401);
    expect((await t.as(token).request('/api/sites')).status).toBe(401);

    await admin.request(`/api/users/${viewer.id}`, jsonRequest('PATCH', { disabled: false }));
    expect((await t.as(token).request('/api/sites')).status).toBe(200);
    expect((await t.as(session).request('/api/sites')).status).toBe(401);
  });

  it('a role change applies to the next request of existing sessions and tokens', async () => {
    const user = await t.createUser();
    const token = t.as(bearer(await t.tokenFor(user, 'write')));
    expect((await token.request('/api/sites', jsonRequest('POST', { host: 'a.example.com' }))).status).toBe(
      403,
    );
    await admin.request(`/api/users/${user.id}`, jsonRequest('PATCH', { role: 'admin' }));
    expect((await token.request('/api/sites', jsonRequest('POST', { host: 'a.example.com' }))).status).toBe(
      201,
    );
  });

  it('keeps one active admin: the last one cannot be demoted, disabled or delete themselves', async () => {
    const me = `/api/users/${t.admin.id}`;
    for (const patch of [{ role: 'viewer' }, { disabled: true }]) {
      const refused = await admin.request(me, jsonRequest('PATCH', patch));
      expect(refused.status).toBe(409);
      expect((await readJson(refused)).error.message).toMatch(/last active admin/);
    }
    expect((await admin.request(me, { method: 'DELETE' })).status).toBe(409);

    const second = await t.createUser({ role: 'admin' });
    expect(await readJson(await admin.request(me, jsonRequest('PATCH', { role: 'viewer' })))).toMatchObject({
      role: 'viewer',
    });
    // Now a viewer, the former admin can no longer manage users.
    expect((await admin.request(`/api/users/${second.id}`, { method: 'DELETE' })).status).toBe(403);
  });

  it('deleting a user removes their sessions and tokens; the audit log keeps their address', async () => {
    const leaving = await t.createUser({ email: 'leaving@example.com', role: 'admin' });
    const token = t.as(bearer(await t.tokenFor(leaving, 'write')));
    expect(
      (await token.request('/api/sites', jsonRequest('POST', { host: 'kept.example.com' }))).status,
    ).toBe(201);
    expect((await admin.request(`/api/users/${leaving.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await token.request('/api/sites')).status).toBe(401);
    expect((await admin.request(`/api/users/${leaving.id}`, { method: 'DELETE' })).status).toBe(404);

    const log = await readJson(await admin.request('/api/audit'));
    const created = log.items.find((entry: { action: string }) => entry.action === 'site.create');
    expect(created).toMatchObject({
      actor: 'leaving@example.com',
      userId: null,
      target: expect.stringContaining('kept.example.com'),
    });
    expect(log.items[0]).toMatchObject({
      action: 'user.delete',
      actor: 'admin@vigil.test',
      target: `user:${leaving.id} leaving@example.com`,
    });
  });
});
