import { Hono } from 'hono';
import {
  acknowledgeIncident,
  acknowledgeSchema,
  getIncident,
  incidentListQuerySchema,
  listIncidents,
} from '../services/incidents';
import type { AppEnv } from './env';
import { idParamSchema, requireJson, validate } from './validate';

export const incidentRoutes = new Hono<AppEnv>()
  .get('/', validate('query', incidentListQuerySchema), async (c) =>
    c.json(await listIncidents({ ...c.var.ctx, input: c.req.valid('query') })),
  )
  .get('/:id', validate('param', idParamSchema), async (c) =>
    c.json(await getIncident({ ...c.var.ctx, input: c.req.valid('param') })),
  )
  .post(
    '/:id/acknowledge',
    validate('param', idParamSchema),
    requireJson,
    validate('json', acknowledgeSchema),
    async (c) =>
      c.json(
        await acknowledgeIncident({
          ...c.var.ctx,
          input: { id: c.req.valid('param').id, note: c.req.valid('json').note },
        }),
      ),
  );
