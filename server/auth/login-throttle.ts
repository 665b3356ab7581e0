import { eq, inArray, lt } from 'drizzle-orm';
import type { Db } from '../db';
import { loginThrottles } from '../db/schema';
import { AppError } from '../errors';

/**
 * Login backoff per account and per client address, kept in SQLite so a restart does not reset it.
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

export interface ThrottleState {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/** The state after one more failure at `at`. */
export function afterFailure(
  previous: ThrottleState | null,
  at: number,
  policy: ThrottlePolicy,
): ThrottleState {
  const stale = !previous || at - previous.lastFailureAt > policy.maxDelayMs;
  const failures = (stale ? 0 : previous.failures) + 1;
  const over = failures - policy.freeFailures;
  const delay = over >= 0 ? Math.min(policy.baseDelayMs * 2 ** over, policy.maxDelayMs) : 0;
  return { failures, lastFailureAt: at, blockedUntil: at + delay };
}

export function throttleKeys(email: string, ip: string): { account: string; address: string } {
  return { account: `account:${email.trim().toLowerCase()}`, address: `ip:${ip}` };
}

function policyFor(key: string): ThrottlePolicy {
  return key.startsWith('ip:') ? ADDRESS_POLICY : ACCOUNT_POLICY;
}

/** Throws 429 (with Retry-After seconds in details) while any of the keys is blocked; checks nothing else. */
export function assertLoginAllowed(db: Db, keys: readonly string[], now: Date): void {
  const rows = db
    .select()
    .from(loginThrottles)
    .where(inArray(loginThrottles.key, [...keys]))
    .all();
  const waitMs = Math.max(0, ...rows.map((row) => row.blockedUntil.getTime() - now.getTime()));
  if (waitMs > 0) {
    const retryAfter = Math.ceil(waitMs / 1000);
    throw new AppError('rate_limited', `Too many failed logins. Try again in ${retryAfter} s.`, {
      retryAfter,
    });
  }
}

export function recordLoginFailure(db: Db, keys: readonly string[], now: Date): void {
  const at = now.getTime();
  db.transaction((tx) => {
    for (const key of keys) {
      const row = tx.select().from(loginThrottles).where(eq(loginThrottles.key, key)).get();
      const previous = row
        ? {
            failures: row.failures,
            lastFailureAt: row.lastFailureAt.getTime(),
            blockedUntil: row.blockedUntil.getTime(),
          }
        : null;
      const next = afterFailure(previous, at, policyFor(key));
      const values = {
        failures: next.failures,
        lastFailureAt: new Date(next.lastFailureAt),
        blockedUntil: new Date(next.blockedUntil),
      };
      tx.insert(loginThrottles)
        .values({ key, ...values })
        .onConflictDoUpdate({ target: loginThrottles.key, set: values })
        .run();
    }
  });
}

/** A good login clears its account's failures; the address keeps its count, so one valid account cannot reset it. */
export function clearLoginFailures(db: Db, accountKey: string): void {
  db.delete(loginThrottles).where(eq(loginThrottles.key, accountKey)).run();
}

/** Forgets failures older than the longest wait, so the table does not keep every address ever seen. */
export function pruneLoginThrottles(db: Db, now: Date): void {
  const horizon = Math.max(ACCOUNT_POLICY.maxDelayMs, ADDRESS_POLICY.maxDelayMs);
  db.delete(loginThrottles)
    .where(lt(loginThrottles.lastFailureAt, new Date(now.getTime() - horizon)))
    .run();
}
