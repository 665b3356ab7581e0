import { and, eq, isNull } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword, UNUSABLE_PASSWORD, verifyPassword } from '../auth/password';
import { randomSecret, sha256 } from '../auth/secrets';
import { setupTokens, type UserRole, users } from '../db/schema';
import { createTempDatabase, type TempDatabase } from '../db/temp-database';
import {
  acceptInvitation,
  changePassword,
  completeSetup,
  createInvitation,
  deleteUser,
  insertUser,
  issueSetupToken,
  toSessionUser,
  updateUser,
} from './users';

/**
 * Account changes that race: two requests at the same moment, as two processes serving one PostgreSQL
 * database (or one process with several connections) would run them. Each must end as if they had run
 * one after the other.
 */

const PASSWORD = 'juniper-anvil-causeway-73';
const now = () => new Date('2026-03-01T12:00:00.000Z');

let database: TempDatabase;
beforeEach(async () => {
  database = await createTempDatabase();
  // Connections open before the race (PostgreSQL opens them lazily), so the racing calls do run at once.
  await Promise.all(Array.from({ length: 4 }, () => database.db.select().from(users)));
});
afterEach(async () => {
  await database.remove();
});

function account(email: string, role: UserRole, passwordHash = UNUSABLE_PASSWORD) {
  return insertUser(database.db, { email, name: '', role, passwordHash, now: now() });
}

/** What each of the racing calls came to: 'ok', or the code of the AppError it threw. */
async function outcomes(calls: Promise<unknown>[]): Promise<string[]> {
  const settled = await Promise.allSettled(calls);
  return settled.map((result) =>
    result.status === 'fulfilled' ? 'ok' : String((result.reason as { code?: string }).code ?? result.reason),
  );
}

async function activeAdmins(): Promise<string[]> {
  const rows = await database.db
    .select({ email: users.email })
    .from(users)
    .where(and(eq(users.role, 'admin'), isNull(users.disabledAt)));
  return rows.map((row) => row.email);
}

describe('first-run setup', () => {
  it('creates one admin when two setups race, each with a link a starting process printed', async () => {
    const first = await issueSetupToken({ db: database.db, now });
    if (!first) throw new Error('no setup link on an empty database');
    // A second process started at the same moment and printed its own link.
    const second = randomSecret(32);
    await database.db.insert(setupTokens).values({ tokenHash: sha256(second), createdAt: now() });
    const setup = (token: string, email: string) =>
      completeSetup({ db: database.db, now, input: { token, email, name: '', password: PASSWORD, ip: '' } });

    const results = await outcomes([setup(first, 'one@example.com'), setup(second, 'two@example.com')]);
    expect(results.sort()).toEqual(['ok', 'unauthorized']);
    expect(await activeAdmins()).toHaveLength(1);
    // Both links are used up.
    expect(await database.db.select().from(setupTokens)).toEqual([]);
  });
});

describe('accounts', () => {
  it('answers a conflict, not a storage error, when the same address is added twice at once', async () => {
    const results = await outcomes([
      account('twin@example.com', 'viewer'),
      account('twin@example.com', 'viewer'),
    ]);
    expect(results.sort()).toEqual(['conflict', 'ok']);
  });

  it('keeps an active admin when the last two demote each other at the same moment', async () => {
    const [a, b] = [await account('a@example.com', 'admin'), await account('b@example.com', 'admin')];
    const demote = (id: number) =>
      updateUser({ db: database.db, now, input: { id, patch: { role: 'viewer' } } });
    expect((await outcomes([demote(a.id), demote(b.id)])).sort()).toEqual(['conflict', 'ok']);
    expect(await activeAdmins()).toHaveLength(1);
  });

  it('keeps an active admin when one deletes the other while being disabled by them', async () => {
    const [a, b] = [await account('a@example.com', 'admin'), await account('b@example.com', 'admin')];
    const results = await outcomes([
      deleteUser({ db: database.db, input: { id: b.id, actorId: a.id } }),
      updateUser({ db: database.db, now, input: { id: a.id, patch: { disabled: true } } }),
    ]);
    expect(results.sort()).toEqual(['conflict', 'ok']);
    expect(await activeAdmins()).toHaveLength(1);
  });

  it('deletes an account once when two admins delete it at the same moment', async () => {
    const admin = await account('admin@example.com', 'admin');
    const leaving = await account('leaving@example.com', 'viewer');
    const remove = () => deleteUser({ db: database.db, input: { id: leaving.id, actorId: admin.id } });
    expect((await outcomes([remove(), remove()])).sort()).toEqual(['not_found', 'ok']);
  });
});

describe('invitations', () => {
  it('makes one account when the same link is accepted twice at once; the second finds it used', async () => {
    const admin = await account('admin@example.com', 'admin');
    const { token } = await createInvitation({
      db: database.db,
      now,
      input: { email: 'new@example.com', role: 'viewer', invitedBy: admin.id },
    });
    const accept = () =>
      acceptInvitation({ db: database.db, now, input: { token, name: '', password: PASSWORD, ip: '' } });
    expect((await outcomes([accept(), accept()])).sort()).toEqual(['not_found', 'ok']);
    expect(await database.db.select().from(users).where(eq(users.email, 'new@example.com'))).toHaveLength(1);
  });
});

describe('passwords', () => {
  it('of two changes at once, each checked against the old password, only the first takes effect', async () => {
    // An old, cheap hash to check against keeps the test quick; the new ones are made at today's cost.
    const oldHash = await hashPassword(PASSWORD, { ln: 10, r: 8, p: 1 });
    const user = toSessionUser(await account('me@example.com', 'viewer', oldHash));
    const change = (newPassword: string) =>
      changePassword({
        db: database.db,
        now,
        input: { user, currentPassword: PASSWORD, newPassword, keepSessionIdHash: null, ip: '' },
      });
    const candidates = ['quartz-meadow-falcon-9', 'saffron-glacier-parade-2'] as const;
    const results = await outcomes(candidates.map(change));
    expect([...results].sort()).toEqual(['forbidden', 'ok']);
    const [stored] = await database.db.select().from(users).where(eq(users.id, user.id));
    expect(await verifyPassword(candidates[results.indexOf('ok')]!, stored!.passwordHash)).toBe(true);
  });
});
