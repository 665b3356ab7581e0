import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loginThrottles } from '../db/schema';
import { createTempDatabase, type TempDatabase } from '../db/temp-database';
import {
  ACCOUNT_POLICY,
  ADDRESS_POLICY,
  assertLoginAllowed,
  backoffMs,
  recordLoginFailure,
  throttleKeys,
} from './login-throttle';

describe('backoffMs', () => {
  it('lets the first attempts through, then doubles the wait up to the cap', () => {
    expect([4, 5, 6, 7, 12, 20].map((failures) => backoffMs(failures, ACCOUNT_POLICY))).toEqual([
      0, 30_000, 60_000, 120_000, 3_600_000, 3_600_000,
    ]);
  });

  it('is more generous per address than per account', () => {
    expect(backoffMs(19, ADDRESS_POLICY)).toBe(0);
    expect(backoffMs(20, ADDRESS_POLICY)).toBe(30_000);
  });
});

describe('throttleKeys', () => {
  it('keys the account by its normalised address and the client by its IP', () => {
    expect(throttleKeys(' Ops@Example.COM ', '2001:db8::1')).toEqual({
      account: 'account:ops@example.com',
      address: 'ip:2001:db8::1',
    });
  });
});

describe('failures kept in the database', () => {
  const KEY = 'account:target@example.com';
  const start = new Date('2026-03-01T12:00:00.000Z');
  const at = (ms: number) => new Date(start.getTime() + ms);
  let database: TempDatabase;

  beforeEach(async () => {
    database = await createTempDatabase();
  });
  afterEach(async () => {
    await database.remove();
  });

  async function stored() {
    const [row] = await database.db.select().from(loginThrottles).where(eq(loginThrottles.key, KEY));
    return row;
  }

  it('counts every one of many failures at the same moment (as from several processes)', async () => {
    await Promise.all(
      Array.from({ length: 24 }, () => recordLoginFailure(database.db, [KEY, 'ip:198.51.100.7'], start)),
    );
    expect(await stored()).toMatchObject({ failures: 24, blockedUntil: at(3_600_000) });
    const [address] = await database.db
      .select()
      .from(loginThrottles)
      .where(eq(loginThrottles.key, 'ip:198.51.100.7'));
    expect(address).toMatchObject({ failures: 24, blockedUntil: at(ADDRESS_POLICY.baseDelayMs * 2 ** 4) });
  });

  it('blocks after five failures, the wait growing with each failure that follows', async () => {
    for (let failure = 0; failure < 5; failure++) await recordLoginFailure(database.db, [KEY], at(failure));
    await expect(assertLoginAllowed(database.db, [KEY], at(5))).rejects.toMatchObject({
      code: 'rate_limited',
      details: { retryAfter: 30 },
    });
    await assertLoginAllowed(database.db, [KEY], at(30_004));
    await recordLoginFailure(database.db, [KEY], at(30_004));
    expect(await stored()).toMatchObject({ failures: 6, blockedUntil: at(90_004) });
  });

  it('starts counting again after a quiet spell as long as the longest wait', async () => {
    for (let failure = 0; failure < 8; failure++) await recordLoginFailure(database.db, [KEY], at(failure));
    const later = at(7 + ACCOUNT_POLICY.maxDelayMs + 1);
    await assertLoginAllowed(database.db, [KEY], later);
    await recordLoginFailure(database.db, [KEY], later);
    expect(await stored()).toEqual({ key: KEY, failures: 1, lastFailureAt: later, blockedUntil: later });
  });

  it('never moves a block earlier: a concurrent failure that counted more may have set a later one', async () => {
    for (let failure = 0; failure < 6; failure++) await recordLoginFailure(database.db, [KEY], start);
    await database.db
      .update(loginThrottles)
      .set({ blockedUntil: at(500_000) })
      .where(eq(loginThrottles.key, KEY));
    await recordLoginFailure(database.db, [KEY], at(1_000));
    expect(await stored()).toMatchObject({ failures: 7, blockedUntil: at(500_000) });
  });
});
