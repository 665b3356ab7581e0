import { Hono } from 'hono';
import { getSettings, settingsPatchSchema, updateSettings } from '../services/settings';
import type { AppEnv } from './env';
import { requireJson, validate } from './validate';

const nonEmptyPatch = settingsPatchSchema.refine((patch) => Object.keys(patch).length > 0, {
  message: 'nothing to update: give at least one setting',
});

export const settingsRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json(await getSettings(c.var.ctx)))
  .patch('/', requireJson, validate('json', nonEmptyPatch), async (c) => {
    const settings = await updateSettings({ ...c.var.ctx, input: c.req.valid('json') });
    c.var.scheduler.wake();
    return c.json(settings);
  });
