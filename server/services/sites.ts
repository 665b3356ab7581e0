import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { and, asc, count, eq, inArray, ne, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db';
import { isActiveScan, scans, sites, siteTags } from '../db/schema';
import { containsText } from '../db/sql';
import { AppError } from '../errors';
import { formatTarget, parseTarget } from '../scan/target';
import { MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES, type ServiceContext } from './context';
import { type ScanSummary, summarizeScans } from './scan-views';
import { getSettings } from './settings';

export const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[\p{L}\p{N}][\p{L}\p{N}._:/-]{0,39}$/u, 'a tag is 1-40 letters, digits or . _ : / - characters');

export const siteFieldsSchema = z.object({
  host: z.string().trim().min(1).max(2048),
  label: z.string().trim().max(200),
  tags: z
    .array(tagSchema)
    .max(20)
    .transform((tags) => [...new Set(tags)]),
  intervalMinutes: z.number().int().min(MIN_INTERVAL_MINUTES).max(MAX_INTERVAL_MINUTES),
  enabled: z.boolean(),
  allowPrivate: z.boolean(),
  /** A Django checkout on this host to audit with every scan (absolute path), or null. */
  sourcePath: z.string().trim().min(1).max(4096).nullable(),
});

export const newSiteSchema = siteFieldsSchema.partial().required({ host: true }).strict();
export type NewSite = z.infer<typeof newSiteSchema>;

export const sitePatchSchema = siteFieldsSchema
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'nothing to update: give at least one field');
export type SitePatch = z.infer<typeof sitePatchSchema>;

export const siteListQuerySchema = z.object({
  q: z.string().trim().max(200).optional(),
  tag: tagSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export type SiteListQuery = z.infer<typeof siteListQuerySchema>;

export interface SiteView {
  id: number;
  host: string;
  label: string;
  tags: string[];
  intervalMinutes: number;
  enabled: boolean;
  allowPrivate: boolean;
  sourcePath: string | null;
  nextScanAt: string;
  lastScanId: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface SiteDetail extends SiteView {
  lastScan: ScanSummary | null;
  /** The queued or running scan, if any. */
  activeScan: ScanSummary | null;
}

type SiteRow = typeof sites.$inferSelect;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export function tagsBySite(db: Db | Tx, siteIds: readonly number[]): Map<number, string[]> {
  const tags = new Map<number, string[]>();
  if (siteIds.length === 0) return tags;
  // Past a page's worth of ids, reading every tag beats binding thousands of parameters.
  const wanted = siteIds.length > 200 ? new Set(siteIds) : null;
  const rows = db
    .select()
    .from(siteTags)
    .where(wanted ? undefined : inArray(siteTags.siteId, [...siteIds]))
    .orderBy(asc(siteTags.tag))
    .all();
  for (const row of rows) {
    if (wanted && !wanted.has(row.siteId)) continue;
    tags.set(row.siteId, [...(tags.get(row.siteId) ?? []), row.tag]);
  }
  return tags;
}

export function toSiteView(row: SiteRow, tags: readonly string[]): SiteView {
  return {
    id: row.id,
    host: row.host,
    label: row.label,
    tags: [...tags],
    intervalMinutes: row.intervalMinutes,
    enabled: row.enabled,
    allowPrivate: row.allowPrivate,
    sourcePath: row.sourcePath,
    nextScanAt: row.nextScanAt.toISOString(),
    lastScanId: row.lastScanId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** A source path must be an absolute path to a directory that exists on the Vigil host. */
export function checkSourcePath(path: string | null): string | null {
  if (path === null) return null;
  if (!isAbsolute(path))
    throw new AppError('invalid_request', `sourcePath "${path}" must be an absolute path`);
  let directory = false;
  try {
    directory = statSync(path).isDirectory();
  } catch {
    throw new AppError('invalid_request', `sourcePath "${path}" does not exist on the Vigil host`);
  }
  if (!directory) throw new AppError('invalid_request', `sourcePath "${path}" is not a directory`);
  return path;
}

/** The stored form of a host: parsed like a scan target (IP literals only where private scanning is allowed). */
export function normalizeHost(host: string, allowIpLiteral: boolean): string {
  return formatTarget(parseTarget(host, { allowIpLiteral }));
}

function findSiteByHost(db: Db | Tx, host: string): { id: number } | undefined {
  return db.select({ id: sites.id }).from(sites).where(eq(sites.host, host)).get();
}

function duplicateHost(host: string, siteId: number): AppError {
  return new AppError('conflict', `A site for ${host} already exists (id ${siteId})`, { siteId });
}

function replaceTags(tx: Tx, siteId: number, tags: readonly string[]): void {
  tx.delete(siteTags).where(eq(siteTags.siteId, siteId)).run();
  if (tags.length > 0)
    tx.insert(siteTags)
      .values(tags.map((tag) => ({ siteId, tag })))
      .run();
}

/** A site ready to insert: host already normalised; it is due at once so it gets its first scan promptly. */
export interface SiteToInsert {
  host: string;
  label: string;
  tags: string[];
  intervalMinutes: number;
  enabled: boolean;
  allowPrivate: boolean;
  sourcePath?: string | null;
}

export function insertSite(tx: Tx, site: SiteToInsert, at: Date): SiteView {
  const row = tx
    .insert(sites)
    .values({
      host: site.host,
      label: site.label,
      intervalMinutes: site.intervalMinutes,
      enabled: site.enabled,
      allowPrivate: site.allowPrivate,
      sourcePath: site.sourcePath ?? null,
      nextScanAt: at,
      createdAt: at,
      updatedAt: at,
    })
    .returning()
    .get();
  replaceTags(tx, row.id, site.tags);
  return toSiteView(row, site.tags);
}

export function createSite({
  db,
  now,
  defaults,
  input,
}: Pick<ServiceContext, 'db' | 'now' | 'defaults'> & { input: NewSite }): SiteView {
  const settings = getSettings({ db, defaults });
  const allowPrivate = input.allowPrivate ?? false;
  const host = normalizeHost(input.host, allowPrivate || settings.allowPrivate);
  return db.transaction((tx) => {
    const existing = findSiteByHost(tx, host);
    if (existing) throw duplicateHost(host, existing.id);
    return insertSite(
      tx,
      {
        host,
        label: input.label ?? '',
        tags: input.tags ?? [],
        intervalMinutes: input.intervalMinutes ?? settings.defaultIntervalMinutes,
        enabled: input.enabled ?? true,
        allowPrivate,
        sourcePath: checkSourcePath(input.sourcePath ?? null),
      },
      now(),
    );
  });
}

function requireSite(db: Db | Tx, id: number): SiteRow {
  const row = db.select().from(sites).where(eq(sites.id, id)).get();
  if (!row) throw new AppError('not_found', `Site ${id} not found`);
  return row;
}

export function getSite({ db, input }: Pick<ServiceContext, 'db'> & { input: { id: number } }): SiteDetail {
  const row = requireSite(db, input.id);
  const active = db
    .select({ id: scans.id })
    .from(scans)
    .where(and(eq(scans.siteId, row.id), isActiveScan(scans.state)))
    .get();
  const ids = [row.lastScanId, active?.id].filter((id): id is number => id != null);
  const summaries = summarizeScans(db, ids);
  return {
    ...toSiteView(row, tagsBySite(db, [row.id]).get(row.id) ?? []),
    lastScan: row.lastScanId == null ? null : (summaries.get(row.lastScanId) ?? null),
    activeScan: active ? (summaries.get(active.id) ?? null) : null,
  };
}

function siteListFilter(db: Db, query: Pick<SiteListQuery, 'q' | 'tag'>): SQL | undefined {
  const conditions: SQL[] = [];
  if (query.q) conditions.push(containsText([sites.host, sites.label], query.q));
  if (query.tag) conditions.push(inArray(sites.id, sitesWithTag(db, query.tag)));
  return conditions.length > 0 ? and(...conditions) : undefined;
}

export function sitesWithTag(db: Db, tag: string) {
  return db.select({ id: siteTags.siteId }).from(siteTags).where(eq(siteTags.tag, tag));
}

export function listSites({ db, input }: Pick<ServiceContext, 'db'> & { input: SiteListQuery }): {
  total: number;
  items: SiteView[];
} {
  const where = siteListFilter(db, input);
  const total = db.select({ n: count() }).from(sites).where(where).get()?.n ?? 0;
  const rows = db
    .select()
    .from(sites)
    .where(where)
    .orderBy(asc(sites.host))
    .limit(input.limit)
    .offset(input.offset)
    .all();
  const tags = tagsBySite(
    db,
    rows.map((row) => row.id),
  );
  return { total, items: rows.map((row) => toSiteView(row, tags.get(row.id) ?? [])) };
}

export function updateSite({
  db,
  now,
  defaults,
  input,
}: Pick<ServiceContext, 'db' | 'now' | 'defaults'> & { input: { id: number; patch: SitePatch } }): SiteView {
  const { id, patch } = input;
  const settings = getSettings({ db, defaults });
  return db.transaction((tx) => {
    const row = requireSite(tx, id);
    const at = now();
    const allowPrivate = patch.allowPrivate ?? row.allowPrivate;
    const host =
      patch.host !== undefined || patch.allowPrivate !== undefined
        ? normalizeHost(patch.host ?? row.host, allowPrivate || settings.allowPrivate)
        : row.host;
    if (host !== row.host) {
      const existing = tx
        .select({ id: sites.id })
        .from(sites)
        .where(and(eq(sites.host, host), ne(sites.id, id)))
        .get();
      if (existing) throw duplicateHost(host, existing.id);
    }
    const intervalMinutes = patch.intervalMinutes ?? row.intervalMinutes;
    let nextScanAt = row.nextScanAt;
    if (host !== row.host) nextScanAt = at;
    else if (intervalMinutes !== row.intervalMinutes) {
      const last = row.lastScanId
        ? tx.select({ finishedAt: scans.finishedAt }).from(scans).where(eq(scans.id, row.lastScanId)).get()
        : undefined;
      const base = last?.finishedAt ?? at;
      nextScanAt = new Date(Math.max(at.getTime(), base.getTime() + intervalMinutes * 60_000));
    }
    const updated = tx
      .update(sites)
      .set({
        host,
        label: patch.label ?? row.label,
        intervalMinutes,
        enabled: patch.enabled ?? row.enabled,
        allowPrivate,
        sourcePath: patch.sourcePath === undefined ? row.sourcePath : checkSourcePath(patch.sourcePath),
        nextScanAt,
        updatedAt: at,
      })
      .where(eq(sites.id, id))
      .returning()
      .get();
    if (patch.tags) replaceTags(tx, id, patch.tags);
    return toSiteView(updated, patch.tags ?? tagsBySite(tx, [id]).get(id) ?? []);
  });
}

export function deleteSite({ db, input }: Pick<ServiceContext, 'db'> & { input: { id: number } }): void {
  const deleted = db.delete(sites).where(eq(sites.id, input.id)).returning({ id: sites.id }).get();
  if (!deleted) throw new AppError('not_found', `Site ${input.id} not found`);
}
