import { and, asc, count, eq, gt, isNull } from 'drizzle-orm';
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
import type { DbOrTx } from '../db';
import { invitations, setupTokens, USER_ROLES, type UserRole, users } from '../db/schema';
import { lockedForUpdate } from '../db/sql';
import { AppError } from '../errors';
import { recordAudit } from './audit-log';
import type { ServiceContext } from './context';

/** How long an invitation link works. */
export const INVITATION_TTL_MS = 7 * 86_400_000;
/** One message for every failed login, whatever the reason: it must not tell which addresses have accounts. */
export const LOGIN_FAILED = 'Wrong e-mail address or password';

type Ctx = Pick<ServiceContext, 'db' | 'now'>;

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

async function countUsers(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users);
  return row?.n ?? 0;
}

/** Inserts an account; the address must be free (the unique index decides between concurrent sign-ups). */
export async function insertUser(
  db: DbOrTx,
  input: { email: string; name: string; role: UserRole; passwordHash: string; now: Date },
): Promise<UserRow> {
  const [row] = await db
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
    .onConflictDoNothing({ target: users.email })
    .returning();
  if (!row) throw new AppError('conflict', `There is already an account for ${input.email}`);
  return row;
}

// ---- First run ----

export async function setupRequired({ db }: Pick<Ctx, 'db'>): Promise<boolean> {
  return (await countUsers(db)) === 0;
}

/** While nobody has an account: a fresh one-time setup secret (any older one stops working). Null once set up. */
export async function issueSetupToken({ db, now }: Ctx): Promise<string | null> {
  const token = randomSecret(32);
  return db.transaction(async (tx) => {
    if ((await countUsers(tx)) > 0) return null;
    await tx.delete(setupTokens);
    await tx.insert(setupTokens).values({ tokenHash: sha256(token), createdAt: now() });
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
  const tokenHash = sha256(input.token);
  const [known] = await db.select().from(setupTokens).where(eq(setupTokens.tokenHash, tokenHash)).limit(1);
  if (!known || !(await setupRequired({ db }))) throw invalid();
  assertAcceptablePassword(input.password, input);
  const passwordHash = await hashPassword(input.password);
  const admin = await db.transaction(async (tx) => {
    // Every setup link is used up at once. Two setups at the same moment (two processes may each have
    // printed a link) delete the same rows: the second waits for the first, then finds none left.
    const used = await tx.delete(setupTokens).returning({ tokenHash: setupTokens.tokenHash });
    if (!used.some((row) => row.tokenHash === tokenHash) || (await countUsers(tx)) > 0) throw invalid();
    return insertUser(tx, { ...input, role: 'admin', passwordHash, now: now() });
  });
  await recordAudit(
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
  await assertLoginAllowed(db, [keys.account, keys.address], now());
  const [row] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  const matches = await verifyPassword(input.password, row?.passwordHash ?? null);
  if (!row || !matches || row.disabledAt) {
    await recordLoginFailure(db, [keys.account, keys.address], now());
    await pruneLoginThrottles(db, now());
    await recordAudit(
      { db, now },
      { userId: row?.id ?? null, actor: email, action: 'auth.login.failed', ip: input.ip },
    );
    throw new AppError('unauthorized', LOGIN_FAILED);
  }
  await clearLoginFailures(db, keys.account);
  await db.update(users).set({ lastLoginAt: now() }).where(eq(users.id, row.id));
  if (needsRehash(row.passwordHash)) {
    const rehashed = await hashPassword(input.password);
    // Only over the hash just checked: a password changed meanwhile (another session) stays changed.
    await db
      .update(users)
      .set({ passwordHash: rehashed })
      .where(and(eq(users.id, row.id), eq(users.passwordHash, row.passwordHash)));
  }
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
  await assertLoginAllowed(db, [keys.account, keys.address], now());
  const wrongPassword = () =>
    new AppError('forbidden', 'The current password is not right', {
      issues: [{ path: 'currentPassword', message: 'not right' }],
    });
  const [row] = await db.select().from(users).where(eq(users.id, input.user.id)).limit(1);
  if (!row || !(await verifyPassword(input.currentPassword, row.passwordHash))) {
    await recordLoginFailure(db, [keys.account, keys.address], now());
    throw wrongPassword();
  }
  assertAcceptablePassword(input.newPassword, row);
  const passwordHash = await hashPassword(input.newPassword);
  await db.transaction(async (tx) => {
    // Only over the password just checked: of two changes at once, the second was checked against a
    // password that no longer is.
    const changed = await tx
      .update(users)
      .set({ passwordHash, passwordChangedAt: now(), updatedAt: now() })
      .where(and(eq(users.id, row.id), eq(users.passwordHash, row.passwordHash)))
      .returning({ id: users.id });
    if (changed.length === 0) throw wrongPassword();
    await endUserSessions(tx, row.id, input.keepSessionIdHash ?? undefined);
  });
}

// ---- Invitations ----

function pendingInvitationWhere(at: Date) {
  return and(isNull(invitations.acceptedAt), gt(invitations.expiresAt, at));
}

export async function listInvitations({ db, now }: Ctx): Promise<InvitationView[]> {
  const rows = await db
    .select({ invitation: invitations, inviter: users.email })
    .from(invitations)
    .leftJoin(users, eq(users.id, invitations.invitedBy))
    .where(pendingInvitationWhere(now()))
    .orderBy(asc(invitations.id));
  return rows.map(({ invitation, inviter }) => ({
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    invitedBy: inviter,
    createdAt: invitation.createdAt.toISOString(),
    expiresAt: invitation.expiresAt.toISOString(),
  }));
}

/** Invites someone by address and role; the secret for the link is in the answer once. A new invitation replaces an older one. */
export async function createInvitation({
  db,
  now,
  input,
}: Ctx & { input: z.infer<typeof invitationSchema> & { invitedBy: number } }): Promise<{
  invitation: InvitationView;
  token: string;
}> {
  const token = randomSecret(32);
  const at = now();
  const id = await db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ id: users.id })
      .from(users)
      .where(eq(users.email, input.email))
      .limit(1);
    if (existing) throw new AppError('conflict', `There is already an account for ${input.email}`);
    await tx
      .delete(invitations)
      .where(and(eq(invitations.email, input.email), isNull(invitations.acceptedAt)));
    const [created] = await tx
      .insert(invitations)
      .values({
        email: input.email,
        role: input.role,
        tokenHash: sha256(token),
        invitedBy: input.invitedBy,
        createdAt: at,
        expiresAt: new Date(at.getTime() + INVITATION_TTL_MS),
      })
      .returning({ id: invitations.id });
    return created?.id;
  });
  const invitation = (await listInvitations({ db, now })).find((pending) => pending.id === id);
  if (!invitation) throw new AppError('internal', 'The invitation was not stored');
  return { invitation, token };
}

export async function revokeInvitation({ db, now, input }: Ctx & { input: { id: number } }): Promise<void> {
  const deleted = await db
    .delete(invitations)
    .where(and(eq(invitations.id, input.id), pendingInvitationWhere(now())))
    .returning({ id: invitations.id });
  if (deleted.length === 0) throw new AppError('not_found', `Invitation ${input.id} not found`);
}

function invitationNotValid(): AppError {
  return new AppError('not_found', 'This invitation link is not valid: it was used, revoked or has expired');
}

async function pendingInvitation(db: DbOrTx, token: string, at: Date) {
  const [row] = await db
    .select()
    .from(invitations)
    .where(and(eq(invitations.tokenHash, sha256(token)), pendingInvitationWhere(at)))
    .limit(1);
  if (!row) throw invitationNotValid();
  return row;
}

/** What an invitation link is for, so the page can say it before anyone types a password. */
export async function previewInvitation({ db, now, input }: Ctx & { input: { token: string } }): Promise<{
  email: string;
  role: UserRole;
  expiresAt: string;
}> {
  const row = await pendingInvitation(db, input.token, now());
  return { email: row.email, role: row.role, expiresAt: row.expiresAt.toISOString() };
}

/** Creates the invited account with the chosen password; the link is used up. */
export async function acceptInvitation({
  db,
  now,
  input,
}: Ctx & { input: z.infer<typeof acceptInvitationSchema> & { ip: string } }): Promise<SessionUser> {
  const invitation = await pendingInvitation(db, input.token, now());
  assertAcceptablePassword(input.password, { email: invitation.email, name: input.name });
  const passwordHash = await hashPassword(input.password);
  const user = await db.transaction(async (tx) => {
    const at = now();
    // Claimed before the account is made: of two acceptances at once, the second finds the link used.
    const [claimed] = await tx
      .update(invitations)
      .set({ acceptedAt: at })
      .where(and(eq(invitations.tokenHash, sha256(input.token)), pendingInvitationWhere(at)))
      .returning();
    if (!claimed) throw invitationNotValid();
    const created = await insertUser(tx, {
      email: claimed.email,
      name: input.name,
      role: claimed.role,
      passwordHash,
      now: at,
    });
    await tx.update(invitations).set({ userId: created.id }).where(eq(invitations.id, claimed.id));
    return created;
  });
  await recordAudit(
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

export async function listUsers({ db }: Pick<Ctx, 'db'>): Promise<UserView[]> {
  const rows = await db.select().from(users).orderBy(asc(users.email));
  return rows.map(toUserView);
}

const activeAdmin = () => and(eq(users.role, 'admin'), isNull(users.disabledAt));

/**
 * Holds every active admin's row until the transaction ends, so two changes that each leave one admin
 * (two admins demoting each other, in two processes) run one after the other: the second then counts
 * what the first left.
 */
async function lockActiveAdmins(tx: DbOrTx): Promise<void> {
  await lockedForUpdate(tx.select({ id: users.id }).from(users).where(activeAdmin()));
}

async function assertAnActiveAdminLeft(tx: DbOrTx): Promise<void> {
  const [left] = await tx.select({ n: count() }).from(users).where(activeAdmin());
  if ((left?.n ?? 0) === 0)
    throw new AppError('conflict', 'This is the last active admin: make someone else admin first');
}

function userNotFound(id: number): AppError {
  return new AppError('not_found', `User ${id} not found`);
}

/** Renames, changes the role of, disables or re-enables an account; there is always one active admin left. */
export async function updateUser({
  db,
  now,
  input,
}: Ctx & { input: { id: number; patch: z.infer<typeof userPatchSchema> } }): Promise<UserView> {
  const updated = await db.transaction(async (tx) => {
    await lockActiveAdmins(tx);
    const [row] = await tx.select().from(users).where(eq(users.id, input.id)).limit(1);
    if (!row) throw userNotFound(input.id);
    const disabledAt =
      input.patch.disabled === undefined
        ? row.disabledAt
        : input.patch.disabled
          ? (row.disabledAt ?? now())
          : null;
    const [changed] = await tx
      .update(users)
      .set({
        ...(input.patch.name !== undefined ? { name: input.patch.name } : {}),
        ...(input.patch.role !== undefined ? { role: input.patch.role } : {}),
        disabledAt,
        updatedAt: now(),
      })
      .where(eq(users.id, row.id))
      .returning();
    if (!changed) throw userNotFound(input.id);
    await assertAnActiveAdminLeft(tx);
    if (changed.disabledAt) await endUserSessions(tx, changed.id);
    return changed;
  });
  return toUserView(updated);
}

/**
 * Deletes an account with its sessions and tokens (the audit log keeps its address). Never your own:
 * so the admin deleting is always an admin left.
 */
export async function deleteUser({
  db,
  input,
}: Pick<Ctx, 'db'> & { input: { id: number; actorId: number } }): Promise<void> {
  if (input.id === input.actorId)
    throw new AppError('conflict', 'You cannot delete your own account; another admin can');
  await db.transaction(async (tx) => {
    // The deleting admin may be losing their role at this moment in another request.
    await lockActiveAdmins(tx);
    const deleted = await tx.delete(users).where(eq(users.id, input.id)).returning({ id: users.id });
    if (deleted.length === 0) throw userNotFound(input.id);
    await assertAnActiveAdminLeft(tx);
  });
}
