import { and, desc, eq, lt } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db';
import { auditLog } from '../db/schema';
import { MAX_ROW_ID } from '../db/sql';
import type { ServiceContext } from './context';

/** Fields whose values never go into the log, whatever route they come with. */
const SECRET_KEY = /password|token|secret/i;
/** The stored detail is a summary, not an archive of request bodies. */
const MAX_DETAIL_CHARS = 2000;

export interface AuditEntry {
  /** The acting user; null for events without one (a failed login). */
  userId: number | null;
  /** The actor's e-mail address, or what was typed at a failed login. */
  actor: string;
  via?: string;
  action: string;
  target?: string;
  detail?: unknown;
  ip?: string;
}

export interface AuditView {
  id: number;
  at: string;
  userId: number | null;
  actor: string;
  via: string;
  action: string;
  target: string;
  detail: unknown;
  ip: string;
}

/** A copy of `value` with secret-looking fields replaced, so a password in a request body never reaches the log. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key,
      SECRET_KEY.test(key) ? '[redacted]' : redactSecrets(field),
    ]),
  );
}

function detailJson(detail: unknown): string {
  const json = JSON.stringify(redactSecrets(detail ?? {})) ?? '{}';
  return json.length <= MAX_DETAIL_CHARS
    ? json
    : JSON.stringify({ truncated: json.slice(0, MAX_DETAIL_CHARS) });
}

export async function recordAudit(
  { db, now }: { db: DbOrTx; now: ServiceContext['now'] },
  entry: AuditEntry,
): Promise<void> {
  await db.insert(auditLog).values({
    at: now(),
    userId: entry.userId,
    actor: entry.actor.slice(0, 254),
    via: entry.via ?? '',
    action: entry.action,
    target: entry.target ?? '',
    detail: detailJson(entry.detail),
    ip: (entry.ip ?? '').slice(0, 64),
  });
}

export const auditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** Entries older than this id: pass the previous page's `nextBefore`. */
  before: z.coerce.number().int().min(1).max(MAX_ROW_ID).optional(),
  action: z
    .string()
    .regex(/^[a-z][a-z.-]{0,60}$/, 'an action such as site.delete')
    .optional(),
});

function parseDetail(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return {};
  }
}

/** Newest first, a page at a time. */
export async function listAuditLog({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: z.infer<typeof auditQuerySchema> }): Promise<{
  items: AuditView[];
  nextBefore: number | null;
}> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(
      and(
        input.before === undefined ? undefined : lt(auditLog.id, input.before),
        input.action === undefined ? undefined : eq(auditLog.action, input.action),
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((row) => ({ ...row, at: row.at.toISOString(), detail: parseDetail(row.detail) })),
    nextBefore: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
  };
}
