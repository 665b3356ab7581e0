import { type AppDeps, createApp } from '../app';
import { createApiToken } from '../auth/api-tokens';
import { SESSION_COOKIE } from '../auth/cookies';
import { CSRF_COOKIE, CSRF_HEADER, csrfTokenFor } from '../auth/csrf';
import { hashPassword, UNUSABLE_PASSWORD } from '../auth/password';
import { createSession, type SessionUser } from '../auth/sessions';
import { seedTestAdmin } from '../auth/testing';
import type { TokenScope, UserRole } from '../db/schema';
import { createTempDatabase } from '../db/temp-database';
import { createScheduler, type RunScan } from '../scheduler/scheduler';
import { createScriptedScan } from '../scheduler/scripted-scan';
import { DEFAULT_INTERVAL_MINUTES, type Settings } from '../services/context';
import { insertUser, toSessionUser } from '../services/users';

export const TEST_DEFAULTS: Settings = {
  allowPrivate: false,
  retentionDays: 400,
  scanConcurrency: 8,
  defaultIntervalMinutes: DEFAULT_INTERVAL_MINUTES,
};

/** A clock tests move by hand. */
export function createClock(start = new Date('2026-03-01T12:00:00.000Z')) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
    set(at: Date) {
      current = at.getTime();
    },
  };
}

/** The origin in-process requests have (`app.request('/api/…')` is `http://localhost/api/…`). */
export const TEST_ORIGIN = 'http://localhost';

/** Headers that sign a request in: a bearer token, or a session cookie with its CSRF token and our Origin. */
export type Credential = Record<string, string>;

export function bearer(token: string): Credential {
  return { authorization: `Bearer ${token}` };
}

export function sessionCredential(sessionId: string): Credential {
  const csrf = csrfTokenFor(sessionId);
  return {
    cookie: `${SESSION_COOKIE}=${sessionId}; ${CSRF_COOKIE}=${csrf}`,
    [CSRF_HEADER]: csrf,
    origin: TEST_ORIGIN,
  };
}

type App = ReturnType<typeof createApp>;
type RequestArgs = Parameters<App['request']>;

/** The same app, with `credential` added to every request that does not bring its own authorization or cookie. */
function signedIn(app: App, credential: Credential): App {
  const wrapper = Object.create(app) as App;
  wrapper.request = (
    input: RequestArgs[0],
    init?: RequestArgs[1],
    env?: RequestArgs[2],
    executionCtx?: RequestArgs[3],
  ) => {
    const url = typeof input === 'string' && input.startsWith('/') ? `${TEST_ORIGIN}${input}` : input;
    const request = new Request(url, init);
    if (!request.headers.has('authorization') && !request.headers.has('cookie'))
      for (const [name, value] of Object.entries(credential)) request.headers.set(name, value);
    return app.request(request, undefined, env, executionCtx);
  };
  return wrapper;
}

/** `createApp` for tests that assemble their own deps: the same app, signed in as a freshly seeded admin. */
export async function createSignedInApp(deps: AppDeps): Promise<App> {
  const app = createApp(deps);
  const { token } = await seedTestAdmin(deps.database.db, (deps.now ?? (() => new Date()))());
  return signedIn(app, bearer(token));
}

/**
 * The real app over a real temporary database of the test dialect (SQLite, or PostgreSQL with
 * VIGIL_TEST_DIALECT=pg), with a scheduler that only ticks when the test says so.
 * `t.app` is signed in as an admin (a write-scoped API token); `t.anonymous` sends no credentials, and
 * `t.as(credential)` sends others (see `t.createUser`, `t.tokenFor`, `t.sessionFor`).
 */
export async function createTestApp(
  options: { runScan?: RunScan; defaults?: Partial<Settings>; trustProxy?: boolean; publicUrl?: string } = {},
) {
  const database = await createTempDatabase();
  const clock = createClock();
  const scripted = createScriptedScan();
  const defaults = { ...TEST_DEFAULTS, ...options.defaults };
  const scheduler = createScheduler({
    db: database.db,
    runScan: options.runScan ?? scripted.runScan,
    defaults,
    now: clock.now,
    random: () => 0.5,
    tickCron: null,
  });
  const anonymous = createApp({
    database,
    scheduler,
    defaults,
    now: clock.now,
    dashboardDir: null,
    trustProxy: options.trustProxy ?? false,
    publicUrl: options.publicUrl ?? null,
  });

  let users = 0;
  /** An account made directly in the database; with a password it can log in (hashing takes about half a second). */
  async function createUser(
    input: { role?: UserRole; email?: string; name?: string; password?: string } = {},
  ): Promise<SessionUser> {
    users += 1;
    const row = await insertUser(database.db, {
      email: input.email ?? `user${users}@vigil.test`,
      name: input.name ?? '',
      role: input.role ?? 'viewer',
      passwordHash: input.password ? await hashPassword(input.password) : UNUSABLE_PASSWORD,
      now: clock.now(),
    });
    return toSessionUser(row);
  }

  async function tokenFor(user: SessionUser, scope: TokenScope = 'write'): Promise<string> {
    return (await createApiToken(database.db, { user, name: `${scope} token`, scope, now: clock.now() }))
      .token;
  }

  async function sessionFor(user: SessionUser): Promise<Credential> {
    const session = await createSession(database.db, {
      userId: user.id,
      now: clock.now(),
      ip: '',
      userAgent: 'test',
    });
    return sessionCredential(session.id);
  }

  const { admin, token: adminToken } = await seedTestAdmin(database.db, clock.now());

  return {
    /** Signed in as the admin with a write-scoped API token. */
    app: signedIn(anonymous, bearer(adminToken)),
    /** No credentials at all. */
    anonymous,
    as: (credential: Credential) => signedIn(anonymous, credential),
    admin,
    adminToken,
    createUser,
    tokenFor,
    sessionFor,
    db: database.db,
    database,
    dialect: database.dialect,
    dataDir: database.dataDir,
    scheduler,
    clock,
    scripted,
    /** Closes the database under the app, as if the file or server went away. */
    closeDatabase: database.close,
    async close() {
      await scheduler.stop({ graceMs: 1000 });
      await database.remove();
    },
  };
}

export function jsonRequest(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Test assertions read arbitrary response JSON; `toMatchObject` does the checking. */
// biome-ignore lint/suspicious/noExplicitAny: the shape is what each test asserts.
export async function readJson(response: Response): Promise<any> {
  return response.json();
}
