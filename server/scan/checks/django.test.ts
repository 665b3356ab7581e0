import { describe, expect, it } from 'vitest';
import {
  adminPathCheck,
  allowedHostsCheck,
  detectDjango,
  djangoDebugCheck,
  isAdminLoginPage,
  isTechnicalErrorPage,
} from './django';
import {
  buildFacts,
  catchAllFacts,
  DJANGO_BAD_REQUEST_BODY,
  DJANGO_NOT_FOUND_BODY,
  FOREIGN_HOST,
  failedFetch,
  fetched,
  findingIds,
  HOME_BODY,
  HOST,
  NOT_FOUND_PATH,
  nginxStaticFacts,
  redirect,
  response,
  runCheck,
} from './facts-builder';
import {
  ADMIN_LOGIN_PAGE,
  BLOG_POST_ABOUT_DEBUG,
  DEFAULT_URLCONF_PAGE,
  disallowedHostPage,
  legacyTechnical404Page,
  NGINX_WELCOME_PAGE,
  technical404Page,
} from './page-fixtures';

const url = (path: string) => `https://${HOST}${path}`;
const notFoundProbe = (status: number, body: string) =>
  fetched(response(url(NOT_FOUND_PATH), status, { body }));
const foreignProbe = (status: number, body: string, headers: Record<string, string> = {}) =>
  fetched(response(url('/'), status, { body, headers }));
const adminLogin = fetched(
  redirect(url('/admin/'), '/admin/login/?next=/admin/', 302),
  response(url('/admin/login/?next=/admin/'), 200, { body: ADMIN_LOGIN_PAGE }),
);

describe('detectDjango', () => {
  it('collects every signal of the hardened Django site, in contract order', () => {
    expect(detectDjango(buildFacts())).toEqual({
      detected: true,
      signals: [
        'cookie:csrftoken',
        'cookie:sessionid',
        'form:csrfmiddlewaretoken',
        'body:bad-request-400',
        'body:not-found',
      ],
    });
  });

  it('never detects a catch-all site or a static nginx site', () => {
    expect(detectDjango(catchAllFacts())).toEqual({ detected: false, signals: [] });
    expect(detectDjango(nginxStaticFacts())).toEqual({ detected: false, signals: [] });
  });

  it.each([
    ['cookie:csrftoken', { httpsHeaders: { 'set-cookie': 'csrftoken=abc; Path=/; Secure' } }],
    ['cookie:sessionid', { httpsHeaders: { 'set-cookie': 'sessionid=abc; Path=/; Secure; HttpOnly' } }],
    ['cookie:django_language', { httpsHeaders: { 'set-cookie': 'django_language=de; Path=/' } }],
    ['form:csrfmiddlewaretoken', { httpsBody: HOME_BODY }],
    ['admin-login', { django: { admin: adminLogin } }],
    ['debug-page', { django: { notFound: notFoundProbe(404, technical404Page(NOT_FOUND_PATH)) } }],
  ] as const)('%s alone decides', (signal, overrides) => {
    const detection = detectDjango(catchAllFacts(overrides));
    expect(detection.detected).toBe(true);
    expect(detection.signals).toContain(signal);
  });

  it("does not count Django's plain 404 or 400 body alone", () => {
    const notFoundOnly = nginxStaticFacts({
      django: { notFound: notFoundProbe(404, DJANGO_NOT_FOUND_BODY) },
    });
    expect(detectDjango(notFoundOnly)).toEqual({ detected: false, signals: ['body:not-found'] });
    const badRequestOnly = nginxStaticFacts({
      django: { foreignHostHome: foreignProbe(400, DJANGO_BAD_REQUEST_BODY) },
    });
    expect(detectDjango(badRequestOnly)).toEqual({ detected: false, signals: ['body:bad-request-400'] });
  });

  it('counts the two plain bodies together', () => {
    const facts = nginxStaticFacts({
      django: {
        notFound: notFoundProbe(404, DJANGO_NOT_FOUND_BODY),
        foreignHostHome: foreignProbe(400, DJANGO_BAD_REQUEST_BODY),
      },
    });
    expect(detectDjango(facts)).toEqual({
      detected: true,
      signals: ['body:bad-request-400', 'body:not-found'],
    });
  });

  it('recognises the pre-3.0 plain bodies, and requires the matching status', () => {
    const old = nginxStaticFacts({
      django: {
        notFound: notFoundProbe(
          404,
          '<h1>Not Found</h1><p>The requested resource was not found on this server.</p>',
        ),
        foreignHostHome: foreignProbe(400, '<h1>Bad Request (400)</h1>'),
      },
    });
    expect(detectDjango(old).detected).toBe(true);
    const wrongStatus = catchAllFacts({ django: { notFound: notFoundProbe(200, DJANGO_NOT_FOUND_BODY) } });
    expect(detectDjango(wrongStatus).signals).toEqual([]);
  });

  it('does not take a csrfmiddlewaretoken shown as escaped code for a form field', () => {
    const tutorial = `<pre>&lt;input type="hidden" name="csrfmiddlewaretoken" value="..."&gt;</pre>`;
    expect(detectDjango(catchAllFacts({ httpsBody: tutorial })).signals).toEqual([]);
  });
});

describe('django.debug', () => {
  it('fires on the technical 404 of the random path, even when nothing else says Django', () => {
    const facts = catchAllFacts({
      django: { notFound: notFoundProbe(404, technical404Page(NOT_FOUND_PATH)) },
    });
    const outcome = runCheck(djangoDebugCheck, facts);
    expect(outcome.findings).toMatchObject([{ id: 'django.debug', severity: 'critical' }]);
    expect(outcome.findings[0]!.evidence).toBe(
      `random path: GET ${url(NOT_FOUND_PATH)} → 404 shows Django's technical error page (DEBUG = True)`,
    );
  });

  it('fires on the pre-3.0 page with a straight apostrophe', () => {
    const facts = buildFacts({
      django: { notFound: notFoundProbe(404, legacyTechnical404Page(NOT_FOUND_PATH)) },
    });
    expect(findingIds(runCheck(djangoDebugCheck, facts))).toEqual(['django.debug']);
  });

  it('fires on the DisallowedHost technical page of the foreign-Host probe', () => {
    const facts = buildFacts({
      django: { foreignHostHome: foreignProbe(400, disallowedHostPage(FOREIGN_HOST)) },
    });
    const outcome = runCheck(djangoDebugCheck, facts);
    expect(findingIds(outcome)).toEqual(['django.debug']);
    expect(outcome.findings[0]!.evidence).toContain(`foreign Host ${FOREIGN_HOST}`);
  });

  it('fires on the "install worked" page on the home page, in any language', () => {
    const facts = buildFacts({ httpsBody: DEFAULT_URLCONF_PAGE });
    expect(findingIds(runCheck(djangoDebugCheck, facts))).toEqual(['django.debug']);
  });

  it('fires on a DEBUG server answering plain HTTP while HTTPS is down', () => {
    const facts = buildFacts({
      tls: { handshake: { ok: false, error: 'connection refused' }, certificate: null },
      httpHome: fetched(response(`http://${HOST}/`, 200, { body: DEFAULT_URLCONF_PAGE })),
      httpsHome: failedFetch('connection refused'),
      django: {
        notFound: failedFetch('connection refused'),
        foreignHostHome: failedFetch('connection refused'),
      },
    });
    const outcome = runCheck(djangoDebugCheck, facts);
    expect(findingIds(outcome)).toEqual(['django.debug']);
    expect(outcome.findings[0]!.evidence).toContain('plain HTTP home page');
  });

  it('stays silent on the production Not Found page', () => {
    expect(runCheck(djangoDebugCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
  });

  it('stays silent on a catch-all site serving a blog post that quotes the debug sentence', () => {
    const facts = catchAllFacts({ httpsBody: BLOG_POST_ABOUT_DEBUG });
    const everywhere = (path: string) => fetched(response(url(path), 200, { body: BLOG_POST_ABOUT_DEBUG }));
    const blog = {
      ...facts,
      django: { ...facts.django, notFound: everywhere(NOT_FOUND_PATH), foreignHostHome: everywhere('/') },
    };
    expect(runCheck(djangoDebugCheck, blog).findings).toEqual([]);
    expect(detectDjango(blog).detected).toBe(false);
  });

  it('requires the page frame, not only the sentence inside an explanation block', () => {
    const fragment = `<div id="explanation"><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></div>`;
    expect(isTechnicalErrorPage(fragment)).toBe(false);
    const reproduction = `<html><head><title>Django's debug page, explained</title></head><body><figure>
      <header id="summary"><h1>Page not found <small>(404)</small></h1></header>${fragment}</figure></body></html>`;
    expect(isTechnicalErrorPage(reproduction)).toBe(false);
    expect(isTechnicalErrorPage(technical404Page('/x'))).toBe(true);
  });

  it('errors when no probe got an answer', () => {
    const facts = buildFacts({
      httpHome: failedFetch('timeout'),
      httpsHome: failedFetch('timeout'),
      django: { notFound: failedFetch('timeout'), foreignHostHome: failedFetch('timeout') },
    });
    expect(runCheck(djangoDebugCheck, facts)).toMatchObject({ status: 'error', findings: [] });
  });
});

describe('django.allowed-hosts', () => {
  it('stays silent when the foreign Host gets a 400', () => {
    expect(runCheck(allowedHostsCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
  });

  it('fires when the foreign Host gets the same page', () => {
    const page = (greeting: string) =>
      `<html><head><title>Shop</title></head><body>${greeting}</body></html>`;
    const facts = buildFacts({
      httpsBody: page('Good morning'),
      django: { foreignHostHome: foreignProbe(200, page('Good evening')) },
    });
    const outcome = runCheck(allowedHostsCheck, facts);
    expect(outcome.findings).toMatchObject([{ id: 'django.allowed-hosts', severity: 'high' }]);
    expect(outcome.findings[0]!.evidence).toBe(
      `GET / with Host: ${FOREIGN_HOST} → 200, the same page as with Host: ${HOST}`,
    );
  });

  it('fires when the foreign Host gets a page Django itself rendered (CSRF cookie)', () => {
    const facts = buildFacts({
      django: {
        foreignHostHome: foreignProbe(200, '<title>Other</title>', { 'set-cookie': 'csrftoken=x; Secure' }),
      },
    });
    const outcome = runCheck(allowedHostsCheck, facts);
    expect(findingIds(outcome)).toEqual(['django.allowed-hosts']);
    expect(outcome.findings[0]!.evidence).toContain('a page rendered by Django');
  });

  it("stays silent when a front proxy's default page answers the foreign Host", () => {
    const facts = buildFacts({ django: { foreignHostHome: foreignProbe(200, NGINX_WELCOME_PAGE) } });
    expect(runCheck(allowedHostsCheck, facts).findings).toEqual([]);
  });

  it('fires when the foreign Host gets the same redirect, rebuilt on its own host name', () => {
    const facts = buildFacts({
      httpsHome: fetched(
        redirect(url('/'), `https://${HOST}/en/`, 302),
        response(url('/en/'), 200, { body: HOME_BODY }),
      ),
      django: { foreignHostHome: fetched(redirect(url('/'), `https://${FOREIGN_HOST}/en/`, 302)) },
    });
    const outcome = runCheck(allowedHostsCheck, facts);
    expect(findingIds(outcome)).toEqual(['django.allowed-hosts']);
    expect(outcome.findings[0]!.evidence).toContain('the same redirect');
  });

  it("stays silent when a proxy sends every unknown Host to the site's canonical name", () => {
    const canonical = 'https://www.shop.example.com/';
    const facts = buildFacts({
      httpsHome: fetched(redirect(url('/'), canonical), response(canonical, 200, { body: HOME_BODY })),
      django: { foreignHostHome: fetched(redirect(url('/'), canonical)) },
    });
    expect(runCheck(allowedHostsCheck, facts).findings).toEqual([]);
  });

  it('fires for PREPEND_WWW-style redirects that follow the Host header', () => {
    const facts = buildFacts({
      httpsHome: fetched(redirect(url('/'), `https://www.${HOST}/`), response(`https://www.${HOST}/`, 200)),
      django: { foreignHostHome: fetched(redirect(url('/'), `https://www.${FOREIGN_HOST}/`)) },
    });
    expect(findingIds(runCheck(allowedHostsCheck, facts))).toEqual(['django.allowed-hosts']);
  });

  it('errors when the foreign-Host probe timed out: that tells nothing', () => {
    const facts = buildFacts({
      django: { foreignHostHome: failedFetch(`https://${HOST}/: could not connect within 5 s`) },
    });
    expect(runCheck(allowedHostsCheck, facts)).toMatchObject({ status: 'error', findings: [] });
  });

  it('treats a closed connection or a 404 as a refusal', () => {
    const closed = buildFacts({ django: { foreignHostHome: failedFetch('connection reset by the server') } });
    expect(runCheck(allowedHostsCheck, closed)).toMatchObject({ status: 'pass', findings: [] });
    const notFound = buildFacts({ django: { foreignHostHome: foreignProbe(404, DJANGO_NOT_FOUND_BODY) } });
    expect(runCheck(allowedHostsCheck, notFound).findings).toEqual([]);
  });

  it('skips sites that are not Django, even when every Host is served', () => {
    expect(runCheck(allowedHostsCheck, catchAllFacts())).toMatchObject({ status: 'skip', findings: [] });
  });
});

describe('django.admin.default-path', () => {
  it('fires when /admin/ leads to the admin login', () => {
    const outcome = runCheck(adminPathCheck, buildFacts({ django: { admin: adminLogin } }));
    expect(outcome.findings).toMatchObject([{ id: 'django.admin.default-path', severity: 'low' }]);
    expect(outcome.findings[0]!.evidence).toBe(
      'GET /admin/ → 302 → /admin/login/?next=/admin/ → 200: Django admin login form',
    );
  });

  it('stays silent when /admin/ is a 404', () => {
    expect(runCheck(adminPathCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
  });

  it('does not take another login form for the admin', () => {
    const shopLogin = `<form method="post" id="login-form"><input name="username"><input type="password" name="password"></form>`;
    expect(isAdminLoginPage(response(url('/admin/'), 200, { body: shopLogin }))).toBe(false);
    expect(isAdminLoginPage(response(url('/admin/'), 200, { body: ADMIN_LOGIN_PAGE }))).toBe(true);
    expect(isAdminLoginPage(response(url('/admin/'), 403, { body: ADMIN_LOGIN_PAGE }))).toBe(false);
  });

  it('skips sites that are not Django', () => {
    expect(runCheck(adminPathCheck, catchAllFacts())).toMatchObject({ status: 'skip', findings: [] });
  });
});
