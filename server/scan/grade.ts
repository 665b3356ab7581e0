import type { BonusId, Finding, Grade, Severity } from './types';

/** SPEC.md "Grade and score": the one scoring table. */
export const SEVERITY_PENALTY: Record<Severity, number> = {
  critical: 60,
  high: 25,
  medium: 10,
  low: 5,
  info: 0,
};

export const BONUS_POINTS: Record<BonusId, number> = {
  'hsts-preload-ready': 5,
  'csp-strict': 5,
  coop: 5,
  'security-txt': 5,
};

const MAX_BONUS = 20;

/** Lowest score for each grade, best first (MDN HTTP Observatory table). */
const GRADE_FLOORS: ReadonlyArray<readonly [number, Grade]> = [
  [100, 'A+'],
  [90, 'A'],
  [85, 'A-'],
  [80, 'B+'],
  [70, 'B'],
  [65, 'B-'],
  [60, 'C+'],
  [50, 'C'],
  [45, 'C-'],
  [40, 'D+'],
  [30, 'D'],
  [25, 'D-'],
];

export const GRADES: readonly Grade[] = [...GRADE_FLOORS.map(([, grade]) => grade), 'F'];

export function scoreFindings(findings: readonly Finding[], bonuses: readonly BonusId[]): number {
  const penalty = findings.reduce((sum, finding) => sum + SEVERITY_PENALTY[finding.severity], 0);
  const bonus = Math.min(
    MAX_BONUS,
    [...new Set(bonuses)].reduce((sum, id) => sum + BONUS_POINTS[id], 0),
  );
  return Math.max(0, 100 - penalty + bonus);
}

export function gradeFor(score: number, findings: readonly Finding[]): Grade {
  if (findings.some((finding) => finding.severity === 'critical')) return 'F';
  return GRADE_FLOORS.find(([floor]) => score >= floor)?.[1] ?? 'F';
}

/** Position in GRADES: 0 is A+, larger is worse. */
export function gradeRank(grade: Grade): number {
  return GRADES.indexOf(grade);
}
