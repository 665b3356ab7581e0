import { and, asc, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import type { Tx } from '../db';
import {
  alertRecipients,
  alertSubscriptions,
  type IncidentEventType,
  incidentEvents,
  incidents,
  type MailKind,
  type RecipientMode,
  siteTags,
} from '../db/schema';
import type { Severity } from '../scan/types';
import { enqueueMail } from './outbox';
import { type MailItem, type MailSite, renderSiteMail, type SiteMailModel } from './render';

/** Where mails point and which domain their Message-IDs carry. */
export interface MailSettings {
  publicUrl: string | null;
  domain: string;
}

/** An incident event about to be written; `item` says how a mail tells it when it is worth one. */
export interface PendingEvent {
  incidentId: number;
  type: IncidentEventType;
  severity: Severity;
  scanId: number | null;
  detail: string;
  item: MailItem | null;
}

export interface Recipient {
  id: number;
  email: string;
  mode: RecipientMode;
}

/** Enabled recipients subscribed to the site: to every site, to it by id, or to one of its tags. */
export async function recipientsForSite(tx: Tx, siteId: number): Promise<Recipient[]> {
  const tags = (await tx.select({ tag: siteTags.tag }).from(siteTags).where(eq(siteTags.siteId, siteId))).map(
    (row) => row.tag,
  );
  const scopes: SQL[] = [
    and(isNull(alertSubscriptions.siteId), isNull(alertSubscriptions.tag))!,
    eq(alertSubscriptions.siteId, siteId),
  ];
  if (tags.length > 0) scopes.push(inArray(alertSubscriptions.tag, tags));
  return tx
    .selectDistinct({ id: alertRecipients.id, email: alertRecipients.email, mode: alertRecipients.mode })
    .from(alertRecipients)
    .innerJoin(alertSubscriptions, eq(alertSubscriptions.recipientId, alertRecipients.id))
    .where(and(eq(alertRecipients.enabled, true), or(...scopes)))
    .orderBy(asc(alertRecipients.id));
}

/**
 * Writes the events and, when some are worth telling, one mail about the site to everyone who wants it
 * now: immediate recipients, and digest recipients too when a critical item is in it. Digest recipients
 * otherwise find the events in their next digest. Returns the mail id, if a mail was written.
 */
export async function recordSiteEvents(
  tx: Tx,
  input: {
    kind: Exclude<MailKind, 'digest'>;
    site: MailSite;
    grade: SiteMailModel['grade'];
    events: readonly PendingEvent[];
    at: Date;
    mail: MailSettings;
  },
): Promise<number | null> {
  const items = input.events.flatMap((event) => (event.item ? [event.item] : []));
  let mailId: number | null = null;
  if (items.length > 0) {
    const critical = items.some((item) => item.severity === 'critical');
    const recipients = (await recipientsForSite(tx, input.site.id)).filter(
      (recipient) => recipient.mode === 'immediate' || critical,
    );
    if (recipients.length > 0)
      mailId = await enqueueMail(tx, {
        kind: input.kind,
        siteId: input.site.id,
        rendered: renderSiteMail({
          kind: input.kind,
          site: input.site,
          items,
          grade: input.grade,
          publicUrl: input.mail.publicUrl,
        }),
        incidentIds: items.map((item) => item.incidentId),
        recipients,
        at: input.at,
        domain: input.mail.domain,
      });
    const told = [...new Set(items.map((item) => item.incidentId))];
    await tx.update(incidents).set({ lastNotifiedAt: input.at }).where(inArray(incidents.id, told));
  }
  if (input.events.length > 0)
    await tx.insert(incidentEvents).values(
      input.events.map((event) => ({
        incidentId: event.incidentId,
        type: event.type,
        at: input.at,
        severity: event.severity,
        scanId: event.scanId,
        notify: event.item !== null,
        mailId: event.item ? mailId : null,
        detail: event.detail,
      })),
    );
  return mailId;
}
