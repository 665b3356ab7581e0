import { gradeFor } from '../../../server/scan/grade';
import type { Grade } from '../../../server/scan/types';

/** A grade's letter family ('A+', 'A', 'A-' are all 'a'): badges and chart bands share its colour. */
export type GradeFamily = 'a' | 'b' | 'c' | 'd' | 'f';

export function gradeFamily(grade: Grade): GradeFamily {
  return grade.charAt(0).toLowerCase() as GradeFamily;
}

export interface GradeBand {
  family: GradeFamily;
  /** Lowest score in the band (inclusive). */
  from: number;
  /** Score where the next band starts (exclusive); MAX_SCORE for the top band. */
  to: number;
}

/** 100 plus the largest bonus (SPEC.md "Grade and score"). */
export const MAX_SCORE = 120;

/** Score bands per grade family, read off the one grading table rather than repeated here. */
export function gradeBands(): GradeBand[] {
  const bands: GradeBand[] = [];
  for (let score = 0; score <= MAX_SCORE; score += 1) {
    const family = gradeFamily(gradeFor(score, []));
    const last = bands.at(-1);
    if (last && last.family === family) last.to = score + 1;
    else bands.push({ family, from: score, to: score + 1 });
  }
  const top = bands.at(-1);
  if (top) top.to = MAX_SCORE;
  return bands;
}
