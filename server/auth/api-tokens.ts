import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db';
import { apiTokens, TOKEN_SCOPES, type TokenScope, users } from '../db/schema';
import { AppError } from '../errors';
import { randomSecret, sha256 } from './secrets';
import { type SessionUser, writeQuietly } from './sessions';

/** Every Vigil API token starts with this, so secret scanners and people recognise one. */
export const TOKEN_PREFIX = 'vgl_';
const TOKEN_PATTERN = /^vgl_[A-Za-z0-9_-]{43}$/;
/** Shown in lists: the prefix plus this many characters of the secret. */
const VISIBLE_CHARS = 6;
/** lastUsedAt is written at most this often. */
const TOUCH_EVERY_MS = 60_000;

export const newTokenSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    scope: z.enum(TOKEN_SCOPES),
  })
  .strict();

export interface ApiTokenView {
  id: number;
  name: string;
  scope: TokenScope;
  /** `vgl_AbC123…`: enough to recognise, not to use. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  owner: { id: number; email: string };
}

export interface ResolvedToken {
  id: number;
  scope: TokenScope;
  user: SessionUser;
}

type TokenRow = typeof apiTokens.$inferSelect;

function toView(row: TokenRow, owner: { id: number; email: string }): ApiTokenView {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    owner,
  };
}

/** Creates a token for `user`; the secret is in the answer once and never again. */
export async function createApiToken(
  db: Db,
  input: { user: Pick<SessionUser, 'id' | 'email'>; name: string; scope: TokenScope; now: Date },
): Promise<{ token: string; view: ApiTokenView }> {
  const token = `${TOKEN_PREFIX}${randomSecret(32)}`;
  const [row] = await db
    .insert(apiTokens)
    .values({
      userId: input.user.id,
      name: input.name,
      scope: input.scope,
      prefix: `${token.slice(0, TOKEN_PREFIX.length + VISIBLE_CHARS)}…`,
      tokenHash: sha256(token),
      createdAt: input.now,
    })
    .returning();
  if (!row) throw new AppError('internal', 'The token was not stored');
  return { token, view: toView(row, { id: input.user.id, email: input.user.email }) };
}

/** The live token for a bearer value, or null (malformed, unknown, revoked, or its user disabled). */
export async function resolveApiToken(db: Db, token: string, now: Date): Promise<ResolvedToken | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  const [row] = await db
    .select({
      token: apiTokens,
      user: {
        id: users.id,
        email: users.email,
        name: users.name,
        role: users.role,
        disabledAt: users.disabledAt,
      },
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, sha256(token)), isNull(apiTokens.revokedAt)))
    .limit(1);
  if (!row || row.user.disabledAt) return null;
  const lastUsed = row.token.lastUsedAt?.getTime() ?? 0;
  if (now.getTime() - lastUsed >= TOUCH_EVERY_MS)
    // Only forward: a slower concurrent request (another process's clock) must not move it back.
    await writeQuietly(() =>
      db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(
          and(
            eq(apiTokens.id, row.token.id),
            or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now)),
          ),
        ),
    );
  const { disabledAt: _disabled, ...user } = row.user;
  return { id: row.token.id, scope: row.token.scope, user };
}

/** Live tokens: one user's, or everyone's (for admins). */
export async function listApiTokens(db: Db, input: { userId: number | null }): Promise<ApiTokenView[]> {
  const rows = await db
    .select({ token: apiTokens, owner: { id: users.id, email: users.email } })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(
      and(
        isNull(apiTokens.revokedAt),
        input.userId === null ? undefined : eq(apiTokens.userId, input.userId),
      ),
    )
    .orderBy(desc(apiTokens.id));
  return rows.map((row) => toView(row.token, row.owner));
}

/** Revokes a token; people revoke their own, admins anyone's. Answers what was revoked. */
export async function revokeApiToken(
  db: Db,
  input: { id: number; actor: Pick<SessionUser, 'id' | 'role'>; now: Date },
): Promise<ApiTokenView> {
  const notFound = () => new AppError('not_found', `Token ${input.id} not found`);
  const [row] = await db
    .select({ token: apiTokens, owner: { id: users.id, email: users.email } })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.id, input.id), isNull(apiTokens.revokedAt)))
    .limit(1);
  // Someone else's token is "not found" to a non-admin: its existence is not theirs to learn.
  if (!row || (row.owner.id !== input.actor.id && input.actor.role !== 'admin')) throw notFound();
  // Revoked once: of two revocations at the same moment, the later one finds nothing left to revoke.
  const revoked = await db
    .update(apiTokens)
    .set({ revokedAt: input.now })
    .where(and(eq(apiTokens.id, input.id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  if (revoked.length === 0) throw notFound();
  return toView(row.token, row.owner);
}
