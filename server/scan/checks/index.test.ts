import { describe, expect, it } from 'vitest';
import { CATALOGUE, type ScanFindingId } from '../catalogue';
import { gradeFor, scoreFindings } from '../grade';
import type { ScanFacts } from '../types';
import { CHECKS, runChecks, type ScanCheck } from '.';
import {
  buildFacts,
  catchAllFacts,
  certificate,
  FOREIGN_HOST,
  failedFetch,
  fetched,
  HOST,
  NOT_FOUND_PATH,
  nginxStaticFacts,
  redirect,
  response,
} from './facts-builder';
import { ADMIN_LOGIN_PAGE, technical404Page } from './page-fixtures';
import { specScanRows } from './spec-table';

const url = (path: string) => `https://${HOST}${path}`;
const NOT_PROBED = failedFetch('not probed');

/** Facts where exactly one problem is present: the ID fires, and nothing else does. */
const ONE_PROBLEM: Record<ScanFindingId, () => ScanFacts> = {
  'dns.unresolvable': () =>
    buildFacts({
      dns: { addresses: { ok: true, value: [] } },
      tls: null,
      httpHome: NOT_PROBED,
      httpsHome: NOT_PROBED,
      django: { notFound: NOT_PROBED, foreignHostHome: NOT_PROBED, admin: NOT_PROBED },
      files: { '/.env': NOT_PROBED, '/.git/HEAD': NOT_PROBED, '/.git/config': NOT_PROBED },
      securityTxt: NOT_PROBED,
    }),
  'tls.unreachable': () => {
    const refused = failedFetch('connection refused');
    return buildFacts({
      tls: {
        handshake: { ok: false, error: 'connection refused' },
        certificate: null,
        chainTrusted: false,
        hostnameMatches: false,
        protocols: { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': false },
      },
      httpHome: failedFetch(`${url('/')}: connection refused`, redirect(`http://${HOST}/`, url('/'))),
      httpsHome: refused,
      django: { notFound: refused, foreignHostHome: refused, admin: refused },
      files: { '/.env': refused, '/.git/HEAD': refused, '/.git/config': refused },
      securityTxt: refused,
    });
  },
  'tls.cert.expired': () =>
    buildFacts({
      tls: { chainTrusted: false, chainError: 'CERT_HAS_EXPIRED' },
      certificate: { validTo: '2026-11-01T00:00:00.000Z' },
    }),
  'tls.cert.expiring': () => buildFacts({ certificate: { validTo: '2026-12-04T10:00:00.000Z' } }),
  'tls.cert.untrusted': () =>
    buildFacts({ tls: { chainTrusted: false, chainError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' } }),
  'tls.cert.hostname': () =>
    buildFacts({
      tls: { hostnameMatches: false, certificate: certificate({ subjectAltNames: ['DNS:other.example'] }) },
    }),
  'tls.protocol.legacy': () =>
    buildFacts({ tls: { protocols: { TLSv1: false, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': true } } }),
  'tls.protocol.no-tls13': () =>
    buildFacts({ tls: { protocols: { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': false } } }),
  'https.redirect.missing': () =>
    buildFacts({ httpHome: fetched(response(`http://${HOST}/`, 200, { body: '<title>Shop</title>' })) }),
  'hsts.missing': () => buildFacts({ httpsHeaders: { 'strict-transport-security': undefined } }),
  'hsts.max-age.short': () =>
    buildFacts({
      httpsHeaders: { 'strict-transport-security': 'max-age=86400; includeSubDomains; preload' },
    }),
  'hsts.subdomains.missing': () =>
    buildFacts({ httpsHeaders: { 'strict-transport-security': 'max-age=63072000; preload' } }),
  'hsts.preload.missing': () =>
    buildFacts({ httpsHeaders: { 'strict-transport-security': 'max-age=63072000; includeSubDomains' } }),
  'xfo.missing': () =>
    buildFacts({
      httpsHeaders: { 'x-frame-options': undefined, 'content-security-policy': "default-src 'self'" },
    }),
  'nosniff.missing': () => buildFacts({ httpsHeaders: { 'x-content-type-options': undefined } }),
  'referrer-policy.missing': () => buildFacts({ httpsHeaders: { 'referrer-policy': 'unsafe-url' } }),
  'csp.missing': () => buildFacts({ httpsHeaders: { 'content-security-policy': undefined } }),
  'csp.unsafe-inline': () =>
    buildFacts({
      httpsHeaders: {
        'content-security-policy':
          "default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      },
    }),
  'csp.unsafe-eval': () =>
    buildFacts({
      httpsHeaders: {
        'content-security-policy':
          "default-src 'self'; script-src 'self' 'unsafe-eval'; frame-ancestors 'none'",
      },
    }),
  'coop.missing': () => buildFacts({ httpsHeaders: { 'cross-origin-opener-policy': undefined } }),
  'server.version-leak': () => buildFacts({ httpsHeaders: { server: 'nginx/1.18.0 (Ubuntu)' } }),
  'cookie.session.insecure': () =>
    buildFacts({
      httpsHeaders: {
        'set-cookie': ['csrftoken=a; Path=/; Secure', 'sessionid=b; HttpOnly; Path=/; SameSite=Lax'],
      },
    }),
  'cookie.session.httponly': () =>
    buildFacts({
      httpsHeaders: {
        'set-cookie': ['csrftoken=a; Path=/; Secure', 'sessionid=b; Path=/; SameSite=Lax; Secure'],
      },
    }),
  'cookie.csrf.insecure': () =>
    buildFacts({
      httpsHeaders: { 'set-cookie': ['csrftoken=a; Path=/', 'sessionid=b; HttpOnly; Path=/; Secure'] },
    }),
  'cookie.samesite.none': () =>
    buildFacts({
      httpsHeaders: {
        'set-cookie': ['csrftoken=a; Path=/; Secure', 'sessionid=b; HttpOnly; Path=/; SameSite=None; Secure'],
      },
    }),
  'django.debug': () =>
    buildFacts({
      django: {
        notFound: fetched(response(url(NOT_FOUND_PATH), 404, { body: technical404Page(NOT_FOUND_PATH) })),
      },
    }),
  'django.allowed-hosts': () => {
    const facts = buildFacts();
    const home = facts.httpsHome.responses[0]!;
    return { ...facts, django: { ...facts.django, foreignHostHome: fetched({ ...home, headers: {} }) } };
  },
  'django.admin.default-path': () =>
    buildFacts({
      django: {
        admin: fetched(
          redirect(url('/admin/'), '/admin/login/?next=/admin/', 302),
          response(url('/admin/login/?next=/admin/'), 200, { body: ADMIN_LOGIN_PAGE }),
        ),
      },
    }),
  'exposure.file': () =>
    buildFacts({
      files: { '/.git/HEAD': fetched(response(url('/.git/HEAD'), 200, { body: 'ref: refs/heads/main\n' })) },
    }),
  'dns.caa.missing': () => buildFacts({ dns: { caa: { ok: true, value: { domain: null, records: [] } } } }),
  'dns.dnssec.missing': () => buildFacts({ dns: { dnssec: { ok: true, value: false } } }),
  'email.spf.missing': () =>
    buildFacts({ dns: { spf: { ok: true, value: { records: [], referenced: {} } } } }),
  'email.spf.permissive': () =>
    buildFacts({ dns: { spf: { ok: true, value: { records: ['v=spf1 mx ?all'], referenced: {} } } } }),
  'email.spf.too-many-lookups': () =>
    buildFacts({
      dns: {
        spf: {
          ok: true,
          value: { records: [`v=spf1 ${'a '.repeat(6)}${'mx '.repeat(5)}-all`], referenced: {} },
        },
      },
    }),
  'email.dmarc.missing': () =>
    buildFacts({ dns: { dmarc: { ok: true, value: { domain: null, records: [] } } } }),
  'email.dmarc.none': () =>
    buildFacts({
      dns: { dmarc: { ok: true, value: { domain: 'example.com', records: ['v=DMARC1; p=none'] } } },
    }),
  'security-txt.missing': () =>
    buildFacts({
      securityTxt: fetched(response(url('/.well-known/security.txt'), 404, { body: 'Not Found' })),
    }),
};

const ids = (facts: ScanFacts) => runChecks(facts).findings.map((finding) => finding.id);

describe('CHECKS', () => {
  it('have unique, stable ids', () => {
    const checkIds = CHECKS.map((check) => check.id);
    expect(new Set(checkIds).size).toBe(checkIds.length);
  });

  it('produce every scan finding ID of SPEC.md, each from exactly one check', () => {
    const owners = new Map<string, string[]>();
    for (const check of CHECKS) {
      for (const id of check.findingIds) owners.set(id, [...(owners.get(id) ?? []), check.id]);
    }
    const specIds = specScanRows().map((row) => row.id);
    expect([...owners.keys()].sort()).toEqual([...specIds].sort());
    for (const [id, checks] of owners) expect(checks, id).toHaveLength(1);
  });

  it('report only the IDs they declare', () => {
    const fixtures = [
      ...Object.values(ONE_PROBLEM).map((build) => build()),
      catchAllFacts(),
      nginxStaticFacts(),
    ];
    for (const facts of fixtures) {
      const { django } = runChecks(facts);
      for (const check of CHECKS) {
        for (const finding of check.run(facts, { django }).findings) {
          expect(check.findingIds, `${check.id} reported ${finding.id}`).toContain(finding.id);
        }
      }
    }
  });
});

describe('one problem, one finding', () => {
  it('covers every scan ID of SPEC.md', () => {
    expect(Object.keys(ONE_PROBLEM).sort()).toEqual(
      specScanRows()
        .map((row) => row.id)
        .sort(),
    );
  });

  it.each(Object.entries(ONE_PROBLEM))('%s fires alone, with its catalogue severity', (id, build) => {
    const { findings } = runChecks(build());
    expect(findings.map((finding) => finding.id)).toEqual([id]);
    expect(findings[0]!.severity).toBe(CATALOGUE[id as ScanFindingId].severity);
    expect(findings[0]!.evidence.length).toBeGreaterThan(0);
  });
});

describe('the hardened site', () => {
  it('has no finding, every check passes, every bonus is earned: A+', () => {
    const outcome = runChecks(buildFacts());
    expect(outcome.findings).toEqual([]);
    expect(outcome.checks.filter((check) => check.status !== 'pass')).toEqual([]);
    expect(outcome.bonuses.sort()).toEqual(['coop', 'csp-strict', 'hsts-preload-ready', 'security-txt']);
    const score = scoreFindings(outcome.findings, outcome.bonuses);
    expect([score, gradeFor(score, outcome.findings)]).toEqual([120, 'A+']);
  });

  it.each(Object.keys(ONE_PROBLEM))('is silent about %s', (id) => {
    expect(ids(buildFacts())).not.toContain(id);
  });
});

describe('sites that are not Django', () => {
  it('a catch-all site gets no Django finding and no exposure finding', () => {
    const outcome = runChecks(catchAllFacts());
    expect(outcome.django).toEqual({ detected: false, signals: [] });
    expect(outcome.findings.map((finding) => finding.id)).toEqual(['security-txt.missing']);
    const skipped = outcome.checks.filter((check) => check.status === 'skip').map((check) => check.id);
    expect(skipped).toEqual(['cookies', 'django-allowed-hosts', 'django-admin']);
  });

  it('a static nginx site gets no Django finding', () => {
    const outcome = runChecks(nginxStaticFacts());
    expect(outcome.django.detected).toBe(false);
    expect(outcome.findings.map((finding) => finding.id)).toEqual(['security-txt.missing']);
  });
});

describe('runChecks', () => {
  it('turns a check that throws into an error result and runs the others', () => {
    const broken: ScanCheck = {
      id: 'broken',
      findingIds: [],
      run: () => {
        throw new Error('unexpected header shape');
      },
    };
    const outcome = runChecks(buildFacts(), [broken, ...CHECKS]);
    expect(outcome.checks[0]).toEqual({
      id: 'broken',
      status: 'error',
      detail: 'check failed: unexpected header shape',
    });
    expect(outcome.checks).toHaveLength(CHECKS.length + 1);
  });

  it('reports the foreign Host it used in evidence, never a secret', () => {
    const facts = ONE_PROBLEM['django.allowed-hosts']();
    const finding = runChecks(facts).findings[0]!;
    expect(finding.evidence).toContain(FOREIGN_HOST);
    expect(JSON.stringify(runChecks(ONE_PROBLEM['cookie.session.insecure']()))).not.toMatch(/sessionid=b/);
  });
});

describe('hostile pages', () => {
  it('a 1 MiB body built to make regular expressions backtrack is judged quickly', () => {
    // Each run defeats a naive pattern: `^\s*` over blank lines, `<form[^>]*` over tags that never close, …
    const runs = [
      '\n',
      ' \t\n',
      '<form ',
      '<title ',
      '<input ',
      'href="x ',
      'href="https://docs.djangoproject.com/ ',
    ];
    const body = runs.map((run) => run.repeat(Math.ceil((150 * 1024) / run.length))).join('');
    const page = (path: string) => fetched(response(url(path), 200, { body }));
    const facts = buildFacts({
      httpsBody: body,
      httpHome: page('/'),
      django: { notFound: page(NOT_FOUND_PATH), foreignHostHome: page('/'), admin: page('/admin/') },
      files: {
        '/.env': page('/.env'),
        '/.git/HEAD': page('/.git/HEAD'),
        '/.git/config': page('/.git/config'),
      },
      securityTxt: page('/.well-known/security.txt'),
    });
    const started = performance.now();
    const outcome = runChecks(facts);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(outcome.checks.every((check) => check.status !== 'error')).toBe(true);
  });
});
