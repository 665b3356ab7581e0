import type { Finding } from '../scan/types';
import type { auditEntries } from './catalogue-entries';

export type AuditFindingId = keyof typeof auditEntries;

/** Where a finding is, relative to the audited root; 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** The scan finding shape plus where in the source it is (SPEC.md "Audit (inside view)"). */
export interface AuditFinding extends Finding {
  id: AuditFindingId;
  location: SourceLocation;
  /** The offending source line, trimmed and cut; secret values are redacted. */
  excerpt: string;
}

export type AuditNoteKind = 'skipped' | 'parse-error' | 'suppression';

/** Something the user should know that is not a finding: skipped files, bad suppressions. */
export interface AuditNote {
  kind: AuditNoteKind;
  message: string;
  file?: string;
  line?: number;
}

export interface AuditReport {
  root: string;
  auditedAt: string;
  durationMs: number;
  filesScanned: number;
  findings: AuditFinding[];
  notes: AuditNote[];
}

export interface AuditOptions {
  /** Audit tests too (`tests/`, `test_*.py`, …); also settable in the project config. */
  includeTests?: boolean;
  /** Extra exclude globs, added to the project config's. */
  exclude?: readonly string[];
  /** Extra finding IDs to turn off, added to the project config's. */
  disable?: readonly string[];
}

/** What a rule saw, before it becomes a finding: an offset into the file and what to say. */
export interface RuleHit {
  id: AuditFindingId;
  /** Offset of the offending code in the file text. */
  at: number;
  detail: string;
  /** Offset ranges whose text must never be shown (secret values). */
  redact?: ReadonlyArray<readonly [number, number]>;
  /** Overrides the catalogue's Django mapping when a finding is about one of several settings. */
  django?: { setting?: string; checkId?: string };
}
