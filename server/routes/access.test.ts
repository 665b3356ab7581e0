import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUser } from '../auth/sessions';
import { bearer, type Credential, createTestApp, jsonRequest } from './test-app';

/**
 * Every route × every kind of caller, over the real app. The expectations are written out here, apart
 * from server/auth/policy.ts, so a wrong rule there fails here; routes not listed (such as ones added
 * later) are expected to follow the default: reading needs a signed-in user, changing needs an admin.
 */

type Who =
  /** No credentials needed. */
  | 'anyone'
  /** Any signed-in user, any token scope. */
  | 'signed-in'
  /** Viewers too, but not read-scoped tokens. */
  | 'acknowledge'
  /** Any user, in a browser session only. */
  | 'self'
  | 'admin-read'
  | 'admin'
  | 'admin-session';

const EXPECTED: Record<string, Who> = {
  'GET /healthz': 'anyone',
  'GET /api/version': 'anyone',
  'GET /api/auth/status': 'anyone',
  'POST /api/auth/setup': 'anyone',
  'POST /api/auth/login': 'anyone',
  'POST /api/auth/invitation': 'anyone',
  'POST /api/auth/invitation/accept': 'anyone',
  'GET /api/auth/me': 'signed-in',
  'POST /api/auth/logout': 'self',
  'POST /api/auth/logout-everywhere': 'self',
  'POST /api/auth/password': 'self',
  'GET /api/tokens': 'signed-in',
  'POST /api/tokens': 'self',
  'DELETE /api/tokens/:id': 'self',
  'GET /api/users': 'admin-read',
  'GET /api/users/invitations': 'admin-read',
  'GET /api/audit': 'admin-read',
  'POST /api/users/invitations': 'admin-session',
  'DELETE /api/users/invitations/:id': 'admin-session',
  'PATCH /api/users/:id': 'admin-session',
  'DELETE /api/users/:id': 'admin-session',
  'POST /api/incidents/:id/acknowledge': 'acknowledge',
  'POST /api/sites': 'admin',
  'PATCH /api/sites/:id': 'admin',
  'DELETE /api/sites/:id': 'admin',
  'POST /api/sites/:id/scan': 'admin',
  'POST /api/sites/import': 'admin',
  'PATCH /api/settings': 'admin',
  'POST /api/alerts/mutes': 'admin',
  'DELETE /api/alerts/mutes/:id': 'admin',
};

interface Caller {
  name: string;
  role: 'admin' | 'viewer' | null;
  via: 'session' | 'read-token' | 'write-token' | null;
}

const CALLERS: Caller[] = [
  { name: 'anonymous', role: null, via: null },
  { name: 'viewer session', role: 'viewer', via: 'session' },
  { name: 'viewer read token', role: 'viewer', via: 'read-token' },
  { name: 'viewer write token', role: 'viewer', via: 'write-token' },
  { name: 'admin read token', role: 'admin', via: 'read-token' },
  { name: 'admin write token', role: 'admin', via: 'write-token' },
  { name: 'admin session', role: 'admin', via: 'session' },
];

function allowed(who: Who, caller: Caller): boolean {
  if (who === 'anyone') return true;
  if (caller.role === null) return false;
  const admin = caller.role === 'admin';
  const session = caller.via === 'session';
  const canWrite = caller.via !== 'read-token';
  switch (who) {
    case 'signed-in':
      return true;
    case 'acknowledge':
      return canWrite;
    case 'self':
      return session;
    case 'admin-read':
      return admin;
    case 'admin':
      return admin && canWrite;
    case 'admin-session':
      return admin && session;
  }
}

function expectationFor(method: string, path: string): Who {
  return EXPECTED[`${method} ${path}`] ?? (method === 'GET' ? 'signed-in' : 'admin');
}

let t: Awaited<ReturnType<typeof createTestApp>>;
let viewer: SessionUser;
let routes: { method: string; path: string }[];

beforeAll(async () => {
  t = await createTestApp();
  viewer = await t.createUser({ role: 'viewer', email: 'viewer@vigil.test' });
  const seen = new Set<string>();
  routes = t.anonymous.routes
    .filter(
      (route) => route.method !== 'ALL' && (route.path.startsWith('/api/') || route.path === '/healthz'),
    )
    .filter((route) => {
      const key = `${route.method} ${route.path}`;
      return !seen.has(key) && seen.add(key);
    })
    .map(({ method, path }) => ({ method, path }));
});
afterAll(async () => {
  await t.close();
});

/** A fresh credential per request: a logout in one request must not sign out the next. */
async function credentialFor(caller: Caller): Promise<Credential> {
  if (caller.role === null || caller.via === null) return {};
  const user = caller.role === 'admin' ? t.admin : viewer;
  if (caller.via === 'session') return t.sessionFor(user);
  return bearer(await t.tokenFor(user, caller.via === 'read-token' ? 'read' : 'write'));
}

async function call(route: { method: string; path: string }, caller: Caller): Promise<Response> {
  // Ids that exist nowhere: an allowed call gets as far as validation or a 404, never a 401/403.
  const path = route.path.replace(/:\w+/g, '999999');
  const init = route.method === 'GET' ? { method: 'GET' } : jsonRequest(route.method, {});
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(await credentialFor(caller))) headers.set(name, value);
  return t.anonymous.request(path, { ...init, headers });
}

describe('every API route for every kind of caller', () => {
  it('finds the routes it checks, including the explicit ones', () => {
    const keys = routes.map((route) => `${route.method} ${route.path}`);
    expect(keys.length).toBeGreaterThan(40);
    for (const key of Object.keys(EXPECTED)) expect(keys, key).toContain(key);
  });

  for (const caller of CALLERS) {
    it(`answers ${caller.name} as the access rules say`, async () => {
      const wrong: string[] = [];
      for (const route of routes) {
        const who = expectationFor(route.method, route.path);
        const response = await call(route, caller);
        const expectation = allowed(who, caller)
          ? 'allowed'
          : caller.role === null
            ? 'unauthorized'
            : 'forbidden';
        const outcome =
          response.status === 401 ? 'unauthorized' : response.status === 403 ? 'forbidden' : 'allowed';
        // A forbidden answer always says why, in the one error shape.
        if (outcome !== 'allowed') {
          const body = (await response.json()) as { error: { code: string; message: string } };
          expect(body.error.code).toBe(outcome);
          expect(body.error.message.length).toBeGreaterThan(10);
        }
        if (outcome !== expectation)
          wrong.push(`${route.method} ${route.path} (${who}): ${response.status}, expected ${expectation}`);
      }
      expect(wrong).toEqual([]);
    });
  }

  it('answers 401 before 404: an unknown API path tells an anonymous caller nothing', async () => {
    expect((await t.anonymous.request('/api/no-such-thing')).status).toBe(401);
    expect((await t.anonymous.request('/api/sites/1/no-such-thing', { method: 'DELETE' })).status).toBe(401);
    expect((await t.app.request('/api/no-such-thing')).status).toBe(404);
  });

  it('refuses a malformed Authorization header or an unknown token with 401, whatever the route', async () => {
    for (const authorization of [
      'Basic YWRtaW46YWRtaW4=',
      'Bearer',
      'Bearer vgl_nope',
      `Bearer ${'vgl_'}${'A'.repeat(43)}`,
    ]) {
      const response = await t.anonymous.request('/api/sites', { headers: { authorization } });
      expect(response.status, authorization).toBe(401);
    }
  });
});

describe('private-address scanning (SSRF guard)', () => {
  it('can be enabled, globally or per site, by an admin only', async () => {
    const site = (await (
      await t.app.request('/api/sites', jsonRequest('POST', { host: 'internal.example.com' }))
    ).json()) as {
      id: number;
    };
    for (const caller of CALLERS.filter((c) => c.role === 'viewer' || c.via === 'read-token')) {
      for (const [path, body] of [
        ['/api/settings', { allowPrivate: true }],
        [`/api/sites/${site.id}`, { allowPrivate: true }],
      ] as const) {
        const headers = new Headers({ 'content-type': 'application/json', ...(await credentialFor(caller)) });
        const response = await t.anonymous.request(path, {
          method: 'PATCH',
          headers,
          body: JSON.stringify(body),
        });
        expect(response.status, `${caller.name} ${path}`).toBe(403);
      }
      const headers = new Headers({ 'content-type': 'application/json', ...(await credentialFor(caller)) });
      const created = await t.anonymous.request('/api/sites', {
        method: 'POST',
        headers,
        body: JSON.stringify({ host: '10.1.2.3', allowPrivate: true }),
      });
      expect(created.status, caller.name).toBe(403);
    }
    const settings = (await (await t.app.request('/api/settings')).json()) as { allowPrivate: boolean };
    expect(settings.allowPrivate).toBe(false);
    const unchanged = (await (await t.app.request(`/api/sites/${site.id}`)).json()) as {
      allowPrivate: boolean;
    };
    expect(unchanged.allowPrivate).toBe(false);

    const adminSession = t.as(await t.sessionFor(t.admin));
    expect(
      (await adminSession.request('/api/settings', jsonRequest('PATCH', { allowPrivate: true }))).status,
    ).toBe(200);
    expect(
      (await adminSession.request(`/api/sites/${site.id}`, jsonRequest('PATCH', { allowPrivate: true })))
        .status,
    ).toBe(200);
  });
});
