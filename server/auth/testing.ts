import { eq } from 'drizzle-orm';
import { type Db, openMigratedDatabase } from '../db';
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
export async function seedTestAdmin(db: Db, now: Date): Promise<{ admin: SessionUser; token: string }> {
  const [existing] = await db.select().from(users).where(eq(users.email, TEST_ADMIN_EMAIL)).limit(1);
  const admin = toSessionUser(
    existing ??
      (await insertUser(db, {
        email: TEST_ADMIN_EMAIL,
        name: 'Test Admin',
        role: 'admin',
        passwordHash: UNUSABLE_PASSWORD,
        now,
      })),
  );
  const { token } = await createApiToken(db, { user: admin, name: 'tests', scope: 'write', now });
  return { admin, token };
}

/**
 * For tests that run `vigil serve` over a data directory or a PostgreSQL URL: migrates it, seeds the test
 * admin and answers an `Authorization` header value for the API (what an operator's first-run setup plus
 * a token would give).
 */
export async function seedAdminAuthorization(location: string): Promise<string> {
  const database = await openMigratedDatabase(location);
  try {
    return `Bearer ${(await seedTestAdmin(database.db, new Date())).token}`;
  } finally {
    await database.close();
  }
}

/**
 * For benchmarks and tools that drive the dashboard in a browser: a session of the test admin in the data
 * directory's (or PostgreSQL URL's) database, as the cookies a browser would hold after signing in.
 */
export async function seedAdminSessionCookies(location: string): Promise<{ name: string; value: string }[]> {
  const database = await openMigratedDatabase(location);
  try {
    const now = new Date();
    const { admin } = await seedTestAdmin(database.db, now);
    const session = await createSession(database.db, { userId: admin.id, now, ip: '', userAgent: 'seeded' });
    return [
      { name: SESSION_COOKIE, value: session.id },
      { name: CSRF_COOKIE, value: csrfTokenFor(session.id) },
    ];
  } finally {
    await database.close();
  }
}
