import { eq } from 'drizzle-orm';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { Db } from '../db';
import { apiTokens, invitations, sites, users } from '../db/schema';
import { MAX_ROW_ID } from '../db/sql';
import type { AppEnv } from '../routes/env';
import { recordAudit } from '../services/audit-log';
import { routePatternOf } from './middleware';
import type { Actor } from './policy';
import { isSafeMethod } from './request';

/** Readable names of the changes people look for; other routes get one made from their path. */
const ACTIONS: Readonly<Record<string, string>> = {
  'POST /api/sites': 'site.create',
  'POST /api/sites/import': 'site.import',
  'PATCH /api/sites/:id': 'site.update',
  'DELETE /api/sites/:id': 'site.delete',
  'POST /api/sites/:id/scan': 'scan.request',
  'PATCH /api/settings': 'settings.update',
  'POST /api/alerts/mutes': 'finding.mute',
  'DELETE /api/alerts/mutes/:id': 'finding.unmute',
  'POST /api/incidents/:id/acknowledge': 'incident.acknowledge',
  'POST /api/tokens': 'token.create',
  'DELETE /api/tokens/:id': 'token.revoke',
  'POST /api/users/invitations': 'user.invite',
  'DELETE /api/users/invitations/:id': 'invitation.revoke',
  'PATCH /api/users/:id': 'user.update',
  'DELETE /api/users/:id': 'user.delete',
};

const VERBS: Readonly<Record<string, string>> = {
  POST: 'create',
  PUT: 'replace',
  PATCH: 'update',
  DELETE: 'delete',
};

/** `/api/alerts/recipients/:id` → `alerts.recipients`; the resource is the last fixed segment, singular. */
function segmentsOf(pattern: string): string[] {
  return pattern.split('/').filter((segment) => segment && segment !== 'api' && !segment.startsWith(':'));
}

export function actionFor(method: string, pattern: string): string {
  return (
    ACTIONS[`${method} ${pattern}`] ??
    [...segmentsOf(pattern), VERBS[method] ?? method.toLowerCase()].join('.')
  );
}

/** The kind of thing a route acts on: the segment before `:id`, else the last plural one (`/api/sites/import` → site). */
export function resourceOf(pattern: string): string {
  const segments = pattern.split('/').filter(Boolean);
  const idAt = segments.indexOf(':id');
  const fixed = segmentsOf(pattern);
  const noun =
    idAt > 0
      ? segments[idAt - 1]!
      : (fixed.findLast((segment) => segment.endsWith('s')) ?? fixed.at(-1) ?? '');
  return noun.endsWith('s') && noun !== 'settings' ? noun.slice(0, -1) : noun;
}

/** The path's value for `:id` in the route pattern (middleware runs before the route's own params exist). */
export function idParamOf(pattern: string, path: string): number | null {
  const at = pattern.split('/').indexOf(':id');
  const value = at < 0 ? undefined : path.split('/')[at];
  // An id no row can have (beyond PostgreSQL's integer) is not looked up: the route answers 400 for it.
  return value && /^[1-9]\d{0,14}$/.test(value) && Number(value) <= MAX_ROW_ID ? Number(value) : null;
}

/** A name for the thing, read before a delete takes it away: the site's host, the user's address… */
async function labelOf(db: Db, resource: string, id: number): Promise<string | undefined> {
  const first = (rows: { label: string }[]) => rows[0]?.label;
  switch (resource) {
    case 'site':
      return first(await db.select({ label: sites.host }).from(sites).where(eq(sites.id, id)));
    case 'user':
      return first(await db.select({ label: users.email }).from(users).where(eq(users.id, id)));
    case 'invitation':
      return first(
        await db.select({ label: invitations.email }).from(invitations).where(eq(invitations.id, id)),
      );
    case 'token':
      return first(await db.select({ label: apiTokens.name }).from(apiTokens).where(eq(apiTokens.id, id)));
    default:
      return undefined;
  }
}

const createdSchema = z.object({
  id: z.number().optional(),
  host: z.string().optional(),
  email: z.string().optional(),
  name: z.string().optional(),
  invitation: z.object({ id: z.number(), email: z.string() }).optional(),
  lines: z.array(z.object({ status: z.string(), host: z.string().optional() })).optional(),
});

async function responseFacts(c: Context): Promise<z.infer<typeof createdSchema> | null> {
  if (!c.res.headers.get('content-type')?.includes('application/json')) return null;
  const parsed = createdSchema.safeParse(
    await c.res
      .clone()
      .json()
      .catch(() => null),
  );
  return parsed.success ? parsed.data : null;
}

async function requestBody(c: Context): Promise<unknown> {
  if (!/^application\/([\w.-]+\+)?json/i.test(c.req.header('content-type') ?? '')) return undefined;
  return c.req.json().catch(() => undefined);
}

export function viaOf(actor: Actor): string {
  return actor.via.kind === 'session' ? 'session' : `token:${actor.via.id}`;
}

/**
 * Writes an audit entry for every change an authenticated user makes through the API: who, how signed
 * in, what (action and target), the request's fields without secrets, and from where. Sign-in events are
 * written by the auth routes themselves.
 */
export function auditTrail(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const pattern = isSafeMethod(c.req.method) ? null : routePatternOf(c);
    if (pattern === null || !pattern.startsWith('/api/') || pattern.startsWith('/api/auth/')) return next();
    const resource = resourceOf(pattern);
    const id = idParamOf(pattern, c.req.path);
    const labelBefore = id === null ? undefined : await labelOf(c.var.ctx.db, resource, id);
    await next();
    const actor = c.var.actor;
    if (!actor || c.res.status >= 400) return;

    const created = id === null ? await responseFacts(c) : null;
    const targetId = id ?? created?.id ?? created?.invitation?.id;
    const label =
      labelBefore ?? created?.host ?? created?.email ?? created?.invitation?.email ?? created?.name;
    const body = await requestBody(c);
    const imported = created?.lines?.filter((line) => line.status === 'created').map((line) => line.host);
    await recordAudit(c.var.ctx, {
      userId: actor.user.id,
      actor: actor.user.email,
      via: viaOf(actor),
      action: actionFor(c.req.method, pattern),
      target: [targetId === undefined ? resource : `${resource}:${targetId}`, label]
        .filter(Boolean)
        .join(' '),
      detail: imported ? { created: imported } : body,
      ip: c.var.client.ip,
    });
  };
}
