import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { type AlertSettings, DEFAULT_ALERT_SETTINGS } from '../alerts/engine';
import type { DbOrTx } from '../db';
import { settings as settingsTable } from '../db/schema';
import { SEVERITIES } from '../scan/types';
import type { ServiceContext } from './context';

/** Alert settings live in the settings table under one key, as a JSON object over DEFAULT_ALERT_SETTINGS. */
const ALERT_SETTINGS_KEY = 'alerts';

export const alertSettingsSchema = z.object({
  minSeverity: z.enum(SEVERITIES),
  gradeDropSteps: z.number().int().min(0).max(12),
  unreachableAfter: z.number().int().min(1).max(100),
  reminderHours: z
    .number()
    .int()
    .min(0)
    .max(30 * 24),
  digestHour: z.number().int().min(0).max(23),
}) satisfies z.ZodType<AlertSettings>;

export const alertSettingsPatchSchema = alertSettingsSchema
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'nothing to update: give at least one setting');

type Field = keyof AlertSettings;
const FIELDS = Object.keys(alertSettingsSchema.shape) as Field[];

async function storedValue(db: DbOrTx): Promise<Record<string, unknown>> {
  const [row] = await db
    .select({ value: settingsTable.value })
    .from(settingsTable)
    .where(eq(settingsTable.key, ALERT_SETTINGS_KEY))
    .limit(1);
  if (!row) return {};
  try {
    const parsed: unknown = JSON.parse(row.value);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The effective alert settings; a stored field that no longer validates falls back to its default. */
export async function getAlertSettings({ db }: { db: DbOrTx }): Promise<AlertSettings> {
  const stored = await storedValue(db);
  const merged: Record<string, unknown> = { ...DEFAULT_ALERT_SETTINGS };
  for (const field of FIELDS) {
    const parsed = alertSettingsSchema.shape[field].safeParse(stored[field]);
    if (parsed.success) merged[field] = parsed.data;
  }
  return alertSettingsSchema.parse(merged);
}

export async function updateAlertSettings({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: Partial<AlertSettings> }): Promise<AlertSettings> {
  const next = { ...(await getAlertSettings({ db })), ...input };
  const value = JSON.stringify(alertSettingsSchema.parse(next));
  const updatedAt = now();
  await db
    .insert(settingsTable)
    .values({ key: ALERT_SETTINGS_KEY, value, updatedAt })
    .onConflictDoUpdate({ target: settingsTable.key, set: { value, updatedAt } });
  return getAlertSettings({ db });
}
