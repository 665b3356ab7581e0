import { describe, expect, it } from 'vitest';
import { type SeverityCounts, toChartPoints } from './history';

const counts = (partial: Partial<SeverityCounts>): SeverityCounts => ({
  critical: 0,
  high: 0,
  medium: 0,
  low: 0,
  info: 0,
  ...partial,
});

describe('toChartPoints', () => {
  it('marks scans where findings appeared or disappeared, not the first one', () => {
    const points = toChartPoints([
      { at: '2026-11-01T00:00:00Z', score: 95, counts: counts({ low: 1 }) },
      { at: '2026-11-02T00:00:00Z', score: 95, counts: counts({ low: 1 }) },
      { at: '2026-11-03T00:00:00Z', score: 70, counts: counts({ high: 1, low: 1 }) },
      { at: '2026-11-04T00:00:00Z', score: null, counts: null },
      { at: '2026-11-05T00:00:00Z', score: 100, counts: counts({}) },
    ]);
    expect(points.map((point) => [point.appeared, point.disappeared])).toEqual([
      [[], []],
      [[], []],
      [['+1 high'], []],
      [[], []],
      [[], ['−1 high', '−1 low']],
    ]);
    expect(points.map((point) => point.score)).toEqual([95, 95, 70, null, 100]);
  });
});
