import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, max, or, type SQL } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../db';
import {
  alertDeliveries,
  alertRecipients,
  alertSubscriptions,
  type IncidentEventType,
  incidentEvents,
  incidents,
  scans,
  sites,
  siteTags,
} from '../db/schema';
import { lockedForUpdate } from '../db/sql';
import type { Grade } from '../scan/types';
import { getAlertSettings } from '../services/alert-settings';
import { type AlertIo, lockSiteForAlerts, mutedKeys } from './evaluate';
import type { AlertKey } from './keys';
import { type PendingEvent, recordSiteEvents } from './notify';
import { enqueueMail } from './outbox';
import { type DigestModel, type ItemEvent, type MailItem, renderDigest } from './render';
import { digestDue, flappingSettled, reminderDue } from './timing';

/** Alert work driven by the clock rather than by scans: reminders, the end of flapping, daily digests. */

export interface HousekeepingReport {
  reminders: number;
  settled: number;
  digests: number;
}

type IncidentRow = typeof incidents.$inferSelect;
const HOUR_MS = 3_600_000;
const TRANSITIONS: IncidentEventType[] = ['opened', 'reopened', 'resolved'];

async function currentGrade(tx: Tx, siteId: number): Promise<Grade | null> {
  const [row] = await tx
    .select({ grade: scans.grade })
    .from(sites)
    .innerJoin(scans, eq(scans.id, sites.lastScanId))
    .where(eq(sites.id, siteId))
    .limit(1);
  return row?.grade ?? null;
}

function itemFor(row: IncidentRow, event: ItemEvent, at: Date, open: boolean): MailItem {
  return {
    incidentId: row.id,
    key: row.key as AlertKey,
    event,
    severity: row.severity,
    evidence: row.evidence,
    since: row.firstSeenAt,
    at,
    open,
  };
}

/**
 * Sites with something to do, then one transaction per site that locks it and reads again what is due:
 * another process doing the same round at the same time finds it done and does nothing.
 */
async function perSite(
  io: AlertIo,
  siteIds: readonly number[],
  work: (tx: Tx, site: { id: number; host: string }) => Promise<number>,
): Promise<number> {
  let done = 0;
  for (const siteId of new Set(siteIds))
    done += await io.db.transaction(async (tx) => {
      if (!(await lockSiteForAlerts(tx, siteId))) return 0;
      const [site] = await tx.select({ host: sites.host }).from(sites).where(eq(sites.id, siteId)).limit(1);
      return site ? work(tx, { id: siteId, host: site.host }) : 0;
    });
  return done;
}

/** Open, unacknowledged incidents nobody has heard about for `reminderHours`: one reminder mail per site. */
async function sendReminders(io: AlertIo, at: Date, reminderHours: number): Promise<number> {
  if (reminderHours <= 0) return 0;
  const overdue = (siteId?: number) =>
    and(
      eq(incidents.status, 'open'),
      isNull(incidents.acknowledgedAt),
      isNull(incidents.flappingSince),
      lte(incidents.lastNotifiedAt, new Date(at.getTime() - reminderHours * HOUR_MS)),
      siteId === undefined ? undefined : eq(incidents.siteId, siteId),
    );
  const candidates = await io.db
    .selectDistinct({ siteId: incidents.siteId })
    .from(incidents)
    .where(overdue())
    .orderBy(asc(incidents.siteId));
  return perSite(
    io,
    candidates.map((row) => row.siteId),
    async (tx, site) => {
      const open = await tx.select().from(incidents).where(overdue(site.id)).orderBy(asc(incidents.id));
      const muted = await mutedKeys(tx, site.id, at);
      const due = open.filter((incident) =>
        reminderDue(
          {
            lastNotifiedAt: incident.lastNotifiedAt.getTime(),
            acknowledged: incident.acknowledgedAt !== null,
            muted: muted.has(incident.key),
            flapping: incident.flappingSince !== null,
          },
          at.getTime(),
          reminderHours,
        ),
      );
      if (due.length === 0) return 0;
      const events: PendingEvent[] = due.map((incident) => ({
        incidentId: incident.id,
        type: 'reminded',
        severity: incident.severity,
        scanId: null,
        detail: `open since ${incident.openedAt.toISOString()}`,
        item: itemFor(incident, 'reminder', at, true),
      }));
      const grade = await currentGrade(tx, site.id);
      await recordSiteEvents(tx, {
        kind: 'reminder',
        site,
        grade: { from: grade, to: grade },
        events,
        at,
        mail: io.mail,
      });
      return due.length;
    },
  );
}

/** When each incident last opened or closed. */
async function lastTransitions(tx: DbOrTx, incidentIds: readonly number[]): Promise<Map<number, Date>> {
  if (incidentIds.length === 0) return new Map();
  const rows = await tx
    .select({ incidentId: incidentEvents.incidentId, at: max(incidentEvents.at) })
    .from(incidentEvents)
    .where(
      and(inArray(incidentEvents.incidentId, [...incidentIds]), inArray(incidentEvents.type, TRANSITIONS)),
    )
    .groupBy(incidentEvents.incidentId);
  return new Map(rows.flatMap((row) => (row.at ? [[row.incidentId, row.at] as const] : [])));
}

/** Flapping incidents quiet for a whole flap window: one mail per site says how they ended up. */
async function settleFlapping(io: AlertIo, at: Date): Promise<number> {
  const flapping = await io.db
    .select({ id: incidents.id, siteId: incidents.siteId })
    .from(incidents)
    .where(isNotNull(incidents.flappingSince));
  const transitions = await lastTransitions(
    io.db,
    flapping.map((row) => row.id),
  );
  const settledNow = (id: number, last: Map<number, Date>) => {
    const lastTransition = last.get(id);
    return lastTransition !== undefined && flappingSettled(lastTransition.getTime(), at.getTime());
  };
  return perSite(
    io,
    flapping.filter((row) => settledNow(row.id, transitions)).map((row) => row.siteId),
    async (tx, site) => {
      const stillFlapping = await tx
        .select()
        .from(incidents)
        .where(and(eq(incidents.siteId, site.id), isNotNull(incidents.flappingSince)))
        .orderBy(asc(incidents.id));
      const last = await lastTransitions(
        tx,
        stillFlapping.map((incident) => incident.id),
      );
      const settled = stillFlapping.filter((incident) => settledNow(incident.id, last));
      if (settled.length === 0) return 0;
      const muted = await mutedKeys(tx, site.id, at);
      await tx
        .update(incidents)
        .set({ flappingSince: null, updatedAt: at })
        .where(
          inArray(
            incidents.id,
            settled.map((incident) => incident.id),
          ),
        );
      const events: PendingEvent[] = settled.map((incident) => {
        const open = incident.status === 'open';
        return {
          incidentId: incident.id,
          type: 'settled',
          severity: incident.severity,
          scanId: null,
          detail: open ? 'stable and still open' : 'stable and resolved',
          item: muted.has(incident.key) ? null : itemFor(incident, 'settled', at, open),
        };
      });
      const grade = await currentGrade(tx, site.id);
      await recordSiteEvents(tx, {
        kind: 'settled',
        site,
        grade: { from: grade, to: grade },
        events,
        at,
        mail: io.mail,
      });
      return settled.length;
    },
  );
}

const ITEM_EVENT: Partial<Record<IncidentEventType, ItemEvent>> = {
  opened: 'opened',
  reopened: 'reopened',
  worse: 'worse',
  cert: 'cert',
  flapping: 'flapping',
  resolved: 'resolved',
  reminded: 'reminder',
  settled: 'settled',
};

/** Which incidents a recipient hears about, as a condition on incidents.siteId; null: none. */
async function subscriptionScope(tx: Tx, recipientId: number): Promise<SQL | undefined | null> {
  const subscriptions = await tx
    .select()
    .from(alertSubscriptions)
    .where(eq(alertSubscriptions.recipientId, recipientId));
  if (subscriptions.some((row) => row.siteId === null && row.tag === null)) return undefined;
  const siteIds = subscriptions.flatMap((row) => (row.siteId === null ? [] : [row.siteId]));
  const tags = subscriptions.flatMap((row) => (row.tag === null ? [] : [row.tag]));
  const scopes: SQL[] = [];
  if (siteIds.length > 0) scopes.push(inArray(incidents.siteId, siteIds));
  if (tags.length > 0)
    scopes.push(
      inArray(
        incidents.siteId,
        tx.select({ id: siteTags.siteId }).from(siteTags).where(inArray(siteTags.tag, tags)),
      ),
    );
  return scopes.length > 0 ? or(...scopes)! : null;
}

/** Each digest recipient, once a day after the digest hour: what they did not already get by mail. */
async function sendDigests(io: AlertIo, at: Date, digestHour: number): Promise<number> {
  const isDigestRecipient = and(eq(alertRecipients.mode, 'digest'), eq(alertRecipients.enabled, true));
  const due = (
    await io.db.select().from(alertRecipients).where(isDigestRecipient).orderBy(asc(alertRecipients.id))
  ).filter((recipient) => digestDue(recipient.lastDigestAt.getTime(), at.getTime(), digestHour));
  let sent = 0;
  for (const { id } of due) {
    sent += await io.db.transaction(async (tx) => {
      // Locked and read again: another process sending the same digest has moved lastDigestAt on.
      const [recipient] = await lockedForUpdate(
        tx
          .select()
          .from(alertRecipients)
          .where(and(eq(alertRecipients.id, id), isDigestRecipient))
          .limit(1),
      );
      if (!recipient || !digestDue(recipient.lastDigestAt.getTime(), at.getTime(), digestHour)) return 0;
      const scope = await subscriptionScope(tx, recipient.id);
      const rows =
        scope === null
          ? []
          : await tx
              .select({ event: incidentEvents, incident: incidents, host: sites.host })
              .from(incidentEvents)
              .innerJoin(incidents, eq(incidents.id, incidentEvents.incidentId))
              .innerJoin(sites, eq(sites.id, incidents.siteId))
              .where(
                and(
                  eq(incidentEvents.notify, true),
                  gt(incidentEvents.at, recipient.lastDigestAt),
                  lte(incidentEvents.at, at),
                  scope,
                ),
              )
              .orderBy(asc(incidentEvents.at), asc(incidentEvents.id));
      const mailIds = [
        ...new Set(rows.flatMap((row) => (row.event.mailId === null ? [] : [row.event.mailId]))),
      ];
      const alreadyMailed = new Set(
        mailIds.length === 0
          ? []
          : (
              await tx
                .select({ mailId: alertDeliveries.mailId })
                .from(alertDeliveries)
                .where(
                  and(
                    eq(alertDeliveries.recipientId, recipient.id),
                    inArray(alertDeliveries.mailId, mailIds),
                  ),
                )
            ).map((row) => row.mailId),
      );
      const bySite = new Map<number, DigestModel['sites'][number]>();
      for (const { event, incident, host } of rows) {
        const kind = ITEM_EVENT[event.type];
        if (!kind || (event.mailId !== null && alreadyMailed.has(event.mailId))) continue;
        // Cert and flapping events keep their count first in `detail`.
        const count = Number.parseInt(event.detail, 10);
        const item: MailItem = {
          ...itemFor(incident, kind, event.at, kind === 'resolved' ? false : incident.status === 'open'),
          severity: event.severity,
          ...(kind === 'cert' && Number.isFinite(count) ? { certDaysLeft: count } : {}),
          ...(kind === 'flapping' && Number.isFinite(count) ? { transitions: count } : {}),
        };
        const entry = bySite.get(incident.siteId) ?? { site: { id: incident.siteId, host }, items: [] };
        entry.items.push(item);
        bySite.set(incident.siteId, entry);
      }
      await tx.update(alertRecipients).set({ lastDigestAt: at }).where(eq(alertRecipients.id, recipient.id));
      if (bySite.size === 0) return 0;
      const model: DigestModel = {
        from: recipient.lastDigestAt,
        to: at,
        sites: [...bySite.values()].sort((a, b) => a.site.host.localeCompare(b.site.host)),
        publicUrl: io.mail.publicUrl,
      };
      await enqueueMail(tx, {
        kind: 'digest',
        siteId: null,
        rendered: renderDigest(model),
        incidentIds: model.sites.flatMap((entry) => entry.items.map((item) => item.incidentId)),
        recipients: [recipient],
        at,
        domain: io.mail.domain,
      });
      return 1;
    });
  }
  return sent;
}

/** Safe to run in several processes at once: each piece of work is read again under a lock before it is done. */
export async function runHousekeeping(io: AlertIo): Promise<HousekeepingReport> {
  const at = io.now();
  const settings = await getAlertSettings({ db: io.db });
  return {
    reminders: await sendReminders(io, at, settings.reminderHours),
    settled: await settleFlapping(io, at),
    digests: await sendDigests(io, at, settings.digestHour),
  };
}
