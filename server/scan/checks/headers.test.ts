import { describe, expect, it } from 'vitest';
import { buildFacts, type FactsOverrides, failedFetch, findingIds, runCheck } from './facts-builder';
import {
  contentTypeOptionsCheck,
  crossOriginOpenerPolicyCheck,
  effectiveReferrerPolicy,
  referrerPolicyCheck,
  revealsVersion,
  serverVersionCheck,
  xFrameOptionsCheck,
} from './headers';

const headers = (httpsHeaders: FactsOverrides['httpsHeaders']) => buildFacts({ httpsHeaders });

describe('X-Frame-Options', () => {
  const noCspFrameAncestors = { 'content-security-policy': "default-src 'self'" };

  it('reports no X-Frame-Options and no frame-ancestors', () => {
    const outcome = runCheck(
      xFrameOptionsCheck,
      headers({ ...noCspFrameAncestors, 'x-frame-options': undefined }),
    );
    expect(outcome.findings).toMatchObject([
      { id: 'xfo.missing', severity: 'medium', evidence: 'no X-Frame-Options and no CSP frame-ancestors' },
    ]);
  });

  it('is silent without X-Frame-Options when CSP has frame-ancestors', () => {
    expect(runCheck(xFrameOptionsCheck, headers({ 'x-frame-options': undefined })).findings).toEqual([]);
  });

  it('does not count frame-ancestors from a Report-Only policy', () => {
    const facts = headers({
      'x-frame-options': undefined,
      'content-security-policy': undefined,
      'content-security-policy-report-only': "frame-ancestors 'none'",
    });
    expect(findingIds(runCheck(xFrameOptionsCheck, facts))).toEqual(['xfo.missing']);
  });

  it.each(['DENY', 'sameorigin', 'SAMEORIGIN, DENY'])('accepts %s', (value) => {
    expect(
      runCheck(xFrameOptionsCheck, headers({ ...noCspFrameAncestors, 'x-frame-options': value })).findings,
    ).toEqual([]);
  });

  it.each(['ALLOW-FROM https://partner.example', 'allowall'])(
    'reports %s, which browsers do not enforce',
    (value) => {
      const outcome = runCheck(
        xFrameOptionsCheck,
        headers({ ...noCspFrameAncestors, 'x-frame-options': value }),
      );
      expect(findingIds(outcome)).toEqual(['xfo.missing']);
      expect(outcome.findings[0]!.evidence).toContain(value);
    },
  );
});

describe('X-Content-Type-Options', () => {
  it('reports a missing header', () => {
    const outcome = runCheck(contentTypeOptionsCheck, headers({ 'x-content-type-options': undefined }));
    expect(outcome.findings).toMatchObject([{ id: 'nosniff.missing', severity: 'low' }]);
  });

  it('accepts NoSniff in any case, and judges only the first value', () => {
    expect(
      runCheck(contentTypeOptionsCheck, headers({ 'x-content-type-options': 'NoSniff' })).findings,
    ).toEqual([]);
    const second = headers({ 'x-content-type-options': ['foo', 'nosniff'] });
    expect(findingIds(runCheck(contentTypeOptionsCheck, second))).toEqual(['nosniff.missing']);
  });
});

describe('Referrer-Policy', () => {
  it('picks the last recognised token', () => {
    expect(effectiveReferrerPolicy(['no-referrer', 'strict-origin-when-cross-origin'])).toBe(
      'strict-origin-when-cross-origin',
    );
    expect(effectiveReferrerPolicy(['same-origin', 'made-up-policy'])).toBe('same-origin');
    expect(effectiveReferrerPolicy(['unsafe-url', 'no-referrer'])).toBe('no-referrer');
    expect(effectiveReferrerPolicy(['nonsense'])).toBeNull();
  });

  it('reports a missing header', () => {
    const outcome = runCheck(referrerPolicyCheck, headers({ 'referrer-policy': undefined }));
    expect(outcome.findings).toMatchObject([{ id: 'referrer-policy.missing', severity: 'low' }]);
  });

  it('reports unsafe-url, also when it is the effective fallback', () => {
    expect(findingIds(runCheck(referrerPolicyCheck, headers({ 'referrer-policy': 'unsafe-url' })))).toEqual([
      'referrer-policy.missing',
    ]);
    const fallback = headers({ 'referrer-policy': 'no-referrer, unsafe-url' });
    expect(findingIds(runCheck(referrerPolicyCheck, fallback))).toEqual(['referrer-policy.missing']);
  });

  it('accepts a safe policy after an unknown one, across header lines', () => {
    const facts = headers({ 'referrer-policy': ['unsafe-url', 'future-policy, strict-origin'] });
    expect(runCheck(referrerPolicyCheck, facts).findings).toEqual([]);
  });

  it('reports a header with no recognised policy', () => {
    const outcome = runCheck(referrerPolicyCheck, headers({ 'referrer-policy': 'strict' }));
    expect(outcome.findings[0]!.evidence).toContain('no recognised policy');
  });
});

describe('Cross-Origin-Opener-Policy', () => {
  it('reports a missing header and grants no bonus', () => {
    const outcome = runCheck(
      crossOriginOpenerPolicyCheck,
      headers({ 'cross-origin-opener-policy': undefined }),
    );
    expect(outcome.findings).toMatchObject([{ id: 'coop.missing', severity: 'info' }]);
    expect(outcome.bonuses ?? []).toEqual([]);
  });

  it.each(['same-origin', 'same-origin-allow-popups', 'same-origin; report-to="coop"'])(
    'grants the bonus for %s',
    (value) => {
      const outcome = runCheck(
        crossOriginOpenerPolicyCheck,
        headers({ 'cross-origin-opener-policy': value }),
      );
      expect(outcome).toMatchObject({ status: 'pass', findings: [], bonuses: ['coop'] });
    },
  );

  it('treats unsafe-none (the default) as no COOP', () => {
    const outcome = runCheck(
      crossOriginOpenerPolicyCheck,
      headers({ 'cross-origin-opener-policy': 'unsafe-none' }),
    );
    expect(findingIds(outcome)).toEqual(['coop.missing']);
  });
});

describe('Server / X-Powered-By', () => {
  it.each([
    'nginx/1.18.0',
    'nginx/1.18.0 (Ubuntu)',
    'Apache/2.4.41 (Ubuntu)',
    'PHP/8.1',
    'Microsoft-IIS/10.0',
    'WSGIServer/0.2 CPython/3.10.12',
    'Jetty(9.4.z-SNAPSHOT)',
  ])('%s reveals a version', (value) => expect(revealsVersion(value)).toBe(true));

  it.each([
    'nginx',
    'cloudflare',
    'Apache',
    'gunicorn',
    'ECS (dcb/7F84)',
    'AmazonS3',
    'Express',
    'mw1234.eqiad.wmnet',
  ])('%s does not', (value) => expect(revealsVersion(value)).toBe(false));

  it('reports both headers in one finding', () => {
    const facts = headers({ server: 'nginx/1.18.0', 'x-powered-by': 'PHP/8.1' });
    const outcome = runCheck(serverVersionCheck, facts);
    expect(outcome.findings).toMatchObject([
      { id: 'server.version-leak', severity: 'low', evidence: 'Server: nginx/1.18.0; X-Powered-By: PHP/8.1' },
    ]);
  });

  it('stays silent on a bare product name', () => {
    expect(
      runCheck(serverVersionCheck, headers({ server: 'cloudflare', 'x-powered-by': 'Express' })).findings,
    ).toEqual([]);
  });
});

describe('header checks without an HTTPS answer', () => {
  it('error instead of reporting every header as missing', () => {
    const facts = buildFacts({ httpsHome: failedFetch('https://shop.example.com/: request timed out') });
    for (const check of [
      xFrameOptionsCheck,
      contentTypeOptionsCheck,
      referrerPolicyCheck,
      crossOriginOpenerPolicyCheck,
      serverVersionCheck,
    ]) {
      const outcome = runCheck(check, facts);
      expect(outcome.status).toBe('error');
      expect(outcome.findings).toEqual([]);
      expect(outcome.detail).toContain('request timed out');
    }
  });

  it('judge the final response of the redirect chain, not the first', () => {
    const hardened = buildFacts();
    const final = hardened.httpsHome.responses[0]!;
    const bare = { ...final, url: 'https://shop.example.com/', status: 302, headers: { location: ['/en/'] } };
    const facts = {
      ...hardened,
      httpsHome: { responses: [bare, { ...final, url: 'https://shop.example.com/en/' }], error: null },
    };
    expect(runCheck(contentTypeOptionsCheck, facts).findings).toEqual([]);
  });

  it('all stay silent on the hardened headers', () => {
    for (const check of [
      xFrameOptionsCheck,
      contentTypeOptionsCheck,
      referrerPolicyCheck,
      crossOriginOpenerPolicyCheck,
      serverVersionCheck,
    ]) {
      expect(runCheck(check, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
    }
  });
});
