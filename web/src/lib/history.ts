import { SEVERITIES, type Severity } from '../../../server/scan/types';
import type { HistoryPoint } from '../api';
import type { ChartPoint } from '../ui/PostureChart';

export type SeverityCounts = Record<Severity, number>;

/** The part of a history point the chart needs (the API's scan points and folded days both have it). */
export interface ScorePoint {
  at: string;
  score: number | null;
  counts: SeverityCounts | null;
}

/** "+1 high", "−2 low": how the counts moved from one scan to the next, split by direction. */
export function countChanges(before: SeverityCounts | null, after: SeverityCounts | null) {
  const appeared: string[] = [];
  const disappeared: string[] = [];
  if (!before || !after) return { appeared, disappeared };
  for (const severity of SEVERITIES) {
    const delta = after[severity] - before[severity];
    if (delta > 0) appeared.push(`+${delta} ${severity}`);
    if (delta < 0) disappeared.push(`−${-delta} ${severity}`);
  }
  return { appeared, disappeared };
}

/**
 * Chart points with markers where findings appeared or disappeared. The history API gives counts per
 * severity, so a change is a count that moved; the diff page names the findings themselves.
 */
export function toChartPoints(points: readonly ScorePoint[]): ChartPoint[] {
  let previous: SeverityCounts | null = null;
  return points.map((point) => {
    const changes = countChanges(previous, point.counts);
    if (point.counts) previous = point.counts;
    return { at: point.at, score: point.score, ...changes };
  });
}

/** The scan behind a history point; folded days (older than retention) have none. */
export function scanIdOf(point: HistoryPoint): number | null {
  return point.kind === 'scan' ? point.scanId : null;
}
