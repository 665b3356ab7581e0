import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Test helper: the finding tables of the contract, read from ../shared/SPEC.md beside the repository. */

export interface SpecRow {
  id: string;
  /** Every severity the row names (`medium (≤30 d) / high (≤7 d)` names two); the first is the default. */
  severities: string[];
  when: string;
  django: string;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SPEC_PATH = resolve(REPO_ROOT, '../shared/SPEC.md');

const SEVERITY_WORDS = /\b(critical|high|medium|low|info)\b/g;

/** The table rows (`| \`id\` | …`) of the section whose heading starts with `heading`. */
function tableRows(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n## ${heading}`);
  if (start === -1) throw new Error(`SPEC.md has no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end === -1 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => /^\|\s*`/.test(line))
    .map((line) =>
      line
        .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

function toRow(cells: string[]): SpecRow {
  const [id = '', severity = '', when = '', django = ''] = cells;
  return {
    id: id.replace(/`/g, ''),
    severities: [...severity.matchAll(SEVERITY_WORDS)].map((match) => match[1]!),
    when,
    django,
  };
}

export function readSpec(): string {
  return readFileSync(SPEC_PATH, 'utf8');
}

export function specScanRows(markdown = readSpec()): SpecRow[] {
  return tableRows(markdown, 'Checks and finding IDs').map(toRow);
}

export function specAuditRows(markdown = readSpec()): SpecRow[] {
  return tableRows(markdown, 'Audit').map(toRow);
}
