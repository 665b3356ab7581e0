import { randomBytes } from 'node:crypto';
import { and, asc, count, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../db';
import { alertDeliveries, alertMailIncidents, alertMails, type MailKind } from '../db/schema';
import { lockedForUpdate } from '../db/sql';
import type { OutgoingMail } from './mailer';
import type { RenderedMail } from './render';
import { type RetryPolicy, retryDelayMs } from './timing';

/**
 * The durable outbox. A mail and one delivery per address are written in the caller's transaction
 * (the one that opened or closed the incidents), so a mail exists exactly when its incident change
 * does. Senders (one per process, any number of processes) then claim, send and settle deliveries.
 *
 * A claim is a lease: the row becomes `sending`, its attempt is counted, and `nextAttemptAt` becomes the
 * end of the lease. No other sender takes the row before then; a sender that dies mid-send leaves it
 * to be claimed again when the lease ends, and it goes out again with the same Message-ID: at least
 * once, duplicates recognisable. A settle only applies while the claim is still the row's latest
 * (same attempt number), so a sender whose lease ran out cannot undo what a later claim did.
 */

/** Header naming the incidents a mail is about; a receiver can dedupe on it with the Message-ID. */
export const INCIDENT_HEADER = 'X-Vigil-Incident';
export const DELIVERY_HEADER = 'X-Vigil-Delivery';

/**
 * How long a claimed delivery belongs to its sender: well above the mailer's own time limits (20 s to
 * connect, 20 s for the greeting, 40 s of silence), so a live sender has settled long before it ends.
 */
export const DEFAULT_LEASE_MS = 120_000;

const WAITING = ['pending', 'sending'] as const;

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
export async function enqueueMail(tx: Tx, mail: NewMail): Promise<number> {
  const [written] = await tx
    .insert(alertMails)
    .values({ kind: mail.kind, siteId: mail.siteId, ...mail.rendered, createdAt: mail.at })
    .returning({ id: alertMails.id });
  if (!written) throw new Error('the alert mail was not written');
  const { id } = written;
  const incidentIds = [...new Set(mail.incidentIds)];
  if (incidentIds.length > 0)
    await tx.insert(alertMailIncidents).values(incidentIds.map((incidentId) => ({ mailId: id, incidentId })));
  if (mail.recipients.length > 0)
    await tx.insert(alertDeliveries).values(
      mail.recipients.map((recipient, index) => ({
        mailId: id,
        recipientId: recipient.id,
        address: recipient.email,
        messageId: `<vigil.${id}.${index + 1}.${randomBytes(6).toString('hex')}@${mail.domain}>`,
        status: 'pending' as const,
        nextAttemptAt: mail.at,
        createdAt: mail.at,
      })),
    );
  return id;
}

export interface ClaimedDelivery {
  id: number;
  /** This attempt's number: the claim's token, which settling it must match. */
  attempts: number;
  mail: OutgoingMail;
}

/**
 * Takes up to `limit` due deliveries (pending ones whose time has come, and claims whose lease ran out)
 * and leases them to this sender until `at + leaseMs`. Concurrent senders never get the same row: on
 * PostgreSQL each skips rows another has locked, and the update re-checks that the row is still due.
 */
export async function claimDueDeliveries(
  db: Db,
  input: { at: Date; limit: number; leaseMs?: number },
): Promise<ClaimedDelivery[]> {
  const { at, limit } = input;
  const leaseEnd = new Date(at.getTime() + (input.leaseMs ?? DEFAULT_LEASE_MS));
  const due = and(inArray(alertDeliveries.status, [...WAITING]), lte(alertDeliveries.nextAttemptAt, at));
  return db.transaction(async (tx) => {
    const candidates = await lockedForUpdate(
      tx
        .select({ id: alertDeliveries.id })
        .from(alertDeliveries)
        .where(due)
        .orderBy(asc(alertDeliveries.nextAttemptAt), asc(alertDeliveries.id))
        .limit(limit),
      { skipLocked: true },
    );
    if (candidates.length === 0) return [];
    const claimed = await tx
      .update(alertDeliveries)
      .set({
        status: 'sending',
        attempts: sql`${alertDeliveries.attempts} + 1`,
        lastAttemptAt: at,
        nextAttemptAt: leaseEnd,
      })
      .where(
        and(
          inArray(
            alertDeliveries.id,
            candidates.map((row) => row.id),
          ),
          due,
        ),
      )
      .returning({
        id: alertDeliveries.id,
        attempts: alertDeliveries.attempts,
        address: alertDeliveries.address,
        messageId: alertDeliveries.messageId,
        mailId: alertDeliveries.mailId,
      });
    if (claimed.length === 0) return [];
    const mailIds = [...new Set(claimed.map((row) => row.mailId))];
    const mails = new Map(
      (
        await tx
          .select({
            id: alertMails.id,
            subject: alertMails.subject,
            text: alertMails.text,
            html: alertMails.html,
            createdAt: alertMails.createdAt,
          })
          .from(alertMails)
          .where(inArray(alertMails.id, mailIds))
      ).map((mail) => [mail.id, mail]),
    );
    const incidentsByMail = new Map<number, number[]>();
    const links = await tx
      .select()
      .from(alertMailIncidents)
      .where(inArray(alertMailIncidents.mailId, mailIds))
      .orderBy(asc(alertMailIncidents.incidentId));
    for (const link of links)
      incidentsByMail.set(link.mailId, [...(incidentsByMail.get(link.mailId) ?? []), link.incidentId]);
    return claimed
      .sort((a, b) => a.id - b.id)
      .flatMap((row) => {
        const mail = mails.get(row.mailId);
        if (!mail) return [];
        const headers: Record<string, string> = { [DELIVERY_HEADER]: String(row.id) };
        const incidentIds = incidentsByMail.get(row.mailId);
        if (incidentIds?.length) headers[INCIDENT_HEADER] = incidentIds.join(', ');
        return [
          {
            id: row.id,
            attempts: row.attempts,
            mail: {
              to: row.address,
              subject: mail.subject,
              text: mail.text,
              html: mail.html,
              messageId: row.messageId,
              date: mail.createdAt,
              headers,
            },
          },
        ];
      });
  });
}

/** The row as this claim left it: still `sending`, with no later claim since. */
function stillClaimed(claim: Pick<ClaimedDelivery, 'id' | 'attempts'>) {
  return and(
    eq(alertDeliveries.id, claim.id),
    eq(alertDeliveries.status, 'sending'),
    eq(alertDeliveries.attempts, claim.attempts),
  );
}

/** The server took the mail. False when the claim was no longer this sender's (its lease ran out). */
export async function markSent(
  db: DbOrTx,
  claim: Pick<ClaimedDelivery, 'id' | 'attempts'>,
  at: Date,
): Promise<boolean> {
  const updated = await db
    .update(alertDeliveries)
    .set({ status: 'sent', sentAt: at, lastError: null })
    .where(stillClaimed(claim))
    .returning({ id: alertDeliveries.id });
  return updated.length > 0;
}

/**
 * A failed attempt: retried after a backoff, or `failed` for good when the server refused the recipient.
 * Returns when it is retried (null: never); nothing changes when the claim is no longer this sender's.
 */
export async function markFailed(
  db: DbOrTx,
  input: {
    claim: Pick<ClaimedDelivery, 'id' | 'attempts'>;
    error: string;
    permanent: boolean;
    at: Date;
    random: () => number;
    retry?: RetryPolicy;
  },
): Promise<Date | null> {
  const next = input.permanent
    ? null
    : new Date(input.at.getTime() + retryDelayMs(input.claim.attempts, input.random, input.retry));
  await db
    .update(alertDeliveries)
    .set({
      status: next ? 'pending' : 'failed',
      lastError: input.error.slice(0, 1000),
      ...(next ? { nextAttemptAt: next } : {}),
    })
    .where(stillClaimed(input.claim));
  return next;
}

export interface RearmReport {
  /** Pending deliveries made due now. */
  rearmed: number;
  /** Deliveries some sender had claimed; they go out again when their lease ends, unless it settles them. */
  leased: number;
}

/**
 * Start-up: every pending delivery is due now — a restart is often the fix (new VIGIL_SMTP_URL), so
 * nobody waits for a backoff. Claimed ones are left to their lease: another process may be sending
 * them right now, and one that died mid-send is taken over when its lease ends.
 */
export async function rearmDeliveries(db: Db, at: Date): Promise<RearmReport> {
  const rearmed = await db
    .update(alertDeliveries)
    .set({ nextAttemptAt: at })
    .where(eq(alertDeliveries.status, 'pending'))
    .returning({ id: alertDeliveries.id });
  const [leased] = await db
    .select({ n: count() })
    .from(alertDeliveries)
    .where(eq(alertDeliveries.status, 'sending'));
  return { rearmed: rearmed.length, leased: leased?.n ?? 0 };
}

/** Deliveries waiting to be sent, for health and logs. */
export async function countWaitingDeliveries(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(alertDeliveries)
    .where(inArray(alertDeliveries.status, [...WAITING]));
  return row?.n ?? 0;
}
