import type { ScanFindingId } from '../catalogue';
import type { BonusId, Check, CheckOutcome, Finding } from '../types';

/** A check that declares the finding IDs it may report, so coverage of SPEC.md can be tested. */
export interface ScanCheck extends Check {
  readonly findingIds: readonly ScanFindingId[];
}

/** `fail` when anything was found, `pass` otherwise. */
export function judged(findings: Finding[], detail: string, bonuses: BonusId[] = []): CheckOutcome {
  return {
    status: findings.length > 0 ? 'fail' : 'pass',
    detail,
    findings,
    ...(bonuses.length > 0 ? { bonuses } : {}),
  };
}

export function skipped(detail: string): CheckOutcome {
  return { status: 'skip', detail, findings: [] };
}

export function errored(detail: string): CheckOutcome {
  return { status: 'error', detail, findings: [] };
}

/** Server-supplied text shown in evidence is cut so a hostile header cannot bloat a report. */
export function clip(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Detail of a failed check: the titles of what was found. */
export function foundTitles(findings: readonly Finding[]): string {
  return findings.map((finding) => finding.title).join('; ');
}
