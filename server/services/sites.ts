import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { and, asc, count, eq, inArray, ne, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx, Tx } from '../db';
import { isActiveScan, scans, sites, siteTags } from '../db/schema';
import { containsText, isUniqueViolation, lockedForUpdate } from '../db/sql';
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
  /** Only workers with this region label scan the site (PostgreSQL workers, `--region`); null for any. */
  region: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9-]{0,29}$/, "a region is 1-30 of a-z 0-9 - (a worker's --region label)")
    .nullable(),
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
  region: string | null;
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

export async function tagsBySite(db: DbOrTx, siteIds: readonly number[]): Promise<Map<number, string[]>> {
  const tags = new Map<number, string[]>();
  if (siteIds.length === 0) return tags;
  // Past a page's worth of ids, reading every tag beats binding thousands of parameters.
  const wanted = siteIds.length > 200 ? new Set(siteIds) : null;
  const rows = await db
    .select()
    .from(siteTags)
    .where(wanted ? undefined : inArray(siteTags.siteId, [...siteIds]))
    .orderBy(asc(siteTags.tag));
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
    region: row.region,
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

async function findSiteByHost(db: DbOrTx, host: string): Promise<{ id: number } | undefined> {
  const [row] = await db.select({ id: sites.id }).from(sites).where(eq(sites.host, host)).limit(1);
  return row;
}

function duplicateHost(host: string, siteId: number): AppError {
  return new AppError('conflict', `A site for ${host} already exists (id ${siteId})`, { siteId });
}

async function replaceTags(tx: Tx, siteId: number, tags: readonly string[]): Promise<void> {
  await tx.delete(siteTags).where(eq(siteTags.siteId, siteId));
  if (tags.length > 0) await tx.insert(siteTags).values(tags.map((tag) => ({ siteId, tag })));
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
  region?: string | null;
}

function siteValues(site: SiteToInsert, at: Date): typeof sites.$inferInsert {
  return {
    host: site.host,
    label: site.label,
    intervalMinutes: site.intervalMinutes,
    enabled: site.enabled,
    allowPrivate: site.allowPrivate,
    sourcePath: site.sourcePath ?? null,
    region: site.region ?? null,
    nextScanAt: at,
    createdAt: at,
    updatedAt: at,
  };
}

/** Rows per insert when adding many sites and tags: well under either dialect's bound-parameter limit. */
const SITES_PER_INSERT = 500;
const TAGS_PER_INSERT = 2000;

function inChunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, index) =>
    items.slice(index * size, (index + 1) * size),
  );
}

/**
 * Inserts the sites whose hosts are not taken yet (the unique index decides, so a concurrent insert of the
 * same host cannot make this fail); returns the created ones by host. Hosts must be distinct. They go in
 * host order, so two transactions adding overlapping lists wait for each other's hosts in one order and
 * cannot deadlock.
 */
export async function insertNewSites(
  tx: Tx,
  toInsert: readonly SiteToInsert[],
  at: Date,
): Promise<Map<string, SiteView>> {
  const created = new Map<string, SiteView>();
  const byHost = [...toInsert].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  for (const chunk of inChunks(byHost, SITES_PER_INSERT)) {
    const rows = await tx
      .insert(sites)
      .values(chunk.map((site) => siteValues(site, at)))
      .onConflictDoNothing({ target: sites.host })
      .returning();
    const tagsByHost = new Map(chunk.map((site) => [site.host, site.tags]));
    const tagRows = rows.flatMap((row) =>
      (tagsByHost.get(row.host) ?? []).map((tag) => ({ siteId: row.id, tag })),
    );
    for (const tagChunk of inChunks(tagRows, TAGS_PER_INSERT)) await tx.insert(siteTags).values(tagChunk);
    for (const row of rows) created.set(row.host, toSiteView(row, tagsByHost.get(row.host) ?? []));
  }
  return created;
}

/** Inserts one site; a 409 naming the existing site when its host is taken. */
export async function insertSite(tx: Tx, site: SiteToInsert, at: Date): Promise<SiteView> {
  const created = (await insertNewSites(tx, [site], at)).get(site.host);
  if (created) return created;
  const existing = await findSiteByHost(tx, site.host);
  throw duplicateHost(site.host, existing?.id ?? 0);
}

export async function createSite({
  db,
  now,
  defaults,
  input,
}: Pick<ServiceContext, 'db' | 'now' | 'defaults'> & { input: NewSite }): Promise<SiteView> {
  const settings = await getSettings({ db, defaults });
  const allowPrivate = input.allowPrivate ?? false;
  const host = normalizeHost(input.host, allowPrivate || settings.allowPrivate);
  const sourcePath = checkSourcePath(input.sourcePath ?? null);
  return db.transaction(async (tx) =>
    insertSite(
      tx,
      {
        host,
        label: input.label ?? '',
        tags: input.tags ?? [],
        intervalMinutes: input.intervalMinutes ?? settings.defaultIntervalMinutes,
        enabled: input.enabled ?? true,
        allowPrivate,
        sourcePath,
        region: input.region ?? null,
      },
      now(),
    ),
  );
}

async function requireSite(db: DbOrTx, id: number): Promise<SiteRow> {
  const [row] = await db.select().from(sites).where(eq(sites.id, id)).limit(1);
  if (!row) throw new AppError('not_found', `Site ${id} not found`);
  return row;
}

export async function getSite({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: { id: number } }): Promise<SiteDetail> {
  const row = await requireSite(db, input.id);
  const [active] = await db
    .select({ id: scans.id })
    .from(scans)
    .where(and(eq(scans.siteId, row.id), isActiveScan(scans.state)))
    .limit(1);
  const ids = [row.lastScanId, active?.id].filter((id): id is number => id != null);
  const summaries = await summarizeScans(db, ids);
  const tags = await tagsBySite(db, [row.id]);
  return {
    ...toSiteView(row, tags.get(row.id) ?? []),
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

export async function listSites({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: SiteListQuery }): Promise<{
  total: number;
  items: SiteView[];
}> {
  const where = siteListFilter(db, input);
  const [counted] = await db.select({ n: count() }).from(sites).where(where);
  const rows = await db
    .select()
    .from(sites)
    .where(where)
    .orderBy(asc(sites.host))
    .limit(input.limit)
    .offset(input.offset);
  const tags = await tagsBySite(
    db,
    rows.map((row) => row.id),
  );
  return { total: counted?.n ?? 0, items: rows.map((row) => toSiteView(row, tags.get(row.id) ?? [])) };
}

export async function updateSite({
  db,
  now,
  defaults,
  input,
}: Pick<ServiceContext, 'db' | 'now' | 'defaults'> & {
  input: { id: number; patch: SitePatch };
}): Promise<SiteView> {
  const { id, patch } = input;
  const settings = await getSettings({ db, defaults });
  let newHost = null as string | null;
  try {
    return await db.transaction(async (tx) => {
      // Locked until commit: a concurrent change to this site waits and then starts from this one's result.
      const [row] = await lockedForUpdate(tx.select().from(sites).where(eq(sites.id, id)).limit(1));
      if (!row) throw new AppError('not_found', `Site ${id} not found`);
      const at = now();
      const allowPrivate = patch.allowPrivate ?? row.allowPrivate;
      const host =
        patch.host !== undefined || patch.allowPrivate !== undefined
          ? normalizeHost(patch.host ?? row.host, allowPrivate || settings.allowPrivate)
          : row.host;
      if (host !== row.host) {
        newHost = host;
        const [existing] = await tx
          .select({ id: sites.id })
          .from(sites)
          .where(and(eq(sites.host, host), ne(sites.id, id)))
          .limit(1);
        if (existing) throw duplicateHost(host, existing.id);
      }
      const intervalMinutes = patch.intervalMinutes ?? row.intervalMinutes;
      let nextScanAt = row.nextScanAt;
      if (host !== row.host) nextScanAt = at;
      else if (intervalMinutes !== row.intervalMinutes) {
        const [last] = row.lastScanId
          ? await tx
              .select({ finishedAt: scans.finishedAt })
              .from(scans)
              .where(eq(scans.id, row.lastScanId))
              .limit(1)
          : [];
        const base = last?.finishedAt ?? at;
        nextScanAt = new Date(Math.max(at.getTime(), base.getTime() + intervalMinutes * 60_000));
      }
      const [updated] = await tx
        .update(sites)
        .set({
          host,
          label: patch.label ?? row.label,
          intervalMinutes,
          enabled: patch.enabled ?? row.enabled,
          allowPrivate,
          sourcePath: patch.sourcePath === undefined ? row.sourcePath : checkSourcePath(patch.sourcePath),
          region: patch.region === undefined ? row.region : patch.region,
          nextScanAt,
          updatedAt: at,
        })
        .where(eq(sites.id, id))
        .returning();
      if (!updated) throw new AppError('not_found', `Site ${id} not found`);
      if (patch.tags) await replaceTags(tx, id, patch.tags);
      return toSiteView(updated, patch.tags ?? (await tagsBySite(tx, [id])).get(id) ?? []);
    });
  } catch (error) {
    // Another writer took the host between our check and our update (PostgreSQL runs them side by side).
    if (newHost === null || !isUniqueViolation(error)) throw error;
    const existing = await findSiteByHost(db, newHost);
    throw duplicateHost(newHost, existing?.id ?? 0);
  }
}

export async function deleteSite({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: { id: number } }): Promise<void> {
  const deleted = await db.delete(sites).where(eq(sites.id, input.id)).returning({ id: sites.id });
  if (deleted.length === 0) throw new AppError('not_found', `Site ${input.id} not found`);
}
