import { and, eq, lt, ne, or } from 'drizzle-orm';
import type { Db } from '../db';
import { sessions, users } from '../db/schema';
import { randomSecret, sha256 } from './secrets';

/** A session ends after this long without a request… */
export const SESSION_IDLE_MS = 12 * 3_600_000;
/** …and this long after login, however active. */
export const SESSION_MAX_MS = 14 * 86_400_000;
/** lastSeenAt is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60_000;

export type SessionUser = Pick<typeof users.$inferSelect, 'id' | 'email' | 'name' | 'role'>;

export interface ResolvedSession {
  idHash: string;
  user: SessionUser;
  createdAt: Date;
  /** When it ends if nothing else happens: the earlier of the idle and the absolute limit. */
  expiresAt: Date;
}

/** Bookkeeping (last-seen times, clearing dead rows) must not fail the request it rides on when the database refuses a write. */
export function writeQuietly(write: () => void): void {
  try {
    write();
  } catch {
    // A locked or read-only database: the next request tries again.
  }
}

function idleLimit(now: Date): Date {
  return new Date(now.getTime() - SESSION_IDLE_MS);
}

/** Starts a session; returns the secret id for the cookie (only its hash is stored). */
export function createSession(
  db: Db,
  input: { userId: number; now: Date; ip: string; userAgent: string },
): { id: string; expiresAt: Date } {
  const id = randomSecret(32);
  const expiresAt = new Date(input.now.getTime() + SESSION_MAX_MS);
  db.transaction((tx) => {
    tx.delete(sessions)
      .where(or(lt(sessions.expiresAt, input.now), lt(sessions.lastSeenAt, idleLimit(input.now))))
      .run();
    tx.insert(sessions)
      .values({
        idHash: sha256(id),
        userId: input.userId,
        createdAt: input.now,
        lastSeenAt: input.now,
        expiresAt,
        ip: input.ip.slice(0, 64),
        userAgent: input.userAgent.slice(0, 300),
      })
      .run();
  });
  return { id, expiresAt };
}

/** The live session for a cookie value, or null (unknown, idle too long, too old, or its user disabled). */
export function resolveSession(db: Db, id: string, now: Date): ResolvedSession | null {
  const idHash = sha256(id);
  const row = db
    .select({
      session: sessions,
      user: {
        id: users.id,
        email: users.email,
        name: users.name,
        role: users.role,
        disabledAt: users.disabledAt,
      },
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.idHash, idHash))
    .get();
  if (!row) return null;
  const { session, user } = row;
  if (session.expiresAt <= now || session.lastSeenAt <= idleLimit(now) || user.disabledAt) {
    writeQuietly(() => db.delete(sessions).where(eq(sessions.idHash, idHash)).run());
    return null;
  }
  let lastSeenAt = session.lastSeenAt;
  if (now.getTime() - lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    lastSeenAt = now;
    writeQuietly(() => db.update(sessions).set({ lastSeenAt }).where(eq(sessions.idHash, idHash)).run());
  }
  const idleEnd = lastSeenAt.getTime() + SESSION_IDLE_MS;
  return {
    idHash,
    user: { id: user.id, email: user.email, name: user.name, role: user.role },
    createdAt: session.createdAt,
    expiresAt: new Date(Math.min(idleEnd, session.expiresAt.getTime())),
  };
}

export function endSession(db: Db, idHash: string): void {
  db.delete(sessions).where(eq(sessions.idHash, idHash)).run();
}

/** Logs a user out everywhere, or everywhere but the session that asked. */
export function endUserSessions(db: Db, userId: number, exceptIdHash?: string): number {
  return db
    .delete(sessions)
    .where(and(eq(sessions.userId, userId), exceptIdHash ? ne(sessions.idHash, exceptIdHash) : undefined))
    .run().changes;
}
