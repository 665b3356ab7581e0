import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, SITE_PRESETS, type SitePresetName, startFleet } from '../testing/fleet';
import { FINDING_IDS, type FindingId } from './catalogue';
import { scanTarget } from './scan';
import { parseTarget } from './target';
import type { ScanResult } from './types';

/**
 * Every scan finding ID of SPEC.md, proven on a real scan of a fixture site: it fires on the preset
 * that misconfigures exactly that, and the hardened site reports nothing at all.
 */
const EXPECTED: Partial<Record<SitePresetName, FindingId[]>> = {
  hardened: [],
  debug: ['django.debug'],
  'allowed-hosts-wildcard': ['django.allowed-hosts'],
  'insecure-cookies': ['cookie.session.insecure', 'cookie.csrf.insecure'],
  'session-not-httponly': ['cookie.session.httponly'],
  'samesite-none': ['cookie.samesite.none'],
  'hsts-missing': ['hsts.missing'],
  'hsts-short': ['hsts.max-age.short'],
  'hsts-no-subdomains': ['hsts.subdomains.missing'],
  'hsts-no-preload': ['hsts.preload.missing'],
  'no-redirect': ['https.redirect.missing'],
  'headers-missing': [
    'xfo.missing',
    'nosniff.missing',
    'referrer-policy.missing',
    'csp.missing',
    'coop.missing',
  ],
  'csp-unsafe': ['csp.unsafe-inline', 'csp.unsafe-eval'],
  'version-leak': ['server.version-leak'],
  'default-admin': ['django.admin.default-path'],
  'leaked-files': ['exposure.file', 'exposure.file', 'exposure.file'],
  'static-site': [],
  'catch-all': ['security-txt.missing'],
  'cert-expiring': ['tls.cert.expiring'],
  'cert-expiring-soon': ['tls.cert.expiring'],
  'cert-expired': ['tls.cert.expired'],
  'cert-untrusted': ['tls.cert.untrusted'],
  'cert-wrong-host': ['tls.cert.hostname'],
  'legacy-tls': ['tls.protocol.legacy'],
  'no-tls13': ['tls.protocol.no-tls13'],
  'https-down': ['tls.unreachable'],
  unresolvable: ['dns.unresolvable'],
  'dns-weak': ['dns.caa.missing', 'dns.dnssec.missing', 'email.spf.missing', 'email.dmarc.missing'],
  'spf-permissive': ['email.spf.permissive'],
  'spf-too-many-lookups': ['email.spf.too-many-lookups'],
  'dmarc-none': ['email.dmarc.none'],
  'no-security-txt': ['security-txt.missing'],
};

let fleet: Fleet;
const results = new Map<string, ScanResult>();

beforeAll(async () => {
  fleet = await startFleet({ ...SITE_PRESETS });
  // Eight at a time, as the scheduler runs them by default.
  const queue = fleet.names();
  const lane = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const result = await scanTarget(parseTarget(fleet.host(name)), {
        dnsServers: [fleet.dnsServer],
        allowPrivate: true,
        extraCaPems: [fleet.caCertPem],
      });
      results.set(name, result);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
}, 60_000);

afterAll(() => fleet?.close());

function scanned(name: SitePresetName): ScanResult {
  const result = results.get(name);
  if (!result) throw new Error(`no scan of ${name}`);
  return result;
}

const ids = (result: ScanResult) => result.findings.map((finding) => finding.id).sort();

describe('scan of the fixture fleet', () => {
  it.each(Object.entries(EXPECTED))('%s reports exactly its own findings', (name, expected) => {
    const result = scanned(name as SitePresetName);
    const problems = result.checks.filter((check) => check.status === 'error');
    expect(result.status).toBe('ok');
    expect(ids(result), JSON.stringify(problems)).toEqual([...expected].sort());
  });

  it('covers every scan finding ID of the catalogue', () => {
    const covered = new Set(Object.values(EXPECTED).flat());
    const scanIds = FINDING_IDS.filter((id) => !id.startsWith('settings.') && !id.startsWith('code.'));
    expect(scanIds.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('grades the hardened site A+ with every bonus, and detects Django', () => {
    const result = scanned('hardened');
    expect(result.checks.filter((check) => check.status !== 'pass')).toEqual([]);
    expect(result).toMatchObject({ grade: 'A+', score: 120, status: 'ok' });
    expect(result.django.detected).toBe(true);
    expect(result.django.signals).toEqual(
      expect.arrayContaining(['cookie:csrftoken', 'form:csrfmiddlewaretoken']),
    );
    expect(result.tls).toMatchObject({ protocols: ['TLSv1.2', 'TLSv1.3'] });
    expect(result.tls?.daysLeft).toBeGreaterThan(80);
    expect(result.checks.every((check) => check.status === 'pass')).toBe(true);
  });

  it('never takes a static site or a catch-all site for Django', () => {
    for (const name of ['static-site', 'catch-all'] as const) {
      expect(scanned(name).django).toEqual({ detected: false, signals: [] });
    }
  });

  it('makes any critical finding an F', () => {
    for (const name of ['debug', 'leaked-files', 'cert-expired', 'cert-untrusted', 'unresolvable'] as const) {
      expect(scanned(name).grade).toBe('F');
    }
  });

  it('rates a certificate expiring in 5 days high and in 20 days medium', () => {
    expect(scanned('cert-expiring-soon').findings[0]?.severity).toBe('high');
    expect(scanned('cert-expiring').findings[0]?.severity).toBe('medium');
  });

  it('shows leaked .env key names but never their values', () => {
    const env = scanned('leaked-files').findings.find((finding) => finding.evidence.includes('/.env'));
    expect(env?.evidence).toMatch(/SECRET_KEY/);
    const serialized = JSON.stringify(scanned('leaked-files'));
    expect(serialized).not.toMatch(/postgres:\/\/[^"]*@/);
  });

  it('reports a site where nothing answers as unreachable, with no grade', () => {
    expect(scanned('offline')).toMatchObject({ status: 'unreachable', grade: null, score: null });
  });

  it('reports DNS failures as a scan error, not as findings', () => {
    for (const name of ['dns-timeout', 'dns-servfail'] as const) {
      const result = scanned(name);
      expect(result.status).toBe('error');
      expect(result.error).toContain('DNS lookup failed');
      expect(result.findings).toEqual([]);
    }
  });

  it('names the Django setting and fix on every finding', () => {
    const finding = scanned('debug').findings[0];
    expect(finding).toMatchObject({
      id: 'django.debug',
      severity: 'critical',
      django: { setting: 'DEBUG', checkId: 'security.W018' },
    });
    expect(finding?.fix).toContain('DEBUG = False');
  });

  it('refuses a loopback site unless private targets are allowed', async () => {
    const result = await scanTarget(parseTarget(fleet.host('hardened')), { dnsServers: [fleet.dnsServer] });
    expect(result.status).toBe('error');
    expect(result.error).toContain('--allow-private');
  });
});
