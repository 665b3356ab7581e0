/** CSV (or newline list) of sites: `host[,label,tags,interval]`, one site per line. Pure functions. */

export interface SiteCsvRow {
  host: string;
  label?: string;
  tags?: string[];
  /** Raw interval text (`360`, `30m`, `6h`, `1d`); validated by the importer like any other input. */
  interval?: string;
}

export type SiteCsvLine =
  | { line: number; text: string; ok: true; row: SiteCsvRow }
  | { line: number; text: string; ok: false; error: string };

export const SITE_CSV_HEADER = ['host', 'label', 'tags', 'interval'] as const;

/** A spreadsheet formula start, possibly behind guard quotes already (so guarding round-trips). */
const FORMULA_START = /^'*[=+\-@\t\r]/;

/** Splits one CSV record; `"` quotes a field, `""` inside quotes is a literal quote. */
export function splitCsvRecord(text: string): string[] | { error: string } {
  const fields: string[] = [];
  let field = '';
  let index = 0;
  let quoted = false;
  let fieldWasQuoted = false;
  while (index < text.length) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 2;
        continue;
      }
      if (char === '"') quoted = false;
      else field += char;
      index += 1;
      continue;
    }
    if (char === '"' && field.trim() === '' && !fieldWasQuoted) {
      quoted = true;
      fieldWasQuoted = true;
      field = '';
    } else if (char === ',') {
      fields.push(fieldWasQuoted ? field : field.trim());
      field = '';
      fieldWasQuoted = false;
    } else if (fieldWasQuoted) {
      if (char.trim() !== '') return { error: `unexpected "${char}" after a quoted field` };
    } else {
      field += char;
    }
    index += 1;
  }
  if (quoted) return { error: 'unterminated quoted field' };
  fields.push(fieldWasQuoted ? field : field.trim());
  return fields;
}

/** Undoes the spreadsheet-formula guard that the export adds (`'=…` back to `=…`). */
function unguard(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}

export function splitTags(value: string): string[] {
  return value
    .split(/[;|\s]+/)
    .map((tag) => tag.trim())
    .filter(Boolean);
}

function isHeader(fields: readonly string[]): boolean {
  return fields[0]?.toLowerCase() === 'host';
}

/** Parses the whole text; blank lines and `#` comments are skipped, a leading header line is allowed. */
export function parseSiteCsv(text: string): SiteCsvLine[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const parsed: SiteCsvLine[] = [];
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = splitCsvRecord(raw);
    if ('error' in fields) {
      parsed.push({ line, text: trimmed, ok: false, error: fields.error });
      return;
    }
    if (parsed.length === 0 && isHeader(fields)) return;
    if (fields.length > SITE_CSV_HEADER.length) {
      parsed.push({
        line,
        text: trimmed,
        ok: false,
        error: `expected at most ${SITE_CSV_HEADER.length} fields (${SITE_CSV_HEADER.join(',')}), got ${fields.length}`,
      });
      return;
    }
    const [host = '', label, tags, interval] = fields.map(unguard);
    const row: SiteCsvRow = { host };
    if (label) row.label = label;
    if (tags) row.tags = splitTags(tags);
    if (interval) row.interval = interval;
    parsed.push({ line, text: trimmed, ok: true, row });
  });
  return parsed;
}

const UNIT_MINUTES: Record<string, number> = { m: 1, min: 1, h: 60, d: 1440 };

/** `360` (minutes), `30m`, `6h`, `1d` → minutes; null when it is not a duration. */
export function parseIntervalMinutes(text: string): number | null {
  const match = /^(\d{1,6})\s*(m|min|h|d)?$/i.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * UNIT_MINUTES[(match[2] ?? 'm').toLowerCase()]!;
}

export function formatIntervalMinutes(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

function csvField(value: string): string {
  // A leading =, +, - or @ would run as a formula when the file is opened in a spreadsheet.
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

/** The export format; `parseSiteCsv` reads it back to the same sites. */
export function formatSiteCsv(
  rows: ReadonlyArray<{ host: string; label: string; tags: readonly string[]; intervalMinutes: number }>,
): string {
  const lines = [SITE_CSV_HEADER.join(',')];
  for (const row of rows) {
    lines.push(
      [row.host, row.label, row.tags.join(';'), formatIntervalMinutes(row.intervalMinutes)]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
