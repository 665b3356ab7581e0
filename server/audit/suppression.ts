import { isFindingId } from '../scan/catalogue';
import type { AuditFinding, AuditNote } from './types';

/** An inline `vigil: ignore[id, …]` comment. */
export interface Suppression {
  line: number;
  /** The comment is alone on its line, so it also covers the next line. */
  ownLine: boolean;
  ids: ReadonlySet<string>;
}

const MARKER = /vigil:\s*ignore\b(\[([^\]]*)\])?/;

/**
 * Reads one comment's text (`# …` or the inside of `{# … #}`); a bare `vigil: ignore` without IDs
 * suppresses nothing and becomes a note, so a whole line is never silenced by accident.
 */
export function parseSuppression(
  comment: string,
  where: { file: string; line: number; ownLine: boolean },
): { suppression: Suppression | null; notes: AuditNote[] } {
  const match = MARKER.exec(comment);
  if (!match) return { suppression: null, notes: [] };
  const listed = (match[2] ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const notes: AuditNote[] = [];
  const note = (message: string) =>
    notes.push({ kind: 'suppression', file: where.file, line: where.line, message });
  if (listed.length === 0) {
    note(
      '"vigil: ignore" needs the finding IDs it silences, e.g. "# vigil: ignore[code.raw-sql] reason"; nothing was suppressed.',
    );
    return { suppression: null, notes };
  }
  const ids = new Set<string>();
  for (const id of listed) {
    if (isFindingId(id)) ids.add(id);
    else note(`"vigil: ignore" names an unknown finding ID "${id}".`);
  }
  return { suppression: { line: where.line, ownLine: where.ownLine, ids }, notes };
}

/** Whether a suppression on the finding's line, or alone on the line above, names its ID. */
export function isSuppressed(finding: AuditFinding, suppressions: readonly Suppression[]): boolean {
  const { line } = finding.location;
  return suppressions.some(
    (suppression) =>
      suppression.ids.has(finding.id) &&
      (suppression.line === line || (suppression.ownLine && suppression.line === line - 1)),
  );
}
