import { describe, expect, it } from 'vitest';
import { buildFacts, findingIds, runCheck } from './facts-builder';
import { hstsCheck, parseStrictTransportSecurity } from './hsts';

const withHsts = (value: string | string[] | undefined) =>
  runCheck(hstsCheck, buildFacts({ httpsHeaders: { 'strict-transport-security': value } }));

describe('parseStrictTransportSecurity', () => {
  it('reads directives case-insensitively, in any order, with quoted max-age', () => {
    expect(parseStrictTransportSecurity('PRELOAD; Max-Age="31536000" ; includesubdomains')).toEqual({
      ok: true,
      policy: { maxAge: 31_536_000, includeSubDomains: true, preload: true },
    });
  });

  it('ignores unknown directives and empty ones', () => {
    expect(parseStrictTransportSecurity('max-age=600;; report-uri="https://x/;y"')).toEqual({
      ok: true,
      policy: { maxAge: 600, includeSubDomains: false, preload: false },
    });
  });

  it.each([
    ['includeSubDomains', 'no max-age directive'],
    ['max-age=abc', 'is not a number'],
    ['max-age=-5', 'is not a number'],
    ['max-age=100; max-age=200', 'appears twice'],
    ['max-age="100', 'unterminated quote'],
    ['max-age=31536000, max-age=0', 'is not a number'],
  ])('rejects %s', (header, reason) => {
    const parsed = parseStrictTransportSecurity(header);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toContain(reason);
  });
});

describe('hsts check', () => {
  it('reports a missing header, and only that', () => {
    const outcome = withHsts(undefined);
    expect(outcome.findings).toMatchObject([{ id: 'hsts.missing', severity: 'high' }]);
    expect(outcome.bonuses ?? []).toEqual([]);
  });

  it('reports a header browsers ignore as missing, quoting it', () => {
    const outcome = withHsts('includeSubDomains; preload');
    expect(findingIds(outcome)).toEqual(['hsts.missing']);
    expect(outcome.findings[0]!.evidence).toContain('no max-age');
  });

  it('treats max-age=0 as HSTS switched off', () => {
    expect(findingIds(withHsts('max-age=0; includeSubDomains; preload'))).toEqual(['hsts.missing']);
  });

  it('reports a max-age under 180 days', () => {
    const outcome = withHsts('max-age=15551999; includeSubDomains; preload');
    expect(outcome.findings).toMatchObject([{ id: 'hsts.max-age.short', severity: 'medium' }]);
    expect(findingIds(withHsts('max-age=15552000; includeSubDomains; preload'))).toEqual([]);
  });

  it('reports missing includeSubDomains and preload separately', () => {
    expect(findingIds(withHsts('max-age=31536000; preload'))).toEqual(['hsts.subdomains.missing']);
    expect(findingIds(withHsts('max-age=31536000; includeSubDomains'))).toEqual(['hsts.preload.missing']);
    expect(findingIds(withHsts('max-age=300'))).toEqual([
      'hsts.max-age.short',
      'hsts.subdomains.missing',
      'hsts.preload.missing',
    ]);
  });

  it('judges the first header only, as browsers do', () => {
    expect(findingIds(withHsts(['max-age=600', 'max-age=63072000; includeSubDomains; preload']))).toContain(
      'hsts.max-age.short',
    );
    expect(findingIds(withHsts(['max-age=63072000; includeSubDomains; preload', 'max-age=0']))).toEqual([]);
  });

  it('grants the preload-ready bonus from one year with includeSubDomains and preload', () => {
    expect(withHsts('max-age=31536000; includeSubDomains; preload').bonuses).toEqual(['hsts-preload-ready']);
    const shorter = withHsts('max-age=31535999; includeSubDomains; preload');
    expect(shorter.findings).toEqual([]);
    expect(shorter.bonuses ?? []).toEqual([]);
  });

  it('stays silent on the hardened header', () => {
    expect(runCheck(hstsCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
  });
});
