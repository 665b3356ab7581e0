import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, max, or, type SQL } from 'drizzle-orm';
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
import type { Grade } from '../scan/types';
import { getAlertSettings } from '../services/alert-settings';
import type { AlertIo } from './evaluate';
import { mutedKeys } from './evaluate';
import type { AlertKey } from './keys';
import { type PendingEvent, recordSiteEvents } from './notify';
import { enqueueMail, type Tx } from './outbox';
import { type DigestModel, type ItemEvent, type MailItem, renderDigest } from './render';
import { digestDue, flappingSettled, reminderDue } from './timing';

/** Alert work driven by the clock rather than by scans: reminders, the end of flapping, daily digests. */

export interface HousekeepingReport {
  reminders: number;
  settled: number;
  digests: number;
}

type IncidentRow = typeof incidents.$inferSelect;
const IMMEDIATE = { behavior: 'immediate' } as const;
const HOUR_MS = 3_600_000;

function groupBySite<T extends { incident: IncidentRow; host: string }>(
  rows: readonly T[],
): Map<number, T[]> {
  const bySite = new Map<number, T[]>();
  for (const row of rows) bySite.set(row.incident.siteId, [...(bySite.get(row.incident.siteId) ?? []), row]);
  return bySite;
}

function currentGrade(tx: Tx, siteId: number): Grade | null {
  return (
    tx
      .select({ grade: scans.grade })
      .from(sites)
      .innerJoin(scans, eq(scans.id, sites.lastScanId))
      .where(eq(sites.id, siteId))
      .get()?.grade ?? null
  );
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

/** Open, unacknowledged incidents nobody has heard about for `reminderHours`: one reminder mail per site. */
function sendReminders(io: AlertIo, at: Date, reminderHours: number): number {
  if (reminderHours <= 0) return 0;
  const candidates = io.db
    .select({ incident: incidents, host: sites.host })
    .from(incidents)
    .innerJoin(sites, eq(sites.id, incidents.siteId))
    .where(
      and(
        eq(incidents.status, 'open'),
        isNull(incidents.acknowledgedAt),
        isNull(incidents.flappingSince),
        lte(incidents.lastNotifiedAt, new Date(at.getTime() - reminderHours * HOUR_MS)),
      ),
    )
    .orderBy(asc(incidents.id))
    .all();
  let reminded = 0;
  for (const [siteId, rows] of groupBySite(candidates)) {
    reminded += io.db.transaction((tx) => {
      const muted = mutedKeys(tx, siteId, at);
      const due = rows.filter(({ incident }) =>
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
      const events: PendingEvent[] = due.map(({ incident }) => ({
        incidentId: incident.id,
        type: 'reminded',
        severity: incident.severity,
        scanId: null,
        detail: `open since ${incident.openedAt.toISOString()}`,
        item: itemFor(incident, 'reminder', at, true),
      }));
      const grade = currentGrade(tx, siteId);
      recordSiteEvents(tx, {
        kind: 'reminder',
        site: { id: siteId, host: due[0]!.host },
        grade: { from: grade, to: grade },
        events,
        at,
        mail: io.mail,
      });
      return due.length;
    }, IMMEDIATE);
  }
  return reminded;
}

/** Flapping incidents quiet for a whole flap window: one mail per site says how they ended up. */
function settleFlapping(io: AlertIo, at: Date): number {
  const flapping = io.db
    .select({ incident: incidents, host: sites.host, lastTransition: max(incidentEvents.at) })
    .from(incidents)
    .innerJoin(sites, eq(sites.id, incidents.siteId))
    .innerJoin(incidentEvents, eq(incidentEvents.incidentId, incidents.id))
    .where(
      and(
        isNotNull(incidents.flappingSince),
        inArray(incidentEvents.type, ['opened', 'reopened', 'resolved'] satisfies IncidentEventType[]),
      ),
    )
    .groupBy(incidents.id)
    .all()
    .filter((row) => row.lastTransition && flappingSettled(row.lastTransition.getTime(), at.getTime()));
  let settled = 0;
  for (const [siteId, rows] of groupBySite(flapping)) {
    settled += io.db.transaction((tx) => {
      const muted = mutedKeys(tx, siteId, at);
      const ids = rows.map(({ incident }) => incident.id);
      tx.update(incidents)
        .set({ flappingSince: null, updatedAt: at })
        .where(inArray(incidents.id, ids))
        .run();
      const events: PendingEvent[] = rows.map(({ incident }) => {
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
      const grade = currentGrade(tx, siteId);
      recordSiteEvents(tx, {
        kind: 'settled',
        site: { id: siteId, host: rows[0]!.host },
        grade: { from: grade, to: grade },
        events,
        at,
        mail: io.mail,
      });
      return rows.length;
    }, IMMEDIATE);
  }
  return settled;
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
function subscriptionScope(tx: Tx, recipientId: number): SQL | undefined | null {
  const subscriptions = tx
    .select()
    .from(alertSubscriptions)
    .where(eq(alertSubscriptions.recipientId, recipientId))
    .all();
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
function sendDigests(io: AlertIo, at: Date, digestHour: number): number {
  const due = io.db
    .select()
    .from(alertRecipients)
    .where(and(eq(alertRecipients.mode, 'digest'), eq(alertRecipients.enabled, true)))
    .all()
    .filter((recipient) => digestDue(recipient.lastDigestAt.getTime(), at.getTime(), digestHour));
  let sent = 0;
  for (const recipient of due) {
    sent += io.db.transaction((tx) => {
      const scope = subscriptionScope(tx, recipient.id);
      const rows =
        scope === null
          ? []
          : tx
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
              .orderBy(asc(incidentEvents.at), asc(incidentEvents.id))
              .all();
      const mailIds = [
        ...new Set(rows.flatMap((row) => (row.event.mailId === null ? [] : [row.event.mailId]))),
      ];
      const alreadyMailed = new Set(
        mailIds.length === 0
          ? []
          : tx
              .select({ mailId: alertDeliveries.mailId })
              .from(alertDeliveries)
              .where(
                and(eq(alertDeliveries.recipientId, recipient.id), inArray(alertDeliveries.mailId, mailIds)),
              )
              .all()
              .map((row) => row.mailId),
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
      tx.update(alertRecipients).set({ lastDigestAt: at }).where(eq(alertRecipients.id, recipient.id)).run();
      if (bySite.size === 0) return 0;
      const model: DigestModel = {
        from: recipient.lastDigestAt,
        to: at,
        sites: [...bySite.values()].sort((a, b) => a.site.host.localeCompare(b.site.host)),
        publicUrl: io.mail.publicUrl,
      };
      enqueueMail(tx, {
        kind: 'digest',
        siteId: null,
        rendered: renderDigest(model),
        incidentIds: model.sites.flatMap((entry) => entry.items.map((item) => item.incidentId)),
        recipients: [recipient],
        at,
        domain: io.mail.domain,
      });
      return 1;
    }, IMMEDIATE);
  }
  return sent;
}

export function runHousekeeping(io: AlertIo): HousekeepingReport {
  const at = io.now();
  const settings = getAlertSettings({ db: io.db });
  return {
    reminders: sendReminders(io, at, settings.reminderHours),
    settled: settleFlapping(io, at),
    digests: sendDigests(io, at, settings.digestHour),
  };
}
