import { Hono } from 'hono';
import { createApiToken, listApiTokens, newTokenSchema, revokeApiToken } from '../auth/api-tokens';
import { actorOf } from '../auth/middleware';
import type { AppEnv } from './env';
import { idParamSchema, requireJson, validate } from './validate';

/** Personal API tokens: everyone manages their own; admins see and revoke anyone's. */
export const tokenRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const { user } = actorOf(c);
    return c.json(await listApiTokens(c.var.ctx.db, { userId: user.role === 'admin' ? null : user.id }));
  })
  .post('/', requireJson, validate('json', newTokenSchema), async (c) => {
    const { db, now } = c.var.ctx;
    const { token, view } = await createApiToken(db, {
      user: actorOf(c).user,
      ...c.req.valid('json'),
      now: now(),
    });
    return c.json({ ...view, token }, 201);
  })
  .delete('/:id', validate('param', idParamSchema), async (c) => {
    const { db, now } = c.var.ctx;
    await revokeApiToken(db, { id: c.req.valid('param').id, actor: actorOf(c).user, now: now() });
    return c.body(null, 204);
  });
