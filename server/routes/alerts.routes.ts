import { Hono } from 'hono';
import { z } from 'zod';
import { countWaitingDeliveries } from '../alerts/outbox';
import { type MailDeps, sendTestMail } from '../alerts/test-mail';
import {
  createRecipient,
  deleteRecipient,
  enabledRecipientEmails,
  getRecipient,
  listRecipients,
  newRecipientSchema,
  recipientPatchSchema,
  updateRecipient,
} from '../services/alert-recipients';
import { alertSettingsPatchSchema, getAlertSettings, updateAlertSettings } from '../services/alert-settings';
import { createMute, endMute, listMutes, muteListQuerySchema, newMuteSchema } from '../services/incidents';
import type { AppEnv } from './env';
import { idParamSchema, requireJson, validate } from './validate';

const testMailSchema = z
  .object({
    /** One address; without it, every enabled recipient. */
    to: z.email().max(254).optional(),
  })
  .strict();

/** Alert settings, recipients and their subscriptions, mutes, and the test-send button. */
export function alertRoutes(mail: MailDeps) {
  return new Hono<AppEnv>()
    .get('/status', async (c) =>
      c.json({
        smtp: mail.mailer?.server ?? null,
        from: mail.mailFrom,
        publicUrl: mail.publicUrl,
        waiting: await countWaitingDeliveries(c.var.ctx.db),
      }),
    )
    .get('/settings', async (c) => c.json(await getAlertSettings(c.var.ctx)))
    .patch('/settings', requireJson, validate('json', alertSettingsPatchSchema), async (c) =>
      c.json(await updateAlertSettings({ ...c.var.ctx, input: c.req.valid('json') })),
    )
    .get('/recipients', async (c) => c.json(await listRecipients(c.var.ctx)))
    .post('/recipients', requireJson, validate('json', newRecipientSchema), async (c) => {
      const recipient = await createRecipient({ ...c.var.ctx, input: c.req.valid('json') });
      c.header('Location', `/api/alerts/recipients/${recipient.id}`);
      return c.json(recipient, 201);
    })
    .get('/recipients/:id', validate('param', idParamSchema), async (c) =>
      c.json(await getRecipient({ ...c.var.ctx, input: c.req.valid('param') })),
    )
    .patch(
      '/recipients/:id',
      validate('param', idParamSchema),
      requireJson,
      validate('json', recipientPatchSchema),
      async (c) =>
        c.json(
          await updateRecipient({
            ...c.var.ctx,
            input: { id: c.req.valid('param').id, patch: c.req.valid('json') },
          }),
        ),
    )
    .delete('/recipients/:id', validate('param', idParamSchema), async (c) => {
      await deleteRecipient({ ...c.var.ctx, input: c.req.valid('param') });
      return c.body(null, 204);
    })
    .get('/mutes', validate('query', muteListQuerySchema), async (c) =>
      c.json(await listMutes({ ...c.var.ctx, input: c.req.valid('query') })),
    )
    .post('/mutes', requireJson, validate('json', newMuteSchema), async (c) => {
      const mute = await createMute({ ...c.var.ctx, input: c.req.valid('json') });
      return c.json(mute, 201);
    })
    .delete('/mutes/:id', validate('param', idParamSchema), async (c) => {
      await endMute({ ...c.var.ctx, input: c.req.valid('param') });
      return c.body(null, 204);
    })
    .post('/test', requireJson, validate('json', testMailSchema), async (c) => {
      const { to } = c.req.valid('json');
      const result = await sendTestMail(mail, {
        to: to ? [to] : await enabledRecipientEmails(c.var.ctx),
        at: c.var.ctx.now(),
      });
      return c.json(result);
    });
}
