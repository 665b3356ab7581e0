import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { loginThrottles } from '../db/schema';
import { AppError } from '../errors';

/**
 * Login backoff per account and per client address, kept in the database so a restart does not reset it
 * and every process serving the API sees the same counts.
 * After `freeFailures` failures the next attempt waits `baseDelayMs`; each further failure doubles the
 * wait, up to a cap. A quiet spell as long as the cap forgets the failures.
 */
export interface ThrottlePolicy {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = { freeFailures: 5, baseDelayMs: 30_000, maxDelayMs: 3_600_000 };
/** Generous: many people may share one address (an office behind NAT). */
export const ADDRESS_POLICY: ThrottlePolicy = {
  freeFailures: 20,
  baseDelayMs: 30_000,
  maxDelayMs: 3_600_000,
};

/** How long the next attempt waits after `failures` failures in a row. */
export function backoffMs(failures: number, policy: ThrottlePolicy): number {
  const over = failures - policy.freeFailures;
  return over >= 0 ? Math.min(policy.baseDelayMs * 2 ** over, policy.maxDelayMs) : 0;
}

export function throttleKeys(email: string, ip: string): { account: string; address: string } {
  return { account: `account:${email.trim().toLowerCase()}`, address: `ip:${ip}` };
}

function policyFor(key: string): ThrottlePolicy {
  return key.startsWith('ip:') ? ADDRESS_POLICY : ACCOUNT_POLICY;
}

/** Throws 429 (with Retry-After seconds in details) while any of the keys is blocked; checks nothing else. */
export async function assertLoginAllowed(db: Db, keys: readonly string[], now: Date): Promise<void> {
  const rows = await db
    .select({ blockedUntil: loginThrottles.blockedUntil })
    .from(loginThrottles)
    .where(inArray(loginThrottles.key, [...keys]));
  const waitMs = Math.max(0, ...rows.map((row) => row.blockedUntil.getTime() - now.getTime()));
  if (waitMs > 0) {
    const retryAfter = Math.ceil(waitMs / 1000);
    throw new AppError('rate_limited', `Too many failed logins. Try again in ${retryAfter} s.`, {
      retryAfter,
    });
  }
}

/**
 * Counts one more failure for each key. Requests in other processes fail at the same moment, so the count
 * is incremented by the database in one statement (a read-then-write would lose some), and the block only
 * ever moves later: of two concurrent failures, the one that counted more decides it.
 */
export async function recordLoginFailure(db: Db, keys: readonly string[], now: Date): Promise<void> {
  for (const key of keys) {
    const policy = policyFor(key);
    // A quiet spell as long as the longest wait starts the count again.
    const streakStart = new Date(now.getTime() - policy.maxDelayMs);
    const [counted] = await db
      .insert(loginThrottles)
      .values({ key, failures: 1, lastFailureAt: now, blockedUntil: now })
      .onConflictDoUpdate({
        target: loginThrottles.key,
        set: {
          failures: sql`case when ${lt(loginThrottles.lastFailureAt, streakStart)} then 1 else ${loginThrottles.failures} + 1 end`,
          lastFailureAt: now,
        },
      })
      .returning({ failures: loginThrottles.failures });
    if (!counted) throw new Error(`no throttle row for ${key} after counting a failure`);
    const blockedUntil = new Date(now.getTime() + backoffMs(counted.failures, policy));
    await db
      .update(loginThrottles)
      .set({ blockedUntil })
      .where(and(eq(loginThrottles.key, key), lt(loginThrottles.blockedUntil, blockedUntil)));
  }
}

/** A good login clears its account's failures; the address keeps its count, so one valid account cannot reset it. */
export async function clearLoginFailures(db: Db, accountKey: string): Promise<void> {
  await db.delete(loginThrottles).where(eq(loginThrottles.key, accountKey));
}

/** Forgets failures older than the longest wait, so the table does not keep every address ever seen. */
export async function pruneLoginThrottles(db: Db, now: Date): Promise<void> {
  const horizon = Math.max(ACCOUNT_POLICY.maxDelayMs, ADDRESS_POLICY.maxDelayMs);
  await db.delete(loginThrottles).where(lt(loginThrottles.lastFailureAt, new Date(now.getTime() - horizon)));
}
