import { and, asc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx, Tx } from '../db';
import {
  alertDeliveries,
  alertRecipients,
  alertSubscriptions,
  RECIPIENT_MODES,
  type RecipientMode,
  sites,
} from '../db/schema';
import { AppError } from '../errors';
import type { ServiceContext } from './context';
import { tagSchema } from './sites';

/** Who gets alert mail, how (at once or in a daily digest) and about which sites. */

export const subscriptionSchema = z.discriminatedUnion('scope', [
  z.object({ scope: z.literal('all') }).strict(),
  z.object({ scope: z.literal('site'), siteId: z.number().int().positive() }).strict(),
  z.object({ scope: z.literal('tag'), tag: tagSchema }).strict(),
]);
export type SubscriptionInput = z.infer<typeof subscriptionSchema>;

const recipientFieldsSchema = z.object({
  email: z
    .email()
    .max(254)
    .transform((email) => email.toLowerCase()),
  name: z.string().trim().max(200),
  /** `digest`: one mail a day, except critical findings, which always go out at once. */
  mode: z.enum(RECIPIENT_MODES),
  enabled: z.boolean(),
  subscriptions: z.array(subscriptionSchema).max(200),
});

export const newRecipientSchema = recipientFieldsSchema.partial().required({ email: true }).strict();
export type NewRecipient = z.infer<typeof newRecipientSchema>;

export const recipientPatchSchema = recipientFieldsSchema
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'nothing to update: give at least one field');
export type RecipientPatch = z.infer<typeof recipientPatchSchema>;

export type SubscriptionView =
  | { scope: 'all' }
  | { scope: 'site'; siteId: number; host: string }
  | { scope: 'tag'; tag: string };

export interface RecipientView {
  id: number;
  email: string;
  name: string;
  mode: RecipientMode;
  enabled: boolean;
  subscriptions: SubscriptionView[];
  createdAt: string;
  updatedAt: string;
}

type RecipientRow = typeof alertRecipients.$inferSelect;

async function subscriptionsOf(
  db: DbOrTx,
  recipientIds: readonly number[],
): Promise<Map<number, SubscriptionView[]>> {
  const byRecipient = new Map<number, SubscriptionView[]>();
  if (recipientIds.length === 0) return byRecipient;
  const rows = await db
    .select({ subscription: alertSubscriptions, host: sites.host })
    .from(alertSubscriptions)
    .leftJoin(sites, eq(sites.id, alertSubscriptions.siteId))
    .where(inArray(alertSubscriptions.recipientId, [...recipientIds]))
    .orderBy(asc(alertSubscriptions.id));
  for (const { subscription, host } of rows) {
    const view: SubscriptionView =
      subscription.siteId !== null
        ? { scope: 'site', siteId: subscription.siteId, host: host ?? '' }
        : subscription.tag !== null
          ? { scope: 'tag', tag: subscription.tag }
          : { scope: 'all' };
    byRecipient.set(subscription.recipientId, [...(byRecipient.get(subscription.recipientId) ?? []), view]);
  }
  return byRecipient;
}

function toView(row: RecipientRow, subscriptions: SubscriptionView[]): RecipientView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    mode: row.mode,
    enabled: row.enabled,
    subscriptions,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

async function replaceSubscriptions(
  tx: Tx,
  recipientId: number,
  subscriptions: readonly SubscriptionInput[],
): Promise<void> {
  const siteIds = [
    ...new Set(subscriptions.flatMap((entry) => (entry.scope === 'site' ? [entry.siteId] : []))),
  ];
  if (siteIds.length > 0) {
    const known = new Set(
      (await tx.select({ id: sites.id }).from(sites).where(inArray(sites.id, siteIds))).map((row) => row.id),
    );
    const missing = siteIds.filter((id) => !known.has(id));
    if (missing.length > 0)
      throw new AppError('invalid_request', `No site with id ${missing.join(', ')}`, { siteIds: missing });
  }
  await tx.delete(alertSubscriptions).where(eq(alertSubscriptions.recipientId, recipientId));
  const unique = new Map(
    subscriptions.map((entry) => [
      entry.scope === 'site' ? `site:${entry.siteId}` : entry.scope === 'tag' ? `tag:${entry.tag}` : 'all',
      entry,
    ]),
  );
  if (unique.size > 0)
    await tx.insert(alertSubscriptions).values(
      [...unique.values()].map((entry) => ({
        recipientId,
        siteId: entry.scope === 'site' ? entry.siteId : null,
        tag: entry.scope === 'tag' ? entry.tag : null,
      })),
    );
}

async function requireRecipient(db: DbOrTx, id: number): Promise<RecipientRow> {
  const [row] = await db.select().from(alertRecipients).where(eq(alertRecipients.id, id)).limit(1);
  if (!row) throw new AppError('not_found', `Recipient ${id} not found`);
  return row;
}

async function ensureUniqueEmail(db: DbOrTx, email: string, exceptId?: number): Promise<void> {
  const [existing] = await db
    .select({ id: alertRecipients.id })
    .from(alertRecipients)
    .where(eq(alertRecipients.email, email))
    .limit(1);
  if (existing && existing.id !== exceptId)
    throw new AppError('conflict', `${email} is already a recipient (id ${existing.id})`, {
      recipientId: existing.id,
    });
}

export async function listRecipients({
  db,
}: Pick<ServiceContext, 'db'>): Promise<{ items: RecipientView[] }> {
  const rows = await db.select().from(alertRecipients).orderBy(asc(alertRecipients.email));
  const subscriptions = await subscriptionsOf(
    db,
    rows.map((row) => row.id),
  );
  return { items: rows.map((row) => toView(row, subscriptions.get(row.id) ?? [])) };
}

export async function getRecipient({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: { id: number } }): Promise<RecipientView> {
  const row = await requireRecipient(db, input.id);
  return toView(row, (await subscriptionsOf(db, [row.id])).get(row.id) ?? []);
}

/** A new recipient hears about every site unless subscriptions say otherwise. */
export async function createRecipient({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: NewRecipient }): Promise<RecipientView> {
  const at = now();
  const id = await db.transaction(async (tx) => {
    await ensureUniqueEmail(tx, input.email);
    const [row] = await tx
      .insert(alertRecipients)
      .values({
        email: input.email,
        name: input.name ?? '',
        mode: input.mode ?? 'immediate',
        enabled: input.enabled ?? true,
        lastDigestAt: at,
        createdAt: at,
        updatedAt: at,
      })
      .onConflictDoNothing()
      .returning({ id: alertRecipients.id });
    // Another request added the same address since the check above.
    if (!row) throw new AppError('conflict', `${input.email} is already a recipient`);
    await replaceSubscriptions(tx, row.id, input.subscriptions ?? [{ scope: 'all' }]);
    return row.id;
  });
  return getRecipient({ db, input: { id } });
}

export async function updateRecipient({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & {
  input: { id: number; patch: RecipientPatch };
}): Promise<RecipientView> {
  const { id, patch } = input;
  await db.transaction(async (tx) => {
    const row = await requireRecipient(tx, id);
    if (patch.email !== undefined) await ensureUniqueEmail(tx, patch.email, id);
    const at = now();
    await tx
      .update(alertRecipients)
      .set({
        email: patch.email ?? row.email,
        name: patch.name ?? row.name,
        mode: patch.mode ?? row.mode,
        enabled: patch.enabled ?? row.enabled,
        // Switching to digests starts the first digest period now, not at creation.
        lastDigestAt: patch.mode === 'digest' && row.mode !== 'digest' ? at : row.lastDigestAt,
        updatedAt: at,
      })
      .where(eq(alertRecipients.id, id));
    if (patch.subscriptions) await replaceSubscriptions(tx, id, patch.subscriptions);
  });
  return getRecipient({ db, input: { id } });
}

/** Removes a recipient; mails still waiting for them are cancelled, not sent. */
export async function deleteRecipient({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: { id: number } }): Promise<void> {
  await db.transaction(async (tx) => {
    await requireRecipient(tx, input.id);
    await tx
      .update(alertDeliveries)
      .set({ status: 'cancelled' })
      .where(and(eq(alertDeliveries.recipientId, input.id), eq(alertDeliveries.status, 'pending')));
    await tx.delete(alertRecipients).where(eq(alertRecipients.id, input.id));
  });
}

/** Enabled recipients' addresses, for the test mail. */
export async function enabledRecipientEmails({ db }: Pick<ServiceContext, 'db'>): Promise<string[]> {
  const rows = await db
    .select({ email: alertRecipients.email })
    .from(alertRecipients)
    .where(eq(alertRecipients.enabled, true))
    .orderBy(asc(alertRecipients.email));
  return rows.map((row) => row.email);
}
