import { describe, expect, it } from 'vitest';
import { makeFinding } from '../scan/catalogue';
import { diffFindings, gradeDirection } from './finding-diff';

const hsts = makeFinding('hsts.missing', { evidence: 'no Strict-Transport-Security header' });
const csp = makeFinding('csp.missing', { evidence: 'no Content-Security-Policy header' });
const expiring30 = makeFinding('tls.cert.expiring', { evidence: 'expires in 20 days', severity: 'medium' });
const expiring7 = makeFinding('tls.cert.expiring', { evidence: 'expires in 5 days', severity: 'high' });
const env = makeFinding('exposure.file', { evidence: '/.env serves KEY=value lines' });
const gitHead = makeFinding('exposure.file', { evidence: '/.git/HEAD serves ref: refs/heads/main' });

describe('diffFindings', () => {
  it('reports nothing for identical findings in any order', () => {
    expect(diffFindings([hsts, csp], [csp, hsts])).toEqual({
      added: [],
      removed: [],
      changed: [],
      unchanged: 2,
    });
  });

  it('reports added and removed findings by ID', () => {
    const diff = diffFindings([hsts], [csp]);
    expect(diff.added).toEqual([csp]);
    expect(diff.removed).toEqual([hsts]);
    expect(diff.changed).toEqual([]);
  });

  it('reports a severity change of the same finding, not an add and a remove', () => {
    const diff = diffFindings([expiring30, hsts], [expiring7, hsts]);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.changed).toEqual([
      { id: 'tls.cert.expiring', from: 'medium', to: 'high', direction: 'worse', finding: expiring7 },
    ]);
    expect(diffFindings([expiring7], [expiring30]).changed[0]?.direction).toBe('better');
  });

  it('matches repeated IDs by evidence', () => {
    const diff = diffFindings([env], [env, gitHead]);
    expect(diff.added).toEqual([gitHead]);
    expect(diff.removed).toEqual([]);
    expect(diff.unchanged).toBe(1);
    expect(diffFindings([env, gitHead], [gitHead]).removed).toEqual([env]);
  });
});

describe('gradeDirection', () => {
  it('compares grades on the grade table', () => {
    expect(gradeDirection('B', 'A-')).toBe('better');
    expect(gradeDirection('A+', 'F')).toBe('worse');
    expect(gradeDirection('C', 'C')).toBe('same');
    expect(gradeDirection(null, 'C')).toBe('unknown');
    expect(gradeDirection(null, null)).toBe('same');
  });
});
