import { describe, expect, it } from 'vitest';
import { caaCheck, dnssecCheck } from './dns-records';
import { buildFacts, runCheck } from './facts-builder';

describe('CAA', () => {
  it('reports no CAA record on the name or any parent', () => {
    const facts = buildFacts({ dns: { caa: { ok: true, value: { domain: null, records: [] } } } });
    const outcome = runCheck(caaCheck, facts);
    expect(outcome.findings).toMatchObject([{ id: 'dns.caa.missing', severity: 'low' }]);
  });

  it('passes a CAA record found on a parent domain', () => {
    const outcome = runCheck(caaCheck, buildFacts());
    expect(outcome).toMatchObject({ status: 'pass', findings: [] });
    expect(outcome.detail).toBe('CAA at example.com: 0 issue "letsencrypt.org"');
  });

  it('turns a failed lookup into a check error', () => {
    const facts = buildFacts({ dns: { caa: { ok: false, error: 'SERVFAIL' } } });
    expect(runCheck(caaCheck, facts)).toMatchObject({ status: 'error', findings: [] });
  });
});

describe('DNSSEC', () => {
  it('reports an unsigned zone', () => {
    const outcome = runCheck(dnssecCheck, buildFacts({ dns: { dnssec: { ok: true, value: false } } }));
    expect(outcome.findings).toMatchObject([{ id: 'dns.dnssec.missing', severity: 'info' }]);
  });

  it('passes a signed zone and errors on a failed lookup', () => {
    expect(runCheck(dnssecCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
    const failed = buildFacts({ dns: { dnssec: { ok: false, error: 'timeout' } } });
    expect(runCheck(dnssecCheck, failed)).toMatchObject({ status: 'error', findings: [] });
  });
});
