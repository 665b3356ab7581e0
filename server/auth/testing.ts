import { eq } from 'drizzle-orm';
import { type Db, databaseFile, migrateDatabase, openDatabase } from '../db';
import { users } from '../db/schema';
import { insertUser, toSessionUser } from '../services/users';
import { createApiToken } from './api-tokens';
import { SESSION_COOKIE } from './cookies';
import { CSRF_COOKIE, csrfTokenFor } from './csrf';
import { UNUSABLE_PASSWORD } from './password';
import { createSession, type SessionUser } from './sessions';

/** The admin tests sign in as: made on first use in a database, then reused. */
export const TEST_ADMIN_EMAIL = 'admin@vigil.test';

/** The test admin (no usable password) and a fresh write-scoped API token of theirs. */
export function seedTestAdmin(db: Db, now: Date): { admin: SessionUser; token: string } {
  const existing = db.select().from(users).where(eq(users.email, TEST_ADMIN_EMAIL)).get();
  const admin = toSessionUser(
    existing ??
      insertUser(db, {
        email: TEST_ADMIN_EMAIL,
        name: 'Test Admin',
        role: 'admin',
        passwordHash: UNUSABLE_PASSWORD,
        now,
      }),
  );
  return { admin, token: createApiToken(db, { user: admin, name: 'tests', scope: 'write', now }).token };
}

/**
 * For tests that run `vigil serve` over a data directory: migrates it, seeds the test admin and answers an
 * `Authorization` header value for the API (what an operator's first-run setup plus a token would give).
 */
export function seedAdminAuthorization(dataDir: string): string {
  migrateDatabase(dataDir);
  const database = openDatabase(databaseFile(dataDir));
  try {
    return `Bearer ${seedTestAdmin(database.db, new Date()).token}`;
  } finally {
    database.close();
  }
}

/**
 * For benchmarks and tools that drive the dashboard in a browser: a session of the test admin in the data
 * directory's database, as the cookies a browser would hold after signing in.
 */
export function seedAdminSessionCookies(dataDir: string): { name: string; value: string }[] {
  migrateDatabase(dataDir);
  const database = openDatabase(databaseFile(dataDir));
  try {
    const now = new Date();
    const { admin } = seedTestAdmin(database.db, now);
    const session = createSession(database.db, { userId: admin.id, now, ip: '', userAgent: 'seeded' });
    return [
      { name: SESSION_COOKIE, value: session.id },
      { name: CSRF_COOKIE, value: csrfTokenFor(session.id) },
    ];
  } finally {
    database.close();
  }
}
