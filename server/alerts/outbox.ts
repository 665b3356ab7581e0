import { randomBytes } from 'node:crypto';
import { and, asc, count, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { alertDeliveries, alertMailIncidents, alertMails, type MailKind } from '../db/schema';
import type { OutgoingMail } from './mailer';
import type { RenderedMail } from './render';
import { type RetryPolicy, retryDelayMs } from './timing';

/**
 * The durable outbox. A mail and one delivery per address are written in the caller's transaction
 * (the one that opened or closed the incidents), so a mail exists exactly when its incident change
 * does. The worker then claims, sends and settles deliveries; a crash between any two steps leaves a
 * row that is sent (again) after restart, with the same Message-ID: at least once, duplicates visible.
 */

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Header naming the incidents a mail is about; a receiver can dedupe on it with the Message-ID. */
export const INCIDENT_HEADER = 'X-Vigil-Incident';
export const DELIVERY_HEADER = 'X-Vigil-Delivery';

const IMMEDIATE = { behavior: 'immediate' } as const;

/** The domain part for Message-IDs: the sender's domain (`Vigil <vigil@example.com>` → example.com). */
export function messageIdDomain(from: string): string {
  const address = /<([^>]*)>/.exec(from)?.[1] ?? from;
  const domain = address.split('@')[1]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9.-]+$/.test(domain) && domain.length > 0 ? domain : 'vigil.invalid';
}

export interface NewMail {
  kind: MailKind;
  siteId: number | null;
  rendered: RenderedMail;
  incidentIds: readonly number[];
  recipients: readonly { id: number; email: string }[];
  at: Date;
  domain: string;
}

/** Writes a mail and its deliveries (due now) inside the caller's transaction; returns the mail id. */
export function enqueueMail(tx: Tx, mail: NewMail): number {
  const { id } = tx
    .insert(alertMails)
    .values({ kind: mail.kind, siteId: mail.siteId, ...mail.rendered, createdAt: mail.at })
    .returning({ id: alertMails.id })
    .get();
  const incidentIds = [...new Set(mail.incidentIds)];
  if (incidentIds.length > 0)
    tx.insert(alertMailIncidents)
      .values(incidentIds.map((incidentId) => ({ mailId: id, incidentId })))
      .run();
  if (mail.recipients.length > 0)
    tx.insert(alertDeliveries)
      .values(
        mail.recipients.map((recipient, index) => ({
          mailId: id,
          recipientId: recipient.id,
          address: recipient.email,
          messageId: `<vigil.${id}.${index + 1}.${randomBytes(6).toString('hex')}@${mail.domain}>`,
          status: 'pending' as const,
          nextAttemptAt: mail.at,
          createdAt: mail.at,
        })),
      )
      .run();
  return id;
}

export interface ClaimedDelivery {
  id: number;
  attempts: number;
  mail: OutgoingMail;
}

/** Takes up to `limit` due deliveries and marks them `sending`, so no other worker sends them meanwhile. */
export function claimDueDeliveries(db: Db, at: Date, limit: number): ClaimedDelivery[] {
  return db.transaction((tx) => {
    const due = tx
      .select({
        id: alertDeliveries.id,
        attempts: alertDeliveries.attempts,
        address: alertDeliveries.address,
        messageId: alertDeliveries.messageId,
        mailId: alertMails.id,
        subject: alertMails.subject,
        text: alertMails.text,
        html: alertMails.html,
        createdAt: alertMails.createdAt,
      })
      .from(alertDeliveries)
      .innerJoin(alertMails, eq(alertMails.id, alertDeliveries.mailId))
      .where(and(eq(alertDeliveries.status, 'pending'), lte(alertDeliveries.nextAttemptAt, at)))
      .orderBy(asc(alertDeliveries.nextAttemptAt), asc(alertDeliveries.id))
      .limit(limit)
      .all();
    if (due.length === 0) return [];
    const ids = due.map((row) => row.id);
    tx.update(alertDeliveries)
      .set({ status: 'sending', lastAttemptAt: at })
      .where(inArray(alertDeliveries.id, ids))
      .run();
    const incidentsByMail = new Map<number, number[]>();
    const links = tx
      .select()
      .from(alertMailIncidents)
      .where(
        inArray(
          alertMailIncidents.mailId,
          due.map((row) => row.mailId),
        ),
      )
      .orderBy(asc(alertMailIncidents.incidentId))
      .all();
    for (const link of links)
      incidentsByMail.set(link.mailId, [...(incidentsByMail.get(link.mailId) ?? []), link.incidentId]);
    return due.map((row) => {
      const headers: Record<string, string> = { [DELIVERY_HEADER]: String(row.id) };
      const incidentIds = incidentsByMail.get(row.mailId);
      if (incidentIds?.length) headers[INCIDENT_HEADER] = incidentIds.join(', ');
      return {
        id: row.id,
        attempts: row.attempts,
        mail: {
          to: row.address,
          subject: row.subject,
          text: row.text,
          html: row.html,
          messageId: row.messageId,
          date: row.createdAt,
          headers,
        },
      };
    });
  }, IMMEDIATE);
}

export function markSent(db: Db, deliveryId: number, at: Date): void {
  db.update(alertDeliveries)
    .set({ status: 'sent', sentAt: at, lastError: null, attempts: sql`${alertDeliveries.attempts} + 1` })
    .where(eq(alertDeliveries.id, deliveryId))
    .run();
}

/** A failed attempt: retried after a backoff, or `failed` for good when the server refused the recipient. */
export function markFailed(
  db: Db,
  input: {
    deliveryId: number;
    attempts: number;
    error: string;
    permanent: boolean;
    at: Date;
    random: () => number;
    retry?: RetryPolicy;
  },
): Date | null {
  const attempts = input.attempts + 1;
  const next = input.permanent
    ? null
    : new Date(input.at.getTime() + retryDelayMs(attempts, input.random, input.retry));
  db.update(alertDeliveries)
    .set({
      status: next ? 'pending' : 'failed',
      attempts,
      lastError: input.error.slice(0, 1000),
      ...(next ? { nextAttemptAt: next } : {}),
    })
    .where(eq(alertDeliveries.id, input.deliveryId))
    .run();
  return next;
}

/**
 * Start-up: deliveries a previous process was sending (it died mid-send) go back to pending, and every
 * pending one is due now — a restart is often the fix (new VIGIL_SMTP_URL), so nobody waits for a backoff.
 */
export function rearmDeliveries(db: Db, at: Date): number {
  return db
    .update(alertDeliveries)
    .set({ status: 'pending', nextAttemptAt: at })
    .where(inArray(alertDeliveries.status, ['pending', 'sending']))
    .run().changes;
}

/** Deliveries waiting to be sent, for health and logs. */
export function countWaitingDeliveries(db: Db): number {
  return (
    db
      .select({ n: count() })
      .from(alertDeliveries)
      .where(inArray(alertDeliveries.status, ['pending', 'sending']))
      .get()?.n ?? 0
  );
}
