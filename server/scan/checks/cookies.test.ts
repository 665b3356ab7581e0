import { describe, expect, it } from 'vitest';
import { cookiesCheck, deletesCookie, parseSetCookie } from './cookies';
import {
  buildFacts,
  fetched,
  findingIds,
  HOST,
  redirect,
  response,
  runCheck,
  SCANNED_AT,
} from './facts-builder';

const NOW = Date.parse(SCANNED_AT);
const CSRF_OK = 'csrftoken=Xk2v9Q; Max-Age=31449600; Path=/; SameSite=Lax; Secure';
const SESSION_OK = 'sessionid=8fj3k2; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure';
const withCookies = (...cookies: string[]) =>
  runCheck(cookiesCheck, buildFacts({ httpsHeaders: { 'set-cookie': cookies } }));

describe('parseSetCookie', () => {
  it('reads the name, value and attributes (case-insensitive names, last one wins)', () => {
    const cookie = parseSetCookie('sessionid = abc ; secure; SameSite=Lax; samesite=None; Path=/');
    expect(cookie?.name).toBe('sessionid');
    expect(cookie?.value).toBe('abc');
    expect(cookie?.attributes.get('samesite')).toBe('None');
    expect(cookie?.attributes.has('secure')).toBe(true);
  });

  it('ignores lines a browser ignores', () => {
    expect(parseSetCookie('no-equals-sign; Secure')).toBeNull();
    expect(parseSetCookie('=value; Secure')).toBeNull();
  });

  it('recognises deletions (Django logout)', () => {
    const deleted = parseSetCookie('sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/')!;
    expect(deletesCookie(deleted, NOW)).toBe(true);
    expect(deletesCookie(parseSetCookie('sessionid=x; Max-Age=0')!, NOW)).toBe(true);
    expect(deletesCookie(parseSetCookie('sessionid=x; Expires=Thu, 01 Jan 2026 00:00:00 GMT')!, NOW)).toBe(
      true,
    );
    expect(
      deletesCookie(parseSetCookie('sessionid=x; Max-Age=60; Expires=Thu, 01 Jan 2026 00:00:00 GMT')!, NOW),
    ).toBe(false);
  });
});

describe('cookies check', () => {
  it('reports a session cookie without Secure, showing no value', () => {
    const outcome = withCookies(CSRF_OK, 'sessionid=s3cr3tv4lue; HttpOnly; Path=/; SameSite=Lax');
    expect(outcome.findings).toMatchObject([{ id: 'cookie.session.insecure', severity: 'high' }]);
    expect(outcome.findings[0]!.evidence).toBe(
      'Set-Cookie: sessionid=…; HttpOnly; Path=/; SameSite=Lax (GET / → 200)',
    );
    expect(outcome.findings[0]!.evidence).not.toContain('s3cr3tv4lue');
  });

  it('reports a session cookie without HttpOnly', () => {
    const outcome = withCookies(CSRF_OK, 'sessionid=abc; Path=/; SameSite=Lax; Secure');
    expect(outcome.findings).toMatchObject([{ id: 'cookie.session.httponly', severity: 'medium' }]);
  });

  it('reports a CSRF cookie without Secure', () => {
    const outcome = withCookies('csrftoken=abc; Path=/; SameSite=Lax', SESSION_OK);
    expect(outcome.findings).toMatchObject([{ id: 'cookie.csrf.insecure', severity: 'medium' }]);
  });

  it('reports a session cookie with SameSite=None', () => {
    const outcome = withCookies(CSRF_OK, 'sessionid=abc; HttpOnly; Path=/; SameSite=none; Secure');
    expect(outcome.findings).toMatchObject([{ id: 'cookie.samesite.none', severity: 'low' }]);
  });

  it('does not require HttpOnly on the CSRF cookie (Django leaves it readable on purpose)', () => {
    expect(withCookies('csrftoken=abc; Path=/; SameSite=Lax; Secure').findings).toEqual([]);
  });

  it('looks at the admin chain too (where a session is often set)', () => {
    const facts = buildFacts({
      httpsHeaders: { 'set-cookie': undefined },
      django: {
        admin: fetched(
          redirect(`https://${HOST}/admin/`, '/admin/login/?next=/admin/', 302),
          response(`https://${HOST}/admin/login/?next=/admin/`, 200, {
            headers: { 'set-cookie': 'csrftoken=abc; Path=/; SameSite=Lax' },
          }),
        ),
      },
    });
    const outcome = runCheck(cookiesCheck, facts);
    expect(findingIds(outcome)).toEqual(['cookie.csrf.insecure']);
    expect(outcome.findings[0]!.evidence).toContain('GET /admin/login/?next=/admin/ → 200');
  });

  it('ignores a cookie being deleted without Secure', () => {
    const outcome = withCookies(
      CSRF_OK,
      'sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/',
    );
    expect(outcome.findings).toEqual([]);
  });

  it('ignores cookies sent over plain HTTP (the redirect check covers that)', () => {
    const facts = buildFacts({
      httpHome: fetched(response(`http://${HOST}/`, 200, { headers: { 'set-cookie': 'sessionid=abc' } })),
    });
    expect(runCheck(cookiesCheck, facts).findings).toEqual([]);
  });

  it('skips sites not detected as Django', () => {
    const facts = buildFacts({ httpsHeaders: { 'set-cookie': 'sessionid=abc; Path=/' } });
    const outcome = cookiesCheck.run(facts, { django: { detected: false, signals: [] } });
    expect(outcome).toMatchObject({ status: 'skip', findings: [] });
  });

  it('skips a Django site that set neither cookie', () => {
    const facts = buildFacts({ httpsHeaders: { 'set-cookie': 'django_language=de; Path=/' } });
    expect(runCheck(cookiesCheck, facts).status).toBe('skip');
  });

  it('stays silent on the hardened cookies', () => {
    expect(runCheck(cookiesCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
  });
});
