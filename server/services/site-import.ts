import { asc, inArray } from 'drizzle-orm';
import { sites } from '../db/schema';
import { AppError } from '../errors';
import { MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES, type ServiceContext } from './context';
import { getSettings } from './settings';
import { formatSiteCsv, parseIntervalMinutes, parseSiteCsv, type SiteCsvRow } from './site-csv';
import { insertNewSites, normalizeHost, type SiteToInsert, siteFieldsSchema, tagsBySite } from './sites';

export const MAX_IMPORT_LINES = 10_000;

export type ImportLineResult =
  | { line: number; input: string; status: 'created'; siteId: number; host: string }
  | { line: number; input: string; status: 'duplicate'; siteId: number | null; host: string }
  | { line: number; input: string; status: 'invalid'; error: string };

export interface ImportReport {
  created: number;
  duplicates: number;
  invalid: number;
  lines: ImportLineResult[];
}

type Checked = { line: number; input: string } & (
  | { ok: true; site: SiteToInsert }
  | { ok: false; error: string }
);

function checkRow(row: SiteCsvRow, defaults: { allowPrivate: boolean; intervalMinutes: number }) {
  const host = normalizeHost(row.host, defaults.allowPrivate);
  let intervalMinutes = defaults.intervalMinutes;
  if (row.interval !== undefined) {
    const minutes = parseIntervalMinutes(row.interval);
    if (minutes === null)
      throw new Error(`interval "${row.interval}" is not a duration (e.g. 360, 30m, 6h, 1d)`);
    if (minutes < MIN_INTERVAL_MINUTES || minutes > MAX_INTERVAL_MINUTES)
      throw new Error(`interval must be between ${MIN_INTERVAL_MINUTES} minutes and 30 days`);
    intervalMinutes = minutes;
  }
  const fields = siteFieldsSchema.pick({ label: true, tags: true }).safeParse({
    label: row.label ?? '',
    tags: row.tags ?? [],
  });
  if (!fields.success) {
    const issue = fields.error.issues[0];
    throw new Error(`${issue?.path.join('.') || 'line'}: ${issue?.message ?? 'invalid'}`);
  }
  return { host, intervalMinutes, ...fields.data, enabled: true, allowPrivate: false };
}

/**
 * Imports a CSV or newline list. Every line is reported (created, duplicate or invalid); the valid lines are
 * written in one transaction, so a failure part-way writes nothing. With `atomic`, one invalid line stops all.
 */
export async function importSites({
  db,
  now,
  defaults,
  input,
}: Pick<ServiceContext, 'db' | 'now' | 'defaults'> & {
  input: { text: string; atomic: boolean };
}): Promise<ImportReport> {
  const parsed = parseSiteCsv(input.text);
  if (parsed.length === 0) throw new AppError('invalid_request', 'No sites found: send one host per line');
  if (parsed.length > MAX_IMPORT_LINES)
    throw new AppError(
      'payload_too_large',
      `At most ${MAX_IMPORT_LINES} sites per import (got ${parsed.length})`,
    );
  const settings = await getSettings({ db, defaults });
  const checked = parsed.map((line): Checked => {
    if (!line.ok) return { line: line.line, input: line.text, ok: false, error: line.error };
    try {
      const site = checkRow(line.row, {
        allowPrivate: settings.allowPrivate,
        intervalMinutes: settings.defaultIntervalMinutes,
      });
      return { line: line.line, input: line.text, ok: true, site };
    } catch (error) {
      return { line: line.line, input: line.text, ok: false, error: (error as Error).message };
    }
  });

  const invalid = checked.filter((line) => !line.ok);
  if (input.atomic && invalid.length > 0) {
    throw new AppError('invalid_request', `${invalid.length} line(s) are invalid; nothing was imported`, {
      lines: invalid.map((line) => ({
        line: line.line,
        input: line.input,
        error: line.ok ? '' : line.error,
      })),
    });
  }

  const at = now();
  const lines = await db.transaction(async (tx) => {
    const existing = await tx.select({ id: sites.id, host: sites.host }).from(sites);
    const known = new Map(existing.map((site) => [site.host, site.id]));
    const toInsert = new Map<string, SiteToInsert>();
    for (const line of checked)
      if (line.ok && !known.has(line.site.host) && !toInsert.has(line.site.host))
        toInsert.set(line.site.host, line.site);
    const created = await insertNewSites(tx, [...toInsert.values()], at);
    // Hosts another writer added since the read above are duplicates too.
    const raced = [...toInsert.keys()].filter((host) => !created.has(host));
    if (raced.length > 0)
      for (const site of await tx
        .select({ id: sites.id, host: sites.host })
        .from(sites)
        .where(inArray(sites.host, raced)))
        known.set(site.host, site.id);

    const reported = new Set<string>();
    return checked.map((line): ImportLineResult => {
      if (!line.ok) return { line: line.line, input: line.input, status: 'invalid', error: line.error };
      const { host } = line.site;
      const site = created.get(host);
      if (site && !reported.has(host)) {
        reported.add(host);
        return { line: line.line, input: line.input, status: 'created', siteId: site.id, host };
      }
      return {
        line: line.line,
        input: line.input,
        status: 'duplicate',
        siteId: site?.id ?? known.get(host) ?? null,
        host,
      };
    });
  });
  return {
    created: lines.filter((line) => line.status === 'created').length,
    duplicates: lines.filter((line) => line.status === 'duplicate').length,
    invalid: lines.filter((line) => line.status === 'invalid').length,
    lines,
  };
}

/** Every site as CSV (host,label,tags,interval), the format importSites reads. */
export async function exportSitesCsv({ db }: Pick<ServiceContext, 'db'>): Promise<string> {
  const rows = await db.select().from(sites).orderBy(asc(sites.host));
  const tags = await tagsBySite(
    db,
    rows.map((row) => row.id),
  );
  return formatSiteCsv(rows.map((row) => ({ ...row, tags: tags.get(row.id) ?? [] })));
}
