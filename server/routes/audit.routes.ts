import { Hono } from 'hono';
import { auditQuerySchema, listAuditLog } from '../services/audit-log';
import type { AppEnv } from './env';
import { validate } from './validate';

/** Who changed what, newest first (admins only). */
export const auditRoutes = new Hono<AppEnv>().get('/', validate('query', auditQuerySchema), async (c) =>
  c.json(await listAuditLog({ ...c.var.ctx, input: c.req.valid('query') })),
);
