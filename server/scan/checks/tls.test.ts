import { describe, expect, it } from 'vitest';
import { runChecks } from '.';
import { dnsResolutionCheck } from './dns-resolution';
import { buildFacts, failedFetch, fetched, findingIds, HOST, response, runCheck } from './facts-builder';
import {
  tlsHostnameCheck,
  tlsProtocolsCheck,
  tlsReachableCheck,
  tlsTrustCheck,
  tlsValidityCheck,
} from './tls';

const handshakeFailed = { ok: false as const, error: 'connection refused' };

describe('dns resolution', () => {
  it('reports a name without addresses', () => {
    const outcome = runCheck(dnsResolutionCheck, buildFacts({ dns: { addresses: { ok: true, value: [] } } }));
    expect(outcome.status).toBe('fail');
    expect(outcome.findings[0]).toMatchObject({ id: 'dns.unresolvable', severity: 'critical' });
    expect(outcome.findings[0]!.evidence).toContain(HOST);
  });

  it('turns a DNS timeout into a check error, not a finding', () => {
    const outcome = runCheck(
      dnsResolutionCheck,
      buildFacts({ dns: { addresses: { ok: false, error: 'timeout' } } }),
    );
    expect(outcome.status).toBe('error');
    expect(outcome.findings).toEqual([]);
  });

  it('passes a resolving name', () => {
    expect(runCheck(dnsResolutionCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
  });
});

describe('tls reachability', () => {
  it('reports HTTPS failing while HTTP answers', () => {
    const facts = buildFacts({
      tls: { handshake: handshakeFailed, certificate: null },
      httpHome: fetched(response(`http://${HOST}/`, 200, { body: 'hello' })),
    });
    const outcome = runCheck(tlsReachableCheck, facts);
    expect(findingIds(outcome)).toEqual(['tls.unreachable']);
    expect(outcome.findings[0]!.evidence).toContain('connection refused');
  });

  it('is an error, not a finding, when HTTP does not answer either', () => {
    const facts = buildFacts({
      tls: { handshake: handshakeFailed, certificate: null },
      httpHome: failedFetch('connection refused'),
    });
    expect(runCheck(tlsReachableCheck, facts)).toMatchObject({ status: 'error', findings: [] });
  });

  it('skips when there was nothing to connect to', () => {
    expect(runCheck(tlsReachableCheck, buildFacts({ tls: null })).status).toBe('skip');
  });

  it('does not pile certificate, protocol and header findings onto an unreachable HTTPS', () => {
    const facts = buildFacts({
      tls: {
        handshake: handshakeFailed,
        certificate: null,
        chainTrusted: false,
        hostnameMatches: false,
        protocols: { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': false },
      },
      httpHome: fetched(response(`http://${HOST}/`, 200)),
      httpsHome: failedFetch(`https://${HOST}/: connection refused`),
    });
    const { findings, checks } = runChecks(facts);
    expect(findings.map((finding) => finding.id).filter((id) => id.startsWith('tls.'))).toEqual([
      'tls.unreachable',
    ]);
    expect(findings.map((finding) => finding.id)).not.toContain('hsts.missing');
    expect(checks.find((check) => check.id === 'hsts')?.status).toBe('skip');
  });
});

describe('certificate validity', () => {
  const withValidTo = (validTo: string) => buildFacts({ certificate: { validTo } });

  it('reports an expired certificate, judged at scannedAt rather than the wall clock', () => {
    const outcome = runCheck(tlsValidityCheck, withValidTo('2026-11-20T10:00:00.000Z'));
    expect(outcome.findings).toMatchObject([{ id: 'tls.cert.expired', severity: 'critical' }]);
    expect(outcome.findings[0]!.evidence).toContain('2026-11-20T10:00:00.000Z');
  });

  it('reports a certificate that is not valid yet', () => {
    const facts = buildFacts({ certificate: { validFrom: '2026-11-25T00:00:00.000Z' } });
    expect(findingIds(runCheck(tlsValidityCheck, facts))).toEqual(['tls.cert.expired']);
  });

  it('treats notAfter itself as still valid (expiring today, high)', () => {
    const outcome = runCheck(tlsValidityCheck, withValidTo('2026-11-24T10:00:00.000Z'));
    expect(outcome.findings).toMatchObject([{ id: 'tls.cert.expiring', severity: 'high' }]);
  });

  it.each([
    ['2026-12-25T09:59:59.000Z', 'medium', 30],
    ['2026-12-24T10:00:00.000Z', 'medium', 30],
    ['2026-12-02T10:00:00.000Z', 'medium', 8],
    ['2026-12-01T10:00:00.000Z', 'high', 7],
    ['2026-11-25T10:00:00.000Z', 'high', 1],
  ] as const)('notAfter %s → expiring, %s (%i days left)', (validTo, severity, days) => {
    const outcome = runCheck(tlsValidityCheck, withValidTo(validTo));
    expect(outcome.findings).toMatchObject([{ id: 'tls.cert.expiring', severity }]);
    expect(outcome.findings[0]!.evidence).toContain(`${days} days left`);
  });

  it('stays silent with 31 days left', () => {
    expect(runCheck(tlsValidityCheck, withValidTo('2026-12-25T10:00:00.000Z')).findings).toEqual([]);
  });

  it('stays silent on the hardened certificate', () => {
    expect(runCheck(tlsValidityCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
  });
});

describe('certificate trust and name', () => {
  it('reports a chain that does not verify', () => {
    const facts = buildFacts({ tls: { chainTrusted: false, chainError: 'SELF_SIGNED_CERT_IN_CHAIN' } });
    const outcome = runCheck(tlsTrustCheck, facts);
    expect(outcome.findings).toMatchObject([{ id: 'tls.cert.untrusted', severity: 'critical' }]);
    expect(outcome.findings[0]!.evidence).toContain('SELF_SIGNED_CERT_IN_CHAIN');
  });

  it.each(['CERT_HAS_EXPIRED', 'certificate has expired', 'CERT_NOT_YET_VALID'])(
    'reports only tls.cert.expired when the chain error is %s',
    (chainError) => {
      const facts = buildFacts({
        tls: { chainTrusted: false, chainError },
        certificate: { validTo: '2026-11-01T00:00:00.000Z' },
      });
      const ids = runChecks(facts).findings.map((finding) => finding.id);
      expect(ids).toContain('tls.cert.expired');
      expect(ids).not.toContain('tls.cert.untrusted');
    },
  );

  it('reports a certificate for other names, listing them', () => {
    const facts = buildFacts({
      tls: { hostnameMatches: false, hostnameError: `Hostname/IP does not match certificate's altnames` },
      certificate: { subjectAltNames: ['DNS:other.example.org'] },
    });
    const outcome = runCheck(tlsHostnameCheck, facts);
    expect(outcome.findings).toMatchObject([{ id: 'tls.cert.hostname', severity: 'critical' }]);
    expect(outcome.findings[0]!.evidence).toContain('DNS:other.example.org');
  });

  it('stays silent on the hardened certificate', () => {
    expect(runCheck(tlsTrustCheck, buildFacts()).findings).toEqual([]);
    expect(runCheck(tlsHostnameCheck, buildFacts()).findings).toEqual([]);
  });
});

describe('protocols', () => {
  it('reports TLS 1.0/1.1 being accepted', () => {
    const facts = buildFacts({
      tls: { protocols: { TLSv1: true, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': true } },
    });
    const outcome = runCheck(tlsProtocolsCheck, facts);
    expect(outcome.findings).toMatchObject([
      { id: 'tls.protocol.legacy', evidence: 'accepted: TLSv1, TLSv1.1' },
    ]);
  });

  it('reports a server without TLS 1.3', () => {
    const facts = buildFacts({
      tls: { protocols: { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': false } },
    });
    expect(findingIds(runCheck(tlsProtocolsCheck, facts))).toEqual(['tls.protocol.no-tls13']);
  });

  it('says nothing about versions it could not test (null)', () => {
    const facts = buildFacts({
      tls: { protocols: { TLSv1: null, 'TLSv1.1': null, 'TLSv1.2': true, 'TLSv1.3': null } },
    });
    const outcome = runCheck(tlsProtocolsCheck, facts);
    expect(outcome).toMatchObject({ status: 'pass', findings: [] });
    expect(outcome.detail).toContain('not tested: TLSv1, TLSv1.1, TLSv1.3');
  });

  it('still reports a TLS 1.0-only server whose default handshake fails', () => {
    const facts = buildFacts({
      tls: {
        handshake: { ok: false, error: 'unsupported protocol' },
        certificate: null,
        protocols: { TLSv1: true, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': false },
      },
    });
    expect(findingIds(runCheck(tlsProtocolsCheck, facts))).toEqual([
      'tls.protocol.legacy',
      'tls.protocol.no-tls13',
    ]);
  });

  it('stays silent on TLS 1.2 + 1.3', () => {
    expect(runCheck(tlsProtocolsCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
  });
});
