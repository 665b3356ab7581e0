import { and, eq, lt, ne, or } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db';
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
export async function writeQuietly(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch {
    // A locked or read-only database: the next request tries again.
  }
}

function idleLimit(now: Date): Date {
  return new Date(now.getTime() - SESSION_IDLE_MS);
}

/** Starts a session; returns the secret id for the cookie (only its hash is stored). */
export async function createSession(
  db: Db,
  input: { userId: number; now: Date; ip: string; userAgent: string },
): Promise<{ id: string; expiresAt: Date }> {
  const id = randomSecret(32);
  const expiresAt = new Date(input.now.getTime() + SESSION_MAX_MS);
  await db.transaction(async (tx) => {
    await tx
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, input.now), lt(sessions.lastSeenAt, idleLimit(input.now))));
    await tx.insert(sessions).values({
      idHash: sha256(id),
      userId: input.userId,
      createdAt: input.now,
      lastSeenAt: input.now,
      expiresAt,
      ip: input.ip.slice(0, 64),
      userAgent: input.userAgent.slice(0, 300),
    });
  });
  return { id, expiresAt };
}

/** The live session for a cookie value, or null (unknown, idle too long, too old, or its user disabled). */
export async function resolveSession(db: Db, id: string, now: Date): Promise<ResolvedSession | null> {
  const idHash = sha256(id);
  const [row] = await db
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
    .limit(1);
  if (!row) return null;
  const { session, user } = row;
  if (session.expiresAt <= now || session.lastSeenAt <= idleLimit(now) || user.disabledAt) {
    await writeQuietly(() => db.delete(sessions).where(eq(sessions.idHash, idHash)));
    return null;
  }
  let lastSeenAt = session.lastSeenAt;
  if (now.getTime() - lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    lastSeenAt = now;
    // Only forward: a slower concurrent request (another process's clock) must not move it back.
    await writeQuietly(() =>
      db
        .update(sessions)
        .set({ lastSeenAt })
        .where(and(eq(sessions.idHash, idHash), lt(sessions.lastSeenAt, lastSeenAt))),
    );
  }
  const idleEnd = lastSeenAt.getTime() + SESSION_IDLE_MS;
  return {
    idHash,
    user: { id: user.id, email: user.email, name: user.name, role: user.role },
    createdAt: session.createdAt,
    expiresAt: new Date(Math.min(idleEnd, session.expiresAt.getTime())),
  };
}

export async function endSession(db: DbOrTx, idHash: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, idHash));
}

/** Logs a user out everywhere, or everywhere but the session that asked; answers how many sessions ended. */
export async function endUserSessions(db: DbOrTx, userId: number, exceptIdHash?: string): Promise<number> {
  const ended = await db
    .delete(sessions)
    .where(and(eq(sessions.userId, userId), exceptIdHash ? ne(sessions.idHash, exceptIdHash) : undefined))
    .returning({ idHash: sessions.idHash });
  return ended.length;
}
