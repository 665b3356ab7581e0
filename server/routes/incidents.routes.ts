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
  .get('/', validate('query', incidentListQuerySchema), (c) =>
    c.json(listIncidents({ ...c.var.ctx, input: c.req.valid('query') })),
  )
  .get('/:id', validate('param', idParamSchema), (c) =>
    c.json(getIncident({ ...c.var.ctx, input: c.req.valid('param') })),
  )
  .post(
    '/:id/acknowledge',
    validate('param', idParamSchema),
    requireJson,
    validate('json', acknowledgeSchema),
    (c) =>
      c.json(
        acknowledgeIncident({
          ...c.var.ctx,
          input: { id: c.req.valid('param').id, note: c.req.valid('json').note },
        }),
      ),
  );
