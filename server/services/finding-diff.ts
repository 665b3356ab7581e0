import { gradeRank } from '../scan/grade';
import { type Finding, type Grade, SEVERITY_RANK, type Severity } from '../scan/types';

export interface SeverityChange {
  id: Finding['id'];
  from: Severity;
  to: Severity;
  direction: 'worse' | 'better';
  finding: Finding;
}

export interface FindingDiff {
  added: Finding[];
  removed: Finding[];
  changed: SeverityChange[];
  unchanged: number;
}

export type GradeDirection = 'better' | 'worse' | 'same' | 'unknown';

function groupById(findings: readonly Finding[]): Map<string, Finding[]> {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) groups.set(finding.id, [...(groups.get(finding.id) ?? []), finding]);
  return groups;
}

/**
 * What changed between two scans' findings. A finding is the same finding when its ID matches; an ID
 * that occurs several times (e.g. `exposure.file` per path) is matched by evidence.
 */
export function diffFindings(before: readonly Finding[], after: readonly Finding[]): FindingDiff {
  const diff: FindingDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  const beforeById = groupById(before);
  const afterById = groupById(after);
  for (const [id, afterGroup] of afterById) {
    const beforeGroup = beforeById.get(id) ?? [];
    if (beforeGroup.length === 1 && afterGroup.length === 1) {
      const [old, now] = [beforeGroup[0]!, afterGroup[0]!];
      if (old.severity === now.severity) diff.unchanged += 1;
      else
        diff.changed.push({
          id: now.id,
          from: old.severity,
          to: now.severity,
          direction: SEVERITY_RANK[now.severity] > SEVERITY_RANK[old.severity] ? 'worse' : 'better',
          finding: now,
        });
      continue;
    }
    const unmatched = [...beforeGroup];
    for (const finding of afterGroup) {
      const match = unmatched.findIndex((old) => old.evidence === finding.evidence);
      if (match === -1) diff.added.push(finding);
      else {
        unmatched.splice(match, 1);
        diff.unchanged += 1;
      }
    }
    diff.removed.push(...unmatched);
  }
  for (const [id, beforeGroup] of beforeById) if (!afterById.has(id)) diff.removed.push(...beforeGroup);
  return diff;
}

export function gradeDirection(from: Grade | null, to: Grade | null): GradeDirection {
  if (from === null || to === null) return from === to ? 'same' : 'unknown';
  const delta = gradeRank(to) - gradeRank(from);
  return delta < 0 ? 'better' : delta > 0 ? 'worse' : 'same';
}
