import { Hono } from 'hono';
import { z } from 'zod';
import { diffScans, getScan } from '../services/scans';
import type { AppEnv } from './env';
import { idParamSchema, idSchema, validate } from './validate';

const againstQuerySchema = z.object({
  against: z.union([z.literal('previous'), idSchema]).default('previous'),
});

export const scanRoutes = new Hono<AppEnv>()
  .get('/:id', validate('param', idParamSchema), async (c) =>
    c.json(await getScan({ ...c.var.ctx, input: c.req.valid('param') })),
  )
  // What changed in this scan since `against` (default: the site's previous scan).
  .get('/:id/diff', validate('param', idParamSchema), validate('query', againstQuerySchema), async (c) =>
    c.json(
      await diffScans({
        ...c.var.ctx,
        input: { from: c.req.valid('query').against, to: c.req.valid('param').id },
      }),
    ),
  )
  // What changed from scan :id to scan :other.
  .get('/:id/diff/:other', validate('param', z.object({ id: idSchema, other: idSchema })), async (c) => {
    const { id, other } = c.req.valid('param');
    return c.json(await diffScans({ ...c.var.ctx, input: { from: id, to: other } }));
  });
