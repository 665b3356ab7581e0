import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { settings as settingsTable } from '../db/schema';
import { MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES, type ServiceContext, type Settings } from './context';

export const settingsSchema = z.object({
  allowPrivate: z.boolean(),
  retentionDays: z.number().int().min(1).max(36500),
  scanConcurrency: z.number().int().min(1).max(64),
  defaultIntervalMinutes: z.number().int().min(MIN_INTERVAL_MINUTES).max(MAX_INTERVAL_MINUTES),
}) satisfies z.ZodType<Settings>;

export const settingsPatchSchema = settingsSchema.partial().strict();

const SETTING_KEYS = Object.keys(settingsSchema.shape) as (keyof Settings)[];

/** The effective settings: stored overrides over the environment defaults; a bad stored value falls back. */
export async function getSettings({
  db,
  defaults,
}: Pick<ServiceContext, 'db' | 'defaults'>): Promise<Settings> {
  const merged: Record<string, unknown> = { ...defaults };
  for (const row of await db.select().from(settingsTable)) {
    if (!(SETTING_KEYS as string[]).includes(row.key)) continue;
    const field = settingsSchema.shape[row.key as keyof Settings];
    const parsed = field.safeParse(safeJson(row.value));
    if (parsed.success) merged[row.key] = parsed.data;
  }
  return settingsSchema.parse(merged);
}

export async function updateSettings({
  db,
  now,
  defaults,
  input,
}: Pick<ServiceContext, 'db' | 'now' | 'defaults'> & {
  input: z.infer<typeof settingsPatchSchema>;
}): Promise<Settings> {
  const updatedAt = now();
  await db.transaction(async (tx) => {
    for (const key of SETTING_KEYS) {
      const value = input[key];
      if (value === undefined) continue;
      const json = JSON.stringify(value);
      await tx
        .insert(settingsTable)
        .values({ key, value: json, updatedAt })
        .onConflictDoUpdate({ target: settingsTable.key, set: { value: json, updatedAt } });
    }
  });
  return getSettings({ db, defaults });
}

/** Internal bookkeeping kept beside the settings (e.g. when retention last ran), never shown as a setting. */
export async function readMarker({ db }: Pick<ServiceContext, 'db'>, name: string): Promise<Date | null> {
  const [row] = await db
    .select({ value: settingsTable.value })
    .from(settingsTable)
    .where(eq(settingsTable.key, `marker:${name}`))
    .limit(1);
  const parsed = z.number().safeParse(row ? safeJson(row.value) : null);
  return parsed.success ? new Date(parsed.data) : null;
}

export async function writeMarker({ db }: Pick<ServiceContext, 'db'>, name: string, at: Date): Promise<void> {
  const value = JSON.stringify(at.getTime());
  await db
    .insert(settingsTable)
    .values({ key: `marker:${name}`, value, updatedAt: at })
    .onConflictDoUpdate({ target: settingsTable.key, set: { value, updatedAt: at } });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
