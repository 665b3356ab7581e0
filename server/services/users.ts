import { and, asc, count, eq, gt, isNull, ne } from 'drizzle-orm';
import { z } from 'zod';
import {
  assertLoginAllowed,
  clearLoginFailures,
  pruneLoginThrottles,
  recordLoginFailure,
  throttleKeys,
} from '../auth/login-throttle';
import {
  hashPassword,
  needsRehash,
  PASSWORD_MAX_LENGTH,
  passwordProblem,
  verifyPassword,
} from '../auth/password';
import { randomSecret, sha256 } from '../auth/secrets';
import { endUserSessions, type SessionUser } from '../auth/sessions';
import type { Db } from '../db';
import { invitations, setupTokens, USER_ROLES, type UserRole, users } from '../db/schema';
import { AppError } from '../errors';
import { recordAudit } from './audit-log';
import type { ServiceContext } from './context';

/** How long an invitation link works. */
export const INVITATION_TTL_MS = 7 * 86_400_000;
/** One message for every failed login, whatever the reason: it must not tell which addresses have accounts. */
export const LOGIN_FAILED = 'Wrong e-mail address or password';

type Ctx = Pick<ServiceContext, 'db' | 'now'>;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email('an e-mail address'));
const nameSchema = z.string().trim().max(100);
/** Length and content rules are checked by passwordProblem, which also knows the user's name and address. */
const newPasswordSchema = z.string().min(1).max(PASSWORD_MAX_LENGTH);
/** One-time secrets from links are 43 base64url characters. */
const linkTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'the token from the link');

export const setupSchema = z
  .object({
    token: linkTokenSchema,
    email: emailSchema,
    name: nameSchema.default(''),
    password: newPasswordSchema,
  })
  .strict();

export const loginSchema = z
  .object({ email: z.string().trim().max(254), password: z.string().max(PASSWORD_MAX_LENGTH) })
  .strict();

export const invitationSchema = z.object({ email: emailSchema, role: z.enum(USER_ROLES) }).strict();
export const invitationTokenSchema = z.object({ token: linkTokenSchema }).strict();
export const acceptInvitationSchema = z
  .object({ token: linkTokenSchema, name: nameSchema.default(''), password: newPasswordSchema })
  .strict();

export const userPatchSchema = z
  .object({ name: nameSchema, role: z.enum(USER_ROLES), disabled: z.boolean() })
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'nothing to update: give name, role or disabled');

export const passwordChangeSchema = z
  .object({ currentPassword: z.string().max(PASSWORD_MAX_LENGTH), newPassword: newPasswordSchema })
  .strict();

export interface UserView {
  id: number;
  email: string;
  name: string;
  role: UserRole;
  disabled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface InvitationView {
  id: number;
  email: string;
  role: UserRole;
  invitedBy: string | null;
  createdAt: string;
  expiresAt: string;
}

type UserRow = typeof users.$inferSelect;

function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabledAt !== null,
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toSessionUser(row: Pick<UserRow, 'id' | 'email' | 'name' | 'role'>): SessionUser {
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

function assertAcceptablePassword(password: string, personal: { email: string; name: string }): void {
  const problem = passwordProblem(password, personal);
  if (problem)
    throw new AppError('invalid_request', problem, { issues: [{ path: 'password', message: problem }] });
}

function countUsers(db: Db | Tx): number {
  return db.select({ n: count() }).from(users).get()?.n ?? 0;
}

/** Inserts an account; the address must be free (the unique index has the last word on races). */
export function insertUser(
  db: Db | Tx,
  input: { email: string; name: string; role: UserRole; passwordHash: string; now: Date },
): UserRow {
  if (db.select({ id: users.id }).from(users).where(eq(users.email, input.email)).get())
    throw new AppError('conflict', `There is already an account for ${input.email}`);
  return db
    .insert(users)
    .values({
      email: input.email,
      name: input.name,
      role: input.role,
      passwordHash: input.passwordHash,
      passwordChangedAt: input.now,
      createdAt: input.now,
      updatedAt: input.now,
    })
    .returning()
    .get();
}

// ---- First run ----

export function setupRequired({ db }: Pick<Ctx, 'db'>): boolean {
  return countUsers(db) === 0;
}

/** While nobody has an account: a fresh one-time setup secret (any older one stops working). Null once set up. */
export function issueSetupToken({ db, now }: Ctx): string | null {
  const token = randomSecret(32);
  return db.transaction((tx) => {
    if (countUsers(tx) > 0) return null;
    tx.delete(setupTokens).run();
    tx.insert(setupTokens)
      .values({ tokenHash: sha256(token), createdAt: now() })
      .run();
    return token;
  });
}

/** Creates the first admin with the setup secret, which is then used up. */
export async function completeSetup({
  db,
  now,
  input,
}: Ctx & { input: z.infer<typeof setupSchema> & { ip: string } }): Promise<SessionUser> {
  const invalid = () =>
    new AppError(
      'unauthorized',
      'This setup link is not valid any more: use the one the server printed last',
    );
  const known = db
    .select()
    .from(setupTokens)
    .where(eq(setupTokens.tokenHash, sha256(input.token)))
    .get();
  if (!known || !setupRequired({ db })) throw invalid();
  assertAcceptablePassword(input.password, input);
  const passwordHash = await hashPassword(input.password);
  // Re-checked inside the transaction: two setups racing over the hashing create one admin.
  const admin = db.transaction((tx) => {
    const used = tx
      .delete(setupTokens)
      .where(eq(setupTokens.tokenHash, sha256(input.token)))
      .run();
    if (used.changes === 0 || countUsers(tx) > 0) throw invalid();
    return insertUser(tx, { ...input, role: 'admin', passwordHash, now: now() });
  });
  recordAudit(
    { db, now },
    { userId: admin.id, actor: admin.email, action: 'auth.setup', target: `user:${admin.id}`, ip: input.ip },
  );
  return toSessionUser(admin);
}

// ---- Login and passwords ----

/**
 * Checks an e-mail and password, with backoff per account and per address. Unknown, disabled and wrong
 * all answer the same, after the same work (a full password derivation).
 */
export async function logIn({
  db,
  now,
  input,
}: Ctx & { input: z.infer<typeof loginSchema> & { ip: string } }): Promise<SessionUser> {
  const email = input.email.toLowerCase();
  const keys = throttleKeys(email, input.ip);
  assertLoginAllowed(db, [keys.account, keys.address], now());
  const row = db.select().from(users).where(eq(users.email, email)).get();
  const matches = await verifyPassword(input.password, row?.passwordHash ?? null);
  if (!row || !matches || row.disabledAt) {
    recordLoginFailure(db, [keys.account, keys.address], now());
    pruneLoginThrottles(db, now());
    recordAudit(
      { db, now },
      { userId: row?.id ?? null, actor: email, action: 'auth.login.failed', ip: input.ip },
    );
    throw new AppError('unauthorized', LOGIN_FAILED);
  }
  clearLoginFailures(db, keys.account);
  const rehashed = needsRehash(row.passwordHash) ? await hashPassword(input.password) : null;
  db.update(users)
    .set({ lastLoginAt: now(), ...(rehashed ? { passwordHash: rehashed } : {}) })
    .where(eq(users.id, row.id))
    .run();
  return toSessionUser(row);
}

/** Changes the signed-in user's password after checking the current one; their other sessions end. */
export async function changePassword({
  db,
  now,
  input,
}: Ctx & {
  input: z.infer<typeof passwordChangeSchema> & {
    user: SessionUser;
    keepSessionIdHash: string | null;
    ip: string;
  };
}): Promise<void> {
  const keys = throttleKeys(input.user.email, input.ip);
  assertLoginAllowed(db, [keys.account, keys.address], now());
  const row = db.select().from(users).where(eq(users.id, input.user.id)).get();
  if (!row || !(await verifyPassword(input.currentPassword, row.passwordHash))) {
    recordLoginFailure(db, [keys.account, keys.address], now());
    throw new AppError('forbidden', 'The current password is not right', {
      issues: [{ path: 'currentPassword', message: 'not right' }],
    });
  }
  assertAcceptablePassword(input.newPassword, row);
  const passwordHash = await hashPassword(input.newPassword);
  db.update(users)
    .set({ passwordHash, passwordChangedAt: now(), updatedAt: now() })
    .where(eq(users.id, row.id))
    .run();
  endUserSessions(db, row.id, input.keepSessionIdHash ?? undefined);
}

// ---- Invitations ----

function pendingInvitationWhere(at: Date) {
  return and(isNull(invitations.acceptedAt), gt(invitations.expiresAt, at));
}

export function listInvitations({ db, now }: Ctx): InvitationView[] {
  return db
    .select({ invitation: invitations, inviter: users.email })
    .from(invitations)
    .leftJoin(users, eq(users.id, invitations.invitedBy))
    .where(pendingInvitationWhere(now()))
    .orderBy(asc(invitations.id))
    .all()
    .map(({ invitation, inviter }) => ({
      id: invitation.id,
      email: invitation.email,
      role: invitation.role,
      invitedBy: inviter,
      createdAt: invitation.createdAt.toISOString(),
      expiresAt: invitation.expiresAt.toISOString(),
    }));
}

/** Invites someone by address and role; the secret for the link is in the answer once. A new invitation replaces an older one. */
export function createInvitation({
  db,
  now,
  input,
}: Ctx & { input: z.infer<typeof invitationSchema> & { invitedBy: number } }): {
  invitation: InvitationView;
  token: string;
} {
  const token = randomSecret(32);
  const at = now();
  const id = db.transaction((tx) => {
    if (tx.select({ id: users.id }).from(users).where(eq(users.email, input.email)).get())
      throw new AppError('conflict', `There is already an account for ${input.email}`);
    tx.delete(invitations)
      .where(and(eq(invitations.email, input.email), isNull(invitations.acceptedAt)))
      .run();
    return tx
      .insert(invitations)
      .values({
        email: input.email,
        role: input.role,
        tokenHash: sha256(token),
        invitedBy: input.invitedBy,
        createdAt: at,
        expiresAt: new Date(at.getTime() + INVITATION_TTL_MS),
      })
      .returning({ id: invitations.id })
      .get().id;
  });
  const invitation = listInvitations({ db, now }).find((pending) => pending.id === id);
  if (!invitation) throw new AppError('internal', 'The invitation was not stored');
  return { invitation, token };
}

export function revokeInvitation({ db, now, input }: Ctx & { input: { id: number } }): void {
  const deleted = db
    .delete(invitations)
    .where(and(eq(invitations.id, input.id), pendingInvitationWhere(now())))
    .run();
  if (deleted.changes === 0) throw new AppError('not_found', `Invitation ${input.id} not found`);
}

function pendingInvitation(db: Db | Tx, token: string, at: Date) {
  const row = db
    .select()
    .from(invitations)
    .where(and(eq(invitations.tokenHash, sha256(token)), pendingInvitationWhere(at)))
    .get();
  if (!row)
    throw new AppError('not_found', 'This invitation link is not valid: it was used, revoked or has expired');
  return row;
}

/** What an invitation link is for, so the page can say it before anyone types a password. */
export function previewInvitation({ db, now, input }: Ctx & { input: { token: string } }): {
  email: string;
  role: UserRole;
  expiresAt: string;
} {
  const row = pendingInvitation(db, input.token, now());
  return { email: row.email, role: row.role, expiresAt: row.expiresAt.toISOString() };
}

/** Creates the invited account with the chosen password; the link is used up. */
export async function acceptInvitation({
  db,
  now,
  input,
}: Ctx & { input: z.infer<typeof acceptInvitationSchema> & { ip: string } }): Promise<SessionUser> {
  const invitation = pendingInvitation(db, input.token, now());
  assertAcceptablePassword(input.password, { email: invitation.email, name: input.name });
  const passwordHash = await hashPassword(input.password);
  const user = db.transaction((tx) => {
    const current = pendingInvitation(tx, input.token, now());
    const created = insertUser(tx, {
      email: current.email,
      name: input.name,
      role: current.role,
      passwordHash,
      now: now(),
    });
    tx.update(invitations)
      .set({ acceptedAt: now(), userId: created.id })
      .where(eq(invitations.id, current.id))
      .run();
    return created;
  });
  recordAudit(
    { db, now },
    {
      userId: user.id,
      actor: user.email,
      action: 'invitation.accept',
      target: `user:${user.id} ${user.email}`,
      ip: input.ip,
    },
  );
  return toSessionUser(user);
}

// ---- Managing users ----

export function listUsers({ db }: Pick<Ctx, 'db'>): UserView[] {
  return db.select().from(users).orderBy(asc(users.email)).all().map(toUserView);
}

function activeAdminsOtherThan(db: Db | Tx, userId: number): number {
  return (
    db
      .select({ n: count() })
      .from(users)
      .where(and(eq(users.role, 'admin'), isNull(users.disabledAt), ne(users.id, userId)))
      .get()?.n ?? 0
  );
}

function findUser(db: Db | Tx, id: number): UserRow {
  const row = db.select().from(users).where(eq(users.id, id)).get();
  if (!row) throw new AppError('not_found', `User ${id} not found`);
  return row;
}

/** Renames, changes the role of, disables or re-enables an account; there is always one active admin left. */
export function updateUser({
  db,
  now,
  input,
}: Ctx & { input: { id: number; patch: z.infer<typeof userPatchSchema> } }): UserView {
  const updated = db.transaction((tx) => {
    const row = findUser(tx, input.id);
    const losesAdmin =
      row.role === 'admin' &&
      !row.disabledAt &&
      (input.patch.role === 'viewer' || input.patch.disabled === true);
    if (losesAdmin && activeAdminsOtherThan(tx, row.id) === 0)
      throw new AppError('conflict', 'This is the last active admin: make someone else admin first');
    const disabledAt =
      input.patch.disabled === undefined
        ? row.disabledAt
        : input.patch.disabled
          ? (row.disabledAt ?? now())
          : null;
    return tx
      .update(users)
      .set({
        ...(input.patch.name !== undefined ? { name: input.patch.name } : {}),
        ...(input.patch.role !== undefined ? { role: input.patch.role } : {}),
        disabledAt,
        updatedAt: now(),
      })
      .where(eq(users.id, row.id))
      .returning()
      .get();
  });
  if (updated.disabledAt) endUserSessions(db, updated.id);
  return toUserView(updated);
}

/**
 * Deletes an account with its sessions and tokens (the audit log keeps its address). Never your own:
 * so the admin deleting is always an admin left.
 */
export function deleteUser({
  db,
  input,
}: Pick<Ctx, 'db'> & { input: { id: number; actorId: number } }): void {
  const row = findUser(db, input.id);
  if (row.id === input.actorId)
    throw new AppError('conflict', 'You cannot delete your own account; another admin can');
  db.delete(users).where(eq(users.id, row.id)).run();
}
