import { Hono } from 'hono';
import { getOverview, overviewQuerySchema } from '../services/overview';
import type { AppEnv } from './env';
import { validate } from './validate';

export const overviewRoutes = new Hono<AppEnv>().get('/', validate('query', overviewQuerySchema), async (c) =>
  c.json(await getOverview({ ...c.var.ctx, input: c.req.valid('query') })),
);
