import { describe, expect, it } from 'vitest';
import { type FindingId, makeFinding } from './catalogue';
import { GRADES, gradeFor, gradeRank, scoreFindings } from './grade';
import type { BonusId, Finding, Severity } from './types';

const IDS_BY_SEVERITY: Record<Severity, FindingId> = {
  critical: 'django.debug',
  high: 'hsts.missing',
  medium: 'csp.missing',
  low: 'nosniff.missing',
  info: 'coop.missing',
};

function findings(counts: Partial<Record<Severity, number>>): Finding[] {
  return Object.entries(counts).flatMap(([severity, count]) =>
    Array.from({ length: count }, () =>
      makeFinding(IDS_BY_SEVERITY[severity as Severity], { evidence: 'x' }),
    ),
  );
}

const ALL_BONUSES: BonusId[] = ['hsts-preload-ready', 'csp-strict', 'coop', 'security-txt'];

describe('scoreFindings', () => {
  it('starts at 100', () => {
    expect(scoreFindings([], [])).toBe(100);
  });

  it.each([
    ['critical', 40],
    ['high', 75],
    ['medium', 90],
    ['low', 95],
    ['info', 100],
  ] as const)('one %s finding → %i', (severity, score) => {
    expect(scoreFindings(findings({ [severity]: 1 }), [])).toBe(score);
  });

  it('uses the finding severity, not the catalogue default (expiring within 7 days)', () => {
    const expiring = makeFinding('tls.cert.expiring', { evidence: '3 days left', severity: 'high' });
    expect(scoreFindings([expiring], [])).toBe(75);
  });

  it('adds 5 per bonus, at most 20, and counts a bonus once', () => {
    expect(scoreFindings([], ['coop'])).toBe(105);
    expect(scoreFindings([], ALL_BONUSES)).toBe(120);
    expect(scoreFindings([], ['coop', 'coop', 'security-txt'])).toBe(110);
    expect(scoreFindings(findings({ medium: 2 }), ALL_BONUSES)).toBe(100);
  });

  it('never goes below 0', () => {
    expect(scoreFindings(findings({ critical: 2 }), [])).toBe(0);
    expect(scoreFindings(findings({ high: 5 }), ALL_BONUSES)).toBe(0);
  });

  it('adds bonuses before the floor: penalties beyond 100 eat them', () => {
    expect(scoreFindings(findings({ high: 4, medium: 1 }), ['coop', 'csp-strict'])).toBe(0);
    expect(scoreFindings(findings({ high: 4 }), ['coop', 'csp-strict'])).toBe(10);
  });
});

describe('gradeFor', () => {
  it.each([
    [120, 'A+'],
    [100, 'A+'],
    [99, 'A'],
    [90, 'A'],
    [89, 'A-'],
    [85, 'A-'],
    [84, 'B+'],
    [80, 'B+'],
    [79, 'B'],
    [70, 'B'],
    [69, 'B-'],
    [65, 'B-'],
    [64, 'C+'],
    [60, 'C+'],
    [59, 'C'],
    [50, 'C'],
    [49, 'C-'],
    [45, 'C-'],
    [44, 'D+'],
    [40, 'D+'],
    [39, 'D'],
    [30, 'D'],
    [29, 'D-'],
    [25, 'D-'],
    [24, 'F'],
    [0, 'F'],
  ] as const)('%i → %s', (score, grade) => {
    expect(gradeFor(score, [])).toBe(grade);
  });

  it('gives F for any critical finding, whatever the score', () => {
    const critical = findings({ critical: 1 });
    const score = scoreFindings(critical, ALL_BONUSES);
    expect(score).toBe(60);
    expect(gradeFor(score, critical)).toBe('F');
    expect(gradeFor(120, critical)).toBe('F');
  });

  it('does not give F for high findings alone while the score allows better', () => {
    const highs = findings({ high: 2 });
    expect(gradeFor(scoreFindings(highs, []), highs)).toBe('C');
  });

  it('only ever sees integer scores, so 89.x cannot happen', () => {
    const mixes = [findings({ medium: 1, low: 1 }), findings({ high: 1, info: 3 }), findings({ low: 3 })];
    for (const mix of mixes) expect(Number.isInteger(scoreFindings(mix, ['coop']))).toBe(true);
  });
});

describe('GRADES', () => {
  it('orders grades best first, F last', () => {
    expect(GRADES).toEqual(['A+', 'A', 'A-', 'B+', 'B', 'B-', 'C+', 'C', 'C-', 'D+', 'D', 'D-', 'F']);
    expect(gradeRank('A+')).toBe(0);
    expect(gradeRank('F')).toBeGreaterThan(gradeRank('D-'));
  });
});
