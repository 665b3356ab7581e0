import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import { viaOf } from '../auth/audit-trail';
import { clearSessionCookies, readSessionCookie, setSessionCookies } from '../auth/cookies';
import { actorOf } from '../auth/middleware';
import { sha256 } from '../auth/secrets';
import { createSession, endSession, endUserSessions, type SessionUser } from '../auth/sessions';
import { AppError } from '../errors';
import { recordAudit } from '../services/audit-log';
import {
  acceptInvitation,
  acceptInvitationSchema,
  changePassword,
  completeSetup,
  invitationTokenSchema,
  logIn,
  loginSchema,
  passwordChangeSchema,
  previewInvitation,
  setupRequired,
  setupSchema,
} from '../services/users';
import type { AppEnv } from './env';
import { requireJson, validate } from './validate';

/** Starts a browser session for `user` (ending the one the request came with: no session fixation). */
async function signIn(c: Context<AppEnv>, user: SessionUser) {
  const { db, now } = c.var.ctx;
  const previous = readSessionCookie(c);
  if (previous) await endSession(db, sha256(previous));
  const session = await createSession(db, {
    userId: user.id,
    now: now(),
    ip: c.var.client.ip,
    userAgent: c.req.header('user-agent') ?? '',
  });
  setSessionCookies(c, session, { secure: c.var.client.secure, now: now() });
  return { user, expiresAt: session.expiresAt.toISOString() };
}

const retryAfterSchema = z.object({ retryAfter: z.number().int().positive() });

/** A 429 tells the client when to come back: the Retry-After header, in seconds. */
async function withRetryAfter<T>(c: Context<AppEnv>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && error.code === 'rate_limited') {
      const wait = retryAfterSchema.safeParse(error.details);
      if (wait.success) c.header('Retry-After', String(wait.data.retryAfter));
    }
    throw error;
  }
}

/** First run, sign-in and sign-out, the signed-in user, password changes and invitation links. */
export const authRoutes = new Hono<AppEnv>()
  .get('/status', async (c) => c.json({ setupRequired: await setupRequired(c.var.ctx) }))
  .post('/setup', requireJson, validate('json', setupSchema), async (c) => {
    const user = await completeSetup({
      ...c.var.ctx,
      input: { ...c.req.valid('json'), ip: c.var.client.ip },
    });
    return c.json(await signIn(c, user), 201);
  })
  .post('/login', requireJson, validate('json', loginSchema), async (c) => {
    const input = { ...c.req.valid('json'), ip: c.var.client.ip };
    const user = await withRetryAfter(c, () => logIn({ ...c.var.ctx, input }));
    await recordAudit(c.var.ctx, {
      userId: user.id,
      actor: user.email,
      action: 'auth.login',
      ip: c.var.client.ip,
    });
    return c.json(await signIn(c, user));
  })
  .post('/logout', async (c) => {
    const actor = actorOf(c);
    if (actor.via.kind === 'session') await endSession(c.var.ctx.db, actor.via.idHash);
    clearSessionCookies(c, c.var.client.secure);
    return c.body(null, 204);
  })
  .post('/logout-everywhere', async (c) => {
    const actor = actorOf(c);
    const ended = await endUserSessions(c.var.ctx.db, actor.user.id);
    await recordAudit(c.var.ctx, {
      userId: actor.user.id,
      actor: actor.user.email,
      via: viaOf(actor),
      action: 'auth.logout-everywhere',
      detail: { sessions: ended },
      ip: c.var.client.ip,
    });
    clearSessionCookies(c, c.var.client.secure);
    return c.body(null, 204);
  })
  .post('/password', requireJson, validate('json', passwordChangeSchema), async (c) => {
    const actor = actorOf(c);
    const input = {
      ...c.req.valid('json'),
      user: actor.user,
      keepSessionIdHash: actor.via.kind === 'session' ? actor.via.idHash : null,
      ip: c.var.client.ip,
    };
    await withRetryAfter(c, () => changePassword({ ...c.var.ctx, input }));
    await recordAudit(c.var.ctx, {
      userId: actor.user.id,
      actor: actor.user.email,
      via: viaOf(actor),
      action: 'auth.password',
      target: `user:${actor.user.id}`,
      ip: c.var.client.ip,
    });
    return c.body(null, 204);
  })
  .get('/me', (c) => {
    const { user, via } = actorOf(c);
    return c.json({
      user,
      via: via.kind,
      scope: via.kind === 'token' ? via.scope : ('write' as const),
      expiresAt: via.kind === 'session' ? via.expiresAt.toISOString() : null,
    });
  })
  .post('/invitation', requireJson, validate('json', invitationTokenSchema), async (c) =>
    c.json(await previewInvitation({ ...c.var.ctx, input: c.req.valid('json') })),
  )
  .post('/invitation/accept', requireJson, validate('json', acceptInvitationSchema), async (c) => {
    const user = await acceptInvitation({
      ...c.var.ctx,
      input: { ...c.req.valid('json'), ip: c.var.client.ip },
    });
    return c.json(await signIn(c, user), 201);
  });
