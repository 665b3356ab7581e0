import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { AppError } from '../errors';
import { getSiteHistory } from '../services/history';
import { requestScan } from '../services/scan-queue';
import { exportSitesCsv, importSites } from '../services/site-import';
import {
  createSite,
  deleteSite,
  getSite,
  listSites,
  newSiteSchema,
  siteListQuerySchema,
  sitePatchSchema,
  updateSite,
} from '../services/sites';
import type { AppEnv } from './env';
import { idParamSchema, requireJson, validate } from './validate';

export const MAX_IMPORT_BYTES = 1024 * 1024;

const importQuerySchema = z.object({
  /** `true`: one invalid line and nothing is imported. */
  atomic: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
});

const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((value) => new Date(value));

const historyQuerySchema = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
    cursor: z.string().max(500).optional(),
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, {
    message: '"from" must not be after "to"',
    path: ['from'],
  });

/** The import body is CSV or a plain list; JSON or form bodies are a client mistake worth naming. */
function requireText(type: string | undefined): void {
  if (type && !/^(text\/(csv|plain)|application\/(csv|octet-stream))\s*(;|$)/i.test(type))
    throw new AppError(
      'unsupported_media_type',
      'Send the import as text/csv or text/plain, one host per line',
    );
}

export const siteRoutes = new Hono<AppEnv>()
  .get('/', validate('query', siteListQuerySchema), async (c) =>
    c.json(await listSites({ ...c.var.ctx, input: c.req.valid('query') })),
  )
  .post('/', requireJson, validate('json', newSiteSchema), async (c) => {
    const site = await createSite({ ...c.var.ctx, input: c.req.valid('json') });
    c.var.scheduler.wake();
    c.header('Location', `/api/sites/${site.id}`);
    return c.json(site, 201);
  })
  .post(
    '/import',
    bodyLimit({
      maxSize: MAX_IMPORT_BYTES,
      onError: () => {
        throw new AppError('payload_too_large', `Import body is larger than ${MAX_IMPORT_BYTES / 1024} KiB`);
      },
    }),
    validate('query', importQuerySchema),
    async (c) => {
      requireText(c.req.header('content-type'));
      const text = await c.req.text();
      const report = await importSites({
        ...c.var.ctx,
        input: { text, atomic: c.req.valid('query').atomic },
      });
      if (report.created > 0) c.var.scheduler.wake();
      return c.json(report, 200);
    },
  )
  .get('/export.csv', async (c) => {
    const csv = await exportSitesCsv(c.var.ctx);
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', 'attachment; filename="vigil-sites.csv"');
    return c.body(csv);
  })
  .get('/:id', validate('param', idParamSchema), async (c) =>
    c.json(await getSite({ ...c.var.ctx, input: c.req.valid('param') })),
  )
  .patch(
    '/:id',
    validate('param', idParamSchema),
    requireJson,
    validate('json', sitePatchSchema),
    async (c) => {
      const site = await updateSite({
        ...c.var.ctx,
        input: { id: c.req.valid('param').id, patch: c.req.valid('json') },
      });
      c.var.scheduler.wake();
      return c.json(site);
    },
  )
  .delete('/:id', validate('param', idParamSchema), async (c) => {
    await deleteSite({ ...c.var.ctx, input: c.req.valid('param') });
    return c.body(null, 204);
  })
  .post('/:id/scan', validate('param', idParamSchema), async (c) => {
    const { scan, created } = await requestScan({
      ...c.var.ctx,
      input: { siteId: c.req.valid('param').id },
    });
    c.var.scheduler.wake();
    c.header('Location', `/api/scans/${scan.id}`);
    return c.json({ ...scan, alreadyActive: !created }, 202);
  })
  .get('/:id/history', validate('param', idParamSchema), validate('query', historyQuerySchema), async (c) =>
    c.json(
      await getSiteHistory({
        ...c.var.ctx,
        input: { siteId: c.req.valid('param').id, ...c.req.valid('query') },
      }),
    ),
  );
