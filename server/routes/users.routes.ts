import { Hono } from 'hono';
import { actorOf } from '../auth/middleware';
import {
  createInvitation,
  deleteUser,
  invitationSchema,
  listInvitations,
  listUsers,
  revokeInvitation,
  updateUser,
  userPatchSchema,
} from '../services/users';
import type { AppEnv } from './env';
import { idParamSchema, requireJson, validate } from './validate';

export interface UserRoutesOptions {
  /** The dashboard's public address for invitation links; default: the address the admin is using. */
  publicUrl: string | null;
}

/** Accounts and invitations (admins only: server/auth/policy.ts). */
export function userRoutes(options: UserRoutesOptions) {
  return new Hono<AppEnv>()
    .get('/', async (c) => c.json(await listUsers(c.var.ctx)))
    .get('/invitations', async (c) => c.json(await listInvitations(c.var.ctx)))
    .post('/invitations', requireJson, validate('json', invitationSchema), async (c) => {
      const actor = actorOf(c);
      const { invitation, token } = await createInvitation({
        ...c.var.ctx,
        input: { ...c.req.valid('json'), invitedBy: actor.user.id },
      });
      // The secret rides in the fragment: browsers never send it to servers, logs or Referer headers.
      const base = (options.publicUrl ?? c.var.client.origin).replace(/\/+$/, '');
      return c.json({ invitation, link: `${base}/invite#token=${token}` }, 201);
    })
    .delete('/invitations/:id', validate('param', idParamSchema), async (c) => {
      await revokeInvitation({ ...c.var.ctx, input: c.req.valid('param') });
      return c.body(null, 204);
    })
    .patch(
      '/:id',
      validate('param', idParamSchema),
      requireJson,
      validate('json', userPatchSchema),
      async (c) =>
        c.json(
          await updateUser({
            ...c.var.ctx,
            input: { id: c.req.valid('param').id, patch: c.req.valid('json') },
          }),
        ),
    )
    .delete('/:id', validate('param', idParamSchema), async (c) => {
      await deleteUser({ ...c.var.ctx, input: { id: c.req.valid('param').id, actorId: actorOf(c).user.id } });
      return c.body(null, 204);
    });
}
