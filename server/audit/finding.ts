import { CATALOGUE, makeFinding } from '../scan/catalogue';
import type { AuditFinding, RuleHit, SourceLocation } from './types';

const EXCERPT_MAX = 200;
const REDACTED = '…';

/** Offsets at which each line starts, for offset → line/column. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
    starts.push(index + 1);
  }
  return starts;
}

/** 1-based line and column (UTF-16 code units, as SARIF's default) of an offset. */
export function positionAt(starts: readonly number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

/** The text of a 1-based line, trimmed, with redacted ranges replaced and cut to a readable length. */
export function excerptOf(
  text: string,
  starts: readonly number[],
  line: number,
  redact: ReadonlyArray<readonly [number, number]> = [],
): string {
  const lineStart = starts[line - 1] ?? text.length;
  const nextStart = starts[line];
  const lineEnd = nextStart === undefined ? text.length : nextStart - 1;
  let shown = '';
  let cursor = lineStart;
  const inLine = redact
    .filter(([from, to]) => from < lineEnd && to > lineStart)
    .sort((left, right) => left[0] - right[0]);
  for (const [from, to] of inLine) {
    const start = Math.max(from, lineStart);
    if (start < cursor) continue;
    shown += `${text.slice(cursor, start)}${REDACTED}`;
    cursor = Math.min(to, lineEnd);
  }
  shown += text.slice(cursor, lineEnd);
  const trimmed = shown.replace(/\r$/, '').trim();
  return trimmed.length > EXCERPT_MAX ? `${trimmed.slice(0, EXCERPT_MAX - 1)}…` : trimmed;
}

/** Builds an audit finding from its catalogue entry plus where it is in the source. */
export function makeAuditFinding(hit: RuleHit, location: SourceLocation, excerpt: string): AuditFinding {
  const finding = makeFinding(hit.id, {
    detail: hit.detail,
    evidence: `${location.file}:${location.line}: ${excerpt}`,
  });
  const django = hit.django ?? CATALOGUE[hit.id].django;
  const audited: AuditFinding = { ...finding, id: hit.id, location, excerpt };
  if (django) audited.django = { ...django };
  return audited;
}

/** Turns a rule hit at an offset of a file into a located finding; `secrets` are the file's values never to show. */
export function locateHit(
  file: string,
  text: string,
  starts: readonly number[],
  hit: RuleHit,
  secrets: ReadonlyArray<readonly [number, number]> = [],
): AuditFinding {
  const { line, column } = positionAt(starts, hit.at);
  return makeAuditFinding(
    hit,
    { file, line, column },
    excerptOf(text, starts, line, [...(hit.redact ?? []), ...secrets]),
  );
}
