import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { SESSION_COOKIE } from '../auth/cookies';
import { CSRF_COOKIE, csrfTokenFor } from '../auth/csrf';
import { recordLoginFailure } from '../auth/login-throttle';
import { sha256 } from '../auth/secrets';
import { SESSION_IDLE_MS, SESSION_MAX_MS } from '../auth/sessions';
import { sessions, setupTokens, users } from '../db/schema';
import { issueSetupToken, LOGIN_FAILED } from '../services/users';
import {
  bearer,
  createTestApp,
  jsonRequest,
  readJson,
  sessionCredential,
  TEST_DEFAULTS,
  TEST_ORIGIN,
} from './test-app';

const PASSWORD = 'lantern-orchard-basalt-41';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp({ trustProxy: true });
});
afterEach(async () => {
  await t.close();
});

interface SetCookie {
  value: string;
  attributes: string[];
}

function cookiesOf(response: Response): Map<string, SetCookie> {
  const cookies = new Map<string, SetCookie>();
  for (const line of response.headers.getSetCookie()) {
    const [pair = '', ...attributes] = line.split(/;\s*/);
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), {
      value: pair.slice(at + 1),
      attributes: attributes.map((a) => a.toLowerCase()),
    });
  }
  return cookies;
}

/** The session a Set-Cookie answer started, as the credential a browser would send back. */
function sessionFrom(response: Response) {
  const id = cookiesOf(response).get(SESSION_COOKIE)?.value;
  if (!id) throw new Error('no session cookie');
  return sessionCredential(id);
}

function login(email: string, password: string, headers: Record<string, string> = {}) {
  return t.anonymous.request('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: TEST_ORIGIN, ...headers },
    body: JSON.stringify({ email, password }),
  });
}

describe('first run', () => {
  beforeEach(async () => {
    // A fresh install: nobody has an account.
    await t.db.delete(users);
  });

  it('answers 401 to everything but health, version, status and setup until the first admin exists', async () => {
    expect(await readJson(await t.anonymous.request('/api/auth/status'))).toEqual({ setupRequired: true });
    expect((await t.anonymous.request('/api/version')).status).toBe(200);
    expect((await t.anonymous.request('/healthz')).status).not.toBe(401);
    for (const path of ['/api/sites', '/api/overview', '/api/settings', '/api/users', '/api/incidents'])
      expect((await t.anonymous.request(path)).status, path).toBe(401);
    expect(
      (await t.anonymous.request('/api/sites', jsonRequest('POST', { host: 'a.example.com' }))).status,
    ).toBe(401);
  });

  it('creates the first admin with the one-time setup secret, which then no longer works', async () => {
    const token = await issueSetupToken({ db: t.db, now: t.clock.now });
    expect(token).toMatch(/^[\w-]{43}$/);
    // Only its hash is stored.
    expect(await t.db.select().from(setupTokens)).toEqual([
      { tokenHash: sha256(token!), createdAt: t.clock.now() },
    ]);
    const setup = (body: object) =>
      t.anonymous.request('/api/auth/setup', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: TEST_ORIGIN },
        body: JSON.stringify(body),
      });

    const wrong = await setup({ token: 'x'.repeat(43), email: 'ops@example.com', password: PASSWORD });
    expect(wrong.status).toBe(401);
    const weak = await setup({ token, email: 'ops@example.com', password: 'password1234' });
    expect(weak.status).toBe(400);
    expect((await readJson(weak)).error.message).toMatch(/commonly used/);

    const created = await setup({ token, email: ' Ops@Example.com ', name: 'Ops', password: PASSWORD });
    expect(created.status).toBe(201);
    expect(await readJson(created)).toMatchObject({
      user: { email: 'ops@example.com', name: 'Ops', role: 'admin' },
    });
    const session = cookiesOf(created).get(SESSION_COOKIE);
    expect(session?.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/']));
    expect(session?.attributes).not.toContain('secure');
    expect(cookiesOf(created).get(CSRF_COOKIE)?.value).toBe(csrfTokenFor(session!.value));
    const me = await t.as(sessionFrom(created)).request('/api/auth/me');
    expect(await readJson(me)).toMatchObject({
      user: { email: 'ops@example.com', role: 'admin' },
      via: 'session',
    });

    const again = await setup({ token, email: 'other@example.com', password: PASSWORD });
    expect(again.status).toBe(401);
    expect(await readJson(await t.anonymous.request('/api/auth/status'))).toEqual({ setupRequired: false });
    expect(await issueSetupToken({ db: t.db, now: t.clock.now })).toBeNull();
    expect(await t.db.select().from(users)).toHaveLength(1);
  });

  it('replaces the setup secret at each start before setup: an older link stops working', async () => {
    const first = await issueSetupToken({ db: t.db, now: t.clock.now });
    const second = await issueSetupToken({ db: t.db, now: t.clock.now });
    const response = await t.anonymous.request('/api/auth/setup', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: TEST_ORIGIN },
      body: JSON.stringify({ token: first, email: 'ops@example.com', password: PASSWORD }),
    });
    expect(response.status).toBe(401);
    expect(second).not.toBe(first);
  });
});

describe('login', () => {
  it('signs in with the right password; an unknown address and a wrong password get the same answer', async () => {
    await t.createUser({ email: 'viewer@example.com', password: PASSWORD });
    const good = await login('Viewer@example.com', PASSWORD);
    expect(good.status).toBe(200);
    expect(await readJson(good)).toMatchObject({ user: { email: 'viewer@example.com', role: 'viewer' } });
    // Only the hash of the session id is stored.
    const id = cookiesOf(good).get(SESSION_COOKIE)!.value;
    expect(id).toMatch(/^[\w-]{43}$/);
    expect(await t.db.select({ idHash: sessions.idHash }).from(sessions)).toEqual([{ idHash: sha256(id) }]);

    const wrong = await login('viewer@example.com', `${PASSWORD}x`);
    const unknown = await login('nobody@example.com', PASSWORD);
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(await readJson(wrong)).toEqual(await readJson(unknown));
    expect((await readJson(await login('viewer@example.com', ''))).error.message).toBe(LOGIN_FAILED);
  });

  it('refuses a disabled account with the same answer as a wrong password', async () => {
    const user = await t.createUser({ email: 'gone@example.com', password: PASSWORD });
    await t.db.update(users).set({ disabledAt: t.clock.now() }).where(eq(users.id, user.id));
    const response = await login('gone@example.com', PASSWORD);
    expect(response.status).toBe(401);
    expect((await readJson(response)).error.message).toBe(LOGIN_FAILED);
  });

  it('backs off after five failures for an account, even for the right password and after a restart', async () => {
    await t.createUser({ email: 'target@example.com', password: PASSWORD });
    for (let attempt = 1; attempt <= 5; attempt++)
      expect((await login('target@example.com', `guess ${attempt} of many`)).status).toBe(401);
    const blocked = await login('target@example.com', PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('30');
    expect((await readJson(blocked)).error).toMatchObject({ code: 'rate_limited' });

    // A new process over the same database still knows.
    const restarted = createApp({
      database: t.database,
      scheduler: t.scheduler,
      defaults: TEST_DEFAULTS,
      now: t.clock.now,
    });
    const afterRestart = await restarted.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'target@example.com', password: PASSWORD }),
    });
    expect(afterRestart.status).toBe(429);

    // The next failure doubles the wait.
    t.clock.advance(31_000);
    expect((await login('target@example.com', 'one more guess')).status).toBe(401);
    const longer = await login('target@example.com', PASSWORD);
    expect(longer.headers.get('retry-after')).toBe('60');
    t.clock.advance(61_000);
    expect((await login('target@example.com', PASSWORD)).status).toBe(200);
    // Success clears the account's count.
    expect((await login('target@example.com', 'a new typo')).status).toBe(401);
  });

  it('backs off per client address across accounts, without touching other addresses', async () => {
    await t.createUser({ email: 'someone@example.com', password: PASSWORD });
    const attacker = { 'x-forwarded-for': '198.51.100.7' };
    // Nineteen earlier failures from the address (any accounts), then the twentieth through the API.
    for (let failure = 1; failure < 20; failure++)
      await recordLoginFailure(t.db, ['ip:198.51.100.7'], t.clock.now());
    expect((await login('random@example.com', 'not a password', attacker)).status).toBe(401);
    expect((await login('someone@example.com', PASSWORD, attacker)).status).toBe(429);
    expect((await login('someone@example.com', PASSWORD, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(
      200,
    );
  });

  it('ends the session a browser came with when it signs in again (no session fixation)', async () => {
    const user = await t.createUser({ email: 'fix@example.com', password: PASSWORD });
    const planted = await t.sessionFor(user);
    const response = await login('fix@example.com', PASSWORD, { cookie: planted.cookie! });
    expect(response.status).toBe(200);
    expect((await t.as(planted).request('/api/auth/me')).status).toBe(401);
    expect((await t.as(sessionFrom(response)).request('/api/auth/me')).status).toBe(200);
  });
});

describe('sessions', () => {
  it(`end after ${SESSION_IDLE_MS / HOUR} h without a request; activity keeps them alive`, async () => {
    const viewer = await t.createUser();
    const browser = t.as(await t.sessionFor(viewer));
    for (let hour = 0; hour < 30; hour += 10) {
      t.clock.advance(10 * HOUR);
      expect((await browser.request('/api/auth/me')).status, `after ${hour + 10} h`).toBe(200);
    }
    t.clock.advance(SESSION_IDLE_MS);
    const expired = await browser.request('/api/auth/me');
    expect(expired.status).toBe(401);
    // The browser is told to forget the dead cookie.
    expect(cookiesOf(expired).get(SESSION_COOKIE)?.attributes).toContain('max-age=0');
    expect(await t.db.select().from(sessions)).toEqual([]);
  });

  it(`end ${SESSION_MAX_MS / (24 * HOUR)} days after login, however active`, async () => {
    const viewer = await t.createUser();
    const browser = t.as(await t.sessionFor(viewer));
    const me = await readJson(await browser.request('/api/auth/me'));
    expect(me.expiresAt).toBe(new Date(t.clock.now().getTime() + SESSION_IDLE_MS).toISOString());
    let elapsed = 0;
    while (elapsed + 11 * HOUR < SESSION_MAX_MS) {
      t.clock.advance(11 * HOUR);
      elapsed += 11 * HOUR;
      expect((await browser.request('/api/auth/me')).status).toBe(200);
    }
    t.clock.advance(SESSION_MAX_MS - elapsed);
    expect((await browser.request('/api/auth/me')).status).toBe(401);
  });

  it('log out ends this session; log out everywhere ends all of the user’s sessions but not their tokens', async () => {
    const viewer = await t.createUser();
    const [laptop, phone, tablet] = [
      await t.sessionFor(viewer),
      await t.sessionFor(viewer),
      await t.sessionFor(viewer),
    ];
    const token = await t.tokenFor(viewer, 'read');
    const adminSession = await t.sessionFor(t.admin);

    const out = await t.as(laptop).request('/api/auth/logout', { method: 'POST' });
    expect(out.status).toBe(204);
    expect(cookiesOf(out).get(SESSION_COOKIE)?.attributes).toContain('max-age=0');
    expect((await t.as(laptop).request('/api/auth/me')).status).toBe(401);
    expect((await t.as(phone).request('/api/auth/me')).status).toBe(200);

    expect((await t.as(phone).request('/api/auth/logout-everywhere', { method: 'POST' })).status).toBe(204);
    expect((await t.as(phone).request('/api/auth/me')).status).toBe(401);
    expect((await t.as(tablet).request('/api/auth/me')).status).toBe(401);
    expect((await t.as(bearer(token)).request('/api/auth/me')).status).toBe(200);
    expect((await t.as(adminSession).request('/api/auth/me')).status).toBe(200);
  });
});

describe('CSRF', () => {
  it('refuses a cookie-authenticated change without the session’s token or from another origin', async () => {
    const session = await t.sessionFor(t.admin);
    const other = await t.sessionFor(t.admin);
    const post = (headers: Record<string, string | undefined>) =>
      t.anonymous.request('/api/sites', {
        method: 'POST',
        headers: Object.fromEntries(
          Object.entries({ 'content-type': 'application/json', cookie: session.cookie, ...headers }).filter(
            (entry): entry is [string, string] => entry[1] !== undefined,
          ),
        ),
        body: JSON.stringify({ host: 'csrf.example.com' }),
      });

    const refusals = [
      await post({}),
      await post({ 'x-csrf-token': 'forged' }),
      await post({ 'x-csrf-token': other['x-csrf-token'] }),
      await post({ 'x-csrf-token': session['x-csrf-token'], origin: 'https://evil.example' }),
      await post({ 'x-csrf-token': session['x-csrf-token'], origin: 'null' }),
      await post({ 'x-csrf-token': session['x-csrf-token'], 'sec-fetch-site': 'cross-site' }),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(403);
      expect((await readJson(refused)).error.code).toBe('forbidden');
    }
    expect(await readJson(await t.app.request('/api/sites'))).toMatchObject({ total: 0 });

    // Reading needs no token; the dashboard's own request passes.
    expect((await t.anonymous.request('/api/sites', { headers: { cookie: session.cookie! } })).status).toBe(
      200,
    );
    expect((await post({ 'x-csrf-token': session['x-csrf-token'], origin: TEST_ORIGIN })).status).toBe(201);
  });

  it('does not ask bearer-token requests for a CSRF token (a browser cannot attach one cross-site)', async () => {
    const response = await t.app.request('/api/sites', {
      ...jsonRequest('POST', { host: 'script.example.com' }),
      headers: { 'content-type': 'application/json', origin: 'https://ci.example' },
    });
    expect(response.status).toBe(201);
  });

  it('refuses a cross-site login (login CSRF)', async () => {
    await t.createUser({ email: 'victim@example.com', password: PASSWORD });
    expect((await login('victim@example.com', PASSWORD, { origin: 'https://evil.example' })).status).toBe(
      403,
    );
  });
});

describe('cookies over HTTPS', () => {
  it('are Secure when the request is HTTPS, or a trusted proxy says it was', async () => {
    await t.createUser({ email: 'tls@example.com', password: PASSWORD });
    const direct = await t.anonymous.request('https://vigil.example/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://vigil.example' },
      body: JSON.stringify({ email: 'tls@example.com', password: PASSWORD }),
    });
    expect(direct.status).toBe(200);
    expect(cookiesOf(direct).get(SESSION_COOKIE)?.attributes).toContain('secure');
    expect(cookiesOf(direct).get(CSRF_COOKIE)?.attributes).toEqual(
      expect.arrayContaining(['secure', 'samesite=strict']),
    );

    const proxied = await login('tls@example.com', PASSWORD, {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'vigil.example',
      origin: 'https://vigil.example',
    });
    expect(proxied.status).toBe(200);
    expect(cookiesOf(proxied).get(SESSION_COOKIE)?.attributes).toContain('secure');
  });

  it('ignore X-Forwarded-Proto unless the proxy is trusted', async () => {
    const direct = await createTestApp();
    try {
      await direct.createUser({ email: 'plain@example.com', password: PASSWORD });
      const response = await direct.anonymous.request('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
        body: JSON.stringify({ email: 'plain@example.com', password: PASSWORD }),
      });
      expect(response.status).toBe(200);
      expect(cookiesOf(response).get(SESSION_COOKIE)?.attributes).not.toContain('secure');
      expect(response.headers.get('strict-transport-security')).toBeNull();
    } finally {
      await direct.close();
    }
  });
});

describe('changing the password', () => {
  it('needs the current one and a good new one; other sessions end, this one stays', async () => {
    const user = await t.createUser({ email: 'change@example.com', password: PASSWORD });
    const here = await t.sessionFor(user);
    const elsewhere = await t.sessionFor(user);
    const change = (body: object) => t.as(here).request('/api/auth/password', jsonRequest('POST', body));

    expect(
      (await change({ currentPassword: 'not it at all', newPassword: 'quartz-meadow-falcon-9' })).status,
    ).toBe(403);
    const weak = await change({ currentPassword: PASSWORD, newPassword: 'short' });
    expect(weak.status).toBe(400);
    expect((await change({ currentPassword: PASSWORD, newPassword: 'quartz-meadow-falcon-9' })).status).toBe(
      204,
    );

    expect((await t.as(here).request('/api/auth/me')).status).toBe(200);
    expect((await t.as(elsewhere).request('/api/auth/me')).status).toBe(401);
    expect((await login('change@example.com', PASSWORD)).status).toBe(401);
    expect((await login('change@example.com', 'quartz-meadow-falcon-9')).status).toBe(200);
  });
});
