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
export function getSettings({ db, defaults }: Pick<ServiceContext, 'db' | 'defaults'>): Settings {
  const merged: Record<string, unknown> = { ...defaults };
  for (const row of db.select().from(settingsTable).all()) {
    if (!(SETTING_KEYS as string[]).includes(row.key)) continue;
    const field = settingsSchema.shape[row.key as keyof Settings];
    const parsed = field.safeParse(safeJson(row.value));
    if (parsed.success) merged[row.key] = parsed.data;
  }
  return settingsSchema.parse(merged);
}

export function updateSettings({
  db,
  now,
  defaults,
  input,
}: Pick<ServiceContext, 'db' | 'now' | 'defaults'> & {
  input: z.infer<typeof settingsPatchSchema>;
}): Settings {
  const updatedAt = now();
  db.transaction((tx) => {
    for (const key of SETTING_KEYS) {
      const value = input[key];
      if (value === undefined) continue;
      const json = JSON.stringify(value);
      tx.insert(settingsTable)
        .values({ key, value: json, updatedAt })
        .onConflictDoUpdate({ target: settingsTable.key, set: { value: json, updatedAt } })
        .run();
    }
  });
  return getSettings({ db, defaults });
}

/** Internal bookkeeping kept beside the settings (e.g. when retention last ran), never shown as a setting. */
export function readMarker({ db }: Pick<ServiceContext, 'db'>, name: string): Date | null {
  const row = db
    .select({ value: settingsTable.value })
    .from(settingsTable)
    .where(eq(settingsTable.key, `marker:${name}`))
    .get();
  const parsed = z.number().safeParse(row ? safeJson(row.value) : null);
  return parsed.success ? new Date(parsed.data) : null;
}

export function writeMarker({ db }: Pick<ServiceContext, 'db'>, name: string, at: Date): void {
  const value = JSON.stringify(at.getTime());
  db.insert(settingsTable)
    .values({ key: `marker:${name}`, value, updatedAt: at })
    .onConflictDoUpdate({ target: settingsTable.key, set: { value, updatedAt: at } })
    .run();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
