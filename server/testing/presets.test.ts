import { describe, expect, it } from 'vitest';
import type { SitePresetName } from './presets';
import { applySitePatch, SITE_PRESETS } from './presets';

/** Dotted paths of every leaf where `actual` differs from `expected`. */
function differences(expected: unknown, actual: unknown, path = ''): string[] {
  if (typeof expected === 'object' && expected !== null && typeof actual === 'object' && actual !== null) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    return [...keys].flatMap((key) =>
      differences(
        (expected as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
        path ? `${path}.${key}` : key,
      ),
    );
  }
  return Object.is(expected, actual) ? [] : [path];
}

const EXPECTED_DEVIATIONS: Record<SitePresetName, string[]> = {
  hardened: [],
  debug: ['behaviour.debug'],
  'allowed-hosts-wildcard': ['behaviour.allowedHosts'],
  'insecure-cookies': ['behaviour.csrfCookie.secure', 'behaviour.sessionCookie.secure'],
  'session-not-httponly': ['behaviour.sessionCookie.httpOnly'],
  'samesite-none': ['behaviour.sessionCookie.sameSite'],
  'hsts-missing': ['behaviour.hsts'],
  'hsts-short': ['behaviour.hsts'],
  'hsts-no-subdomains': ['behaviour.hsts'],
  'hsts-no-preload': ['behaviour.hsts'],
  'no-redirect': ['behaviour.sslRedirect'],
  'headers-missing': [
    'behaviour.xFrameOptions',
    'behaviour.contentTypeNosniff',
    'behaviour.referrerPolicy',
    'behaviour.crossOriginOpenerPolicy',
    'behaviour.contentSecurityPolicy',
  ],
  'csp-unsafe': ['behaviour.contentSecurityPolicy'],
  'version-leak': ['behaviour.serverHeader'],
  'default-admin': ['behaviour.adminPath'],
  'leaked-files': [
    'behaviour.exposedFiles.env',
    'behaviour.exposedFiles.gitHead',
    'behaviour.exposedFiles.gitConfig',
  ],
  'static-site': ['behaviour.kind'],
  'catch-all': ['behaviour.kind'],
  'cert-expiring': ['tls'],
  'cert-expiring-soon': ['tls'],
  'cert-expired': ['tls'],
  'cert-untrusted': ['tls'],
  'cert-wrong-host': ['tls'],
  'legacy-tls': ['tls'],
  'no-tls13': ['tls'],
  'https-down': ['tls'],
  offline: ['tls', 'http'],
  unresolvable: ['dns.resolvable'],
  'dns-weak': ['dns.caa', 'dns.dnssec', 'dns.spf', 'dns.dmarc'],
  'spf-permissive': ['dns.spf'],
  'spf-too-many-lookups': [
    'dns.spf',
    'dns.spfIncludes._spf1',
    'dns.spfIncludes._spf2',
    'dns.spfIncludes._spf3',
    'dns.spfIncludes._spf4',
  ],
  'dmarc-none': ['dns.dmarc'],
  'no-security-txt': ['behaviour.securityTxt'],
  'dns-timeout': ['dns.fault'],
  'dns-servfail': ['dns.fault'],
};

describe('SITE_PRESETS', () => {
  it.each(Object.keys(EXPECTED_DEVIATIONS) as SitePresetName[])(
    '%s differs from hardened only in what its name says',
    (name) => {
      expect(differences(SITE_PRESETS.hardened, SITE_PRESETS[name]).sort()).toEqual(
        [...EXPECTED_DEVIATIONS[name]].sort(),
      );
    },
  );

  it('covers every preset in the table above', () => {
    expect(Object.keys(SITE_PRESETS).sort()).toEqual(Object.keys(EXPECTED_DEVIATIONS).sort());
  });

  it('states the values the hardened site is graded on', () => {
    const { behaviour, dns } = SITE_PRESETS.hardened;
    expect(behaviour.hsts).toBe('max-age=31536000; includeSubDomains; preload');
    expect(behaviour.contentSecurityPolicy).toMatch(/frame-ancestors 'none'/);
    expect(behaviour.contentSecurityPolicy).toMatch(/script-src 'self' 'nonce-\{nonce\}'/);
    expect(behaviour.contentSecurityPolicy).not.toMatch(/unsafe/);
    expect(behaviour.adminPath).not.toBe('/admin/');
    expect(dns.spf).toMatch(/ -all$/);
    expect(dns.dmarc).toMatch(/p=reject/);
    expect(SITE_PRESETS['spf-permissive'].dns.spf).toMatch(/ \+all$/);
    expect(SITE_PRESETS['csp-unsafe'].behaviour.contentSecurityPolicy).toMatch(
      /script-src [^;]*'unsafe-inline' 'unsafe-eval'/,
    );
  });

  it('cannot be changed by a test, and patches make copies', () => {
    expect(Object.isFrozen(SITE_PRESETS.hardened.behaviour.csrfCookie)).toBe(true);
    const patched = applySitePatch(SITE_PRESETS.hardened, {
      behaviour: { debug: true },
      dns: { caa: false },
    });
    expect(patched.behaviour.debug).toBe(true);
    expect(patched.dns.caa).toBe(false);
    expect(SITE_PRESETS.hardened.behaviour.debug).toBe(false);
    expect(SITE_PRESETS.hardened.dns.caa).toBe(true);
  });
});
