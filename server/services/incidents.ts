import { and, asc, count, desc, eq, gt, inArray, isNull, ne, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { type AlertKey, alertKeySchema, describeKey, isAlertKey } from '../alerts/keys';
import {
  alertDeliveries,
  alertMailIncidents,
  alertMails,
  alertMutes,
  type DeliveryStatus,
  type IncidentEventType,
  type IncidentStatus,
  incidentEvents,
  incidents,
  type MailKind,
  sites,
} from '../db/schema';
import { lockedForUpdate } from '../db/sql';
import { AppError } from '../errors';
import type { Grade, Severity } from '../scan/types';
import type { ServiceContext } from './context';

/** Incidents as the API shows them, acknowledging them, and mutes of a finding per site. */

export const incidentListQuerySchema = z.object({
  /** `open`: still open; `past`: resolved; `all`: both. */
  status: z.enum(['open', 'past', 'all']).default('open'),
  siteId: z
    .string()
    .regex(/^[1-9]\d{0,14}$/, 'must be a positive integer id')
    .transform(Number)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export type IncidentListQuery = z.infer<typeof incidentListQuerySchema>;

export const acknowledgeSchema = z.object({ note: z.string().trim().max(500).optional() }).strict();

const MAX_MUTE_MS = 366 * 86_400_000;

export const newMuteSchema = z
  .object({
    siteId: z.number().int().positive(),
    key: alertKeySchema,
    reason: z.string().trim().min(1, 'say why it is muted').max(500),
    expiresAt: z.iso.datetime({ offset: true }).transform((value) => new Date(value)),
  })
  .strict();
export type NewMute = z.infer<typeof newMuteSchema>;

export const muteListQuerySchema = z.object({
  siteId: z
    .string()
    .regex(/^[1-9]\d{0,14}$/, 'must be a positive integer id')
    .transform(Number)
    .optional(),
});

export interface MuteView {
  id: number;
  siteId: number;
  host: string;
  key: AlertKey;
  title: string;
  reason: string;
  expiresAt: string;
  createdAt: string;
}

export interface IncidentView {
  id: number;
  siteId: number;
  host: string;
  key: AlertKey;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  openedAt: string;
  firstSeenAt: string;
  resolvedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedNote: string | null;
  lastNotifiedAt: string;
  flapping: boolean;
  reopenCount: number;
  /** What the confirming scan saw: text from the scanned server. */
  evidence: string;
  fromGrade: Grade | null;
  muted: { id: number; reason: string; expiresAt: string } | null;
}

export interface IncidentEventView {
  id: number;
  type: IncidentEventType;
  at: string;
  severity: Severity;
  scanId: number | null;
  mailed: boolean;
  detail: string;
}

export interface IncidentMailView {
  id: number;
  kind: MailKind;
  subject: string;
  createdAt: string;
  deliveries: {
    id: number;
    address: string;
    status: DeliveryStatus;
    attempts: number;
    nextAttemptAt: string;
    sentAt: string | null;
    lastError: string | null;
    messageId: string;
  }[];
}

export interface IncidentDetail extends IncidentView {
  events: IncidentEventView[];
  mails: IncidentMailView[];
}

type IncidentRow = typeof incidents.$inferSelect;
type MuteRow = typeof alertMutes.$inferSelect;

async function activeMutes(
  db: ServiceContext['db'],
  at: Date,
  siteIds: readonly number[],
): Promise<MuteRow[]> {
  if (siteIds.length === 0) return [];
  return db
    .select()
    .from(alertMutes)
    .where(and(inArray(alertMutes.siteId, [...new Set(siteIds)]), gt(alertMutes.expiresAt, at)))
    .orderBy(desc(alertMutes.expiresAt), desc(alertMutes.id));
}

function toIncidentView(row: IncidentRow, host: string, mutes: readonly MuteRow[]): IncidentView {
  const key = row.key as AlertKey;
  const mute = mutes.find((candidate) => candidate.siteId === row.siteId && candidate.key === row.key);
  return {
    id: row.id,
    siteId: row.siteId,
    host,
    key,
    title: isAlertKey(row.key) ? describeKey(key).title : row.key,
    severity: row.severity,
    status: row.status,
    openedAt: row.openedAt.toISOString(),
    firstSeenAt: row.firstSeenAt.toISOString(),
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
    acknowledgedAt: row.acknowledgedAt?.toISOString() ?? null,
    acknowledgedNote: row.acknowledgedNote,
    lastNotifiedAt: row.lastNotifiedAt.toISOString(),
    flapping: row.flappingSince !== null,
    reopenCount: row.reopenCount,
    evidence: row.evidence,
    fromGrade: row.fromGrade,
    muted: mute ? { id: mute.id, reason: mute.reason, expiresAt: mute.expiresAt.toISOString() } : null,
  };
}

export async function listIncidents({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: IncidentListQuery }): Promise<{
  total: number;
  items: IncidentView[];
}> {
  const conditions: SQL[] = [];
  if (input.status === 'open') conditions.push(eq(incidents.status, 'open'));
  if (input.status === 'past') conditions.push(ne(incidents.status, 'open'));
  if (input.siteId !== undefined) conditions.push(eq(incidents.siteId, input.siteId));
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const [counted] = await db.select({ n: count() }).from(incidents).where(where);
  const rows = await db
    .select({ incident: incidents, host: sites.host })
    .from(incidents)
    .innerJoin(sites, eq(sites.id, incidents.siteId))
    .where(where)
    .orderBy(
      input.status === 'past' ? desc(incidents.resolvedAt) : desc(incidents.openedAt),
      desc(incidents.id),
    )
    .limit(input.limit)
    .offset(input.offset);
  const mutes = await activeMutes(
    db,
    now(),
    rows.map((row) => row.incident.siteId),
  );
  return { total: counted?.n ?? 0, items: rows.map((row) => toIncidentView(row.incident, row.host, mutes)) };
}

async function requireIncident(
  db: ServiceContext['db'],
  id: number,
): Promise<{ incident: IncidentRow; host: string }> {
  const [row] = await db
    .select({ incident: incidents, host: sites.host })
    .from(incidents)
    .innerJoin(sites, eq(sites.id, incidents.siteId))
    .where(eq(incidents.id, id))
    .limit(1);
  if (!row) throw new AppError('not_found', `Incident ${id} not found`);
  return row;
}

export async function getIncident({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: { id: number } }): Promise<IncidentDetail> {
  const { incident, host } = await requireIncident(db, input.id);
  const events = await db
    .select()
    .from(incidentEvents)
    .where(eq(incidentEvents.incidentId, incident.id))
    .orderBy(asc(incidentEvents.at), asc(incidentEvents.id));
  const mails = (
    await db
      .select({ mail: alertMails })
      .from(alertMailIncidents)
      .innerJoin(alertMails, eq(alertMails.id, alertMailIncidents.mailId))
      .where(eq(alertMailIncidents.incidentId, incident.id))
      .orderBy(asc(alertMails.id))
  ).map((row) => row.mail);
  const deliveries =
    mails.length === 0
      ? []
      : await db
          .select()
          .from(alertDeliveries)
          .where(
            inArray(
              alertDeliveries.mailId,
              mails.map((mail) => mail.id),
            ),
          )
          .orderBy(asc(alertDeliveries.id));
  return {
    ...toIncidentView(incident, host, await activeMutes(db, now(), [incident.siteId])),
    events: events.map((event) => ({
      id: event.id,
      type: event.type,
      at: event.at.toISOString(),
      severity: event.severity,
      scanId: event.scanId,
      mailed: event.mailId !== null,
      detail: event.detail,
    })),
    mails: mails.map((mail) => ({
      id: mail.id,
      kind: mail.kind,
      subject: mail.subject,
      createdAt: mail.createdAt.toISOString(),
      deliveries: deliveries
        .filter((delivery) => delivery.mailId === mail.id)
        .map((delivery) => ({
          id: delivery.id,
          address: delivery.address,
          status: delivery.status,
          attempts: delivery.attempts,
          nextAttemptAt: delivery.nextAttemptAt.toISOString(),
          sentAt: delivery.sentAt?.toISOString() ?? null,
          lastError: delivery.lastError,
          messageId: delivery.messageId,
        })),
    })),
  };
}

/** Someone is on it: no more reminders. Only open incidents can be acknowledged; a second time changes nothing. */
export async function acknowledgeIncident({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & {
  input: { id: number; note?: string | undefined };
}): Promise<IncidentView> {
  await db.transaction(async (tx) => {
    // Locked: of two acknowledgements at once, the second sees the first and records nothing.
    const [row] = await lockedForUpdate(
      tx.select().from(incidents).where(eq(incidents.id, input.id)).limit(1),
    );
    if (!row) throw new AppError('not_found', `Incident ${input.id} not found`);
    if (row.status !== 'open')
      throw new AppError('conflict', `Incident ${input.id} is already resolved`, { status: row.status });
    if (row.acknowledgedAt) return;
    const at = now();
    await tx
      .update(incidents)
      .set({ acknowledgedAt: at, acknowledgedNote: input.note || null, updatedAt: at })
      .where(and(eq(incidents.id, row.id), isNull(incidents.acknowledgedAt)));
    await tx.insert(incidentEvents).values({
      incidentId: row.id,
      type: 'acknowledged',
      at,
      severity: row.severity,
      notify: false,
      detail: input.note ?? '',
    });
  });
  const { incident, host } = await requireIncident(db, input.id);
  return toIncidentView(incident, host, await activeMutes(db, now(), [incident.siteId]));
}

function toMuteView(row: MuteRow, host: string): MuteView {
  const key = row.key as AlertKey;
  return {
    id: row.id,
    siteId: row.siteId,
    host,
    key,
    title: isAlertKey(row.key) ? describeKey(key).title : row.key,
    reason: row.reason,
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}

/** Mutes that have not expired, newest expiry first. */
export async function listMutes({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: z.infer<typeof muteListQuerySchema> }): Promise<{
  items: MuteView[];
}> {
  const conditions: SQL[] = [gt(alertMutes.expiresAt, now())];
  if (input.siteId !== undefined) conditions.push(eq(alertMutes.siteId, input.siteId));
  const rows = await db
    .select({ mute: alertMutes, host: sites.host })
    .from(alertMutes)
    .innerJoin(sites, eq(sites.id, alertMutes.siteId))
    .where(and(...conditions))
    .orderBy(desc(alertMutes.expiresAt), desc(alertMutes.id));
  return { items: rows.map((row) => toMuteView(row.mute, row.host)) };
}

export async function createMute({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: NewMute }): Promise<MuteView> {
  const at = now();
  const span = input.expiresAt.getTime() - at.getTime();
  if (span <= 0) throw new AppError('invalid_request', 'expiresAt must be in the future');
  if (span > MAX_MUTE_MS) throw new AppError('invalid_request', 'A mute lasts at most a year');
  const [site] = await db.select({ host: sites.host }).from(sites).where(eq(sites.id, input.siteId)).limit(1);
  if (!site) throw new AppError('not_found', `Site ${input.siteId} not found`);
  const [row] = await db
    .insert(alertMutes)
    .values({
      siteId: input.siteId,
      key: input.key,
      reason: input.reason,
      expiresAt: input.expiresAt,
      createdAt: at,
    })
    .returning();
  if (!row) throw new Error('the mute was not written');
  return toMuteView(row, site.host);
}

/** Ends a mute now (the row is kept for the record with its expiry set to now). */
export async function endMute({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: { id: number } }): Promise<void> {
  const at = now();
  const ended = await db
    .update(alertMutes)
    .set({ expiresAt: at })
    .where(and(eq(alertMutes.id, input.id), gt(alertMutes.expiresAt, at)))
    .returning({ id: alertMutes.id });
  if (ended.length === 0) throw new AppError('not_found', `No active mute ${input.id}`);
}
