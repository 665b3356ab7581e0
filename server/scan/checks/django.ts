import { makeFinding } from '../catalogue';
import type { DjangoDetection, HttpFetch, HttpResponseFacts, ScanFacts } from '../types';
import { parseSetCookie } from './cookies';
import { describeChain, headerValues, httpsDown, normalizeHost, parseUrl, setCookieLines } from './http';
import { clip, errored, judged, type ScanCheck, skipped } from './outcome';

/** Signal strings are part of the JSON contract (`django.signals`): short and stable. */
export const DJANGO_SIGNALS = [
  'cookie:csrftoken',
  'cookie:sessionid',
  'cookie:django_language',
  'form:csrfmiddlewaretoken',
  'admin-login',
  'debug-page',
  'body:bad-request-400',
  'body:not-found',
] as const;
export type DjangoSignal = (typeof DJANGO_SIGNALS)[number];

/** Generic error bodies other stacks could imitate: they count only together or beside a strong signal. */
const WEAK_SIGNALS: ReadonlySet<DjangoSignal> = new Set(['body:bad-request-400', 'body:not-found']);

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/** django.views.defaults without a 400.html/404.html template: the modern page and the pre-3.0 fragment. */
function defaultErrorBodies(title: string, details: string): string[] {
  return [
    `<!doctype html> <html lang="en"> <head> <title>${title}</title> </head> <body> <h1>${title}</h1><p>${details}</p> </body> </html>`,
    details ? `<h1>${title}</h1><p>${details}</p>` : `<h1>${title}</h1>`,
  ];
}

const NOT_FOUND_BODIES = defaultErrorBodies(
  'Not Found',
  'The requested resource was not found on this server.',
);
const BAD_REQUEST_BODIES = defaultErrorBodies('Bad Request (400)', '');

export function isDefaultNotFound(response: HttpResponseFacts | undefined): boolean {
  return response?.status === 404 && NOT_FOUND_BODIES.includes(collapse(response.body));
}

export function isDefaultBadRequest(response: HttpResponseFacts | undefined): boolean {
  return response?.status === 400 && BAD_REQUEST_BODIES.includes(collapse(response.body));
}

const DEBUG_SENTENCE =
  /You(?:'|’|&#x27;|&#39;|&rsquo;)re seeing this error because you have\s+<code>DEBUG = True<\/code>/;
const ROBOTS_NONE = /<meta\s+name=["']robots["']\s+content=["']NONE,NOARCHIVE["']/i;
const SUMMARY_BLOCK = /<(?:header|div)\s+id=["']summary["']/i;
const EXPLANATION_BLOCK = /<(?:footer|div)\s+id=["']explanation["']/i;

/**
 * Django's technical 404/500 page (DisallowedHost included). The sentence alone is not enough: a blog
 * post may quote it; the page's own frame (robots meta, summary header, explanation footer around the
 * sentence) is required too.
 */
export function isTechnicalErrorPage(body: string): boolean {
  const sentence = DEBUG_SENTENCE.exec(body);
  const explanation = EXPLANATION_BLOCK.exec(body);
  return (
    sentence !== null &&
    explanation !== null &&
    explanation.index < sentence.index &&
    ROBOTS_NONE.test(body) &&
    SUMMARY_BLOCK.test(body)
  );
}

/** The "install worked" rocket page Django serves at / with DEBUG on and no URLs (any language). */
export function isDefaultUrlconfPage(body: string): boolean {
  return (
    /href=["']https:\/\/docs\.djangoproject\.com\/[^"'\s<>]{0,40}\/ref\/settings\/#debug["']/i.test(body) &&
    /class=["']exhaust__line["']/.test(body) &&
    /<a\s+class=["']logo["']\s+href=["']https:\/\/www\.djangoproject\.com\/["']/i.test(body)
  );
}

export function isDebugPage(body: string): boolean {
  return isTechnicalErrorPage(body) || isDefaultUrlconfPage(body);
}

/** The admin login form: `<form … id="login-form">` plus the admin stylesheet or branding. */
export function isAdminLoginPage(response: HttpResponseFacts | undefined): boolean {
  if (response?.status !== 200) return false;
  const form = /<form\b[^<>]*\bid=["']login-form["']/i.test(response.body);
  const adminAssets = /href=["'][^"'\s<>]{0,300}\badmin\/css\/(?:base|login)(?:\.[0-9a-f]{6,})?\.css/i.test(
    response.body,
  );
  const branding = /Django (?:site admin|administration)/.test(response.body);
  return form && (adminAssets || branding);
}

const CSRF_FORM_FIELD = /<input\b[^<>]*\bname\s*=\s*["']?csrfmiddlewaretoken["'\s/>]/i;

/** Pages that belong to the real host: the cookie and form signals are read from these. */
function ownResponses(facts: ScanFacts): HttpResponseFacts[] {
  const { httpHome, httpsHome, django } = facts;
  return [httpHome, httpsHome, django.admin, django.notFound].flatMap((fetch) => fetch.responses);
}

/** The probes a debug page may show up on: the random path, the foreign Host and the home page (either scheme). */
function debugProbes(facts: ScanFacts): { label: string; fetch: HttpFetch }[] {
  return [
    { label: 'random path', fetch: facts.django.notFound },
    { label: `foreign Host ${facts.django.foreignHost}`, fetch: facts.django.foreignHostHome },
    { label: 'home page', fetch: facts.httpsHome },
    { label: 'plain HTTP home page', fetch: facts.httpHome },
  ];
}

function findDebugPage(facts: ScanFacts): { label: string; response: HttpResponseFacts } | null {
  for (const { label, fetch } of debugProbes(facts)) {
    const response = fetch.responses.find((candidate) => isDebugPage(candidate.body));
    if (response) return { label, response };
  }
  return null;
}

export function detectDjango(facts: ScanFacts): DjangoDetection {
  const own = ownResponses(facts);
  const cookieNames = new Set(setCookieLines(own).flatMap(({ line }) => parseSetCookie(line)?.name ?? []));
  const seen = new Set<DjangoSignal>();
  for (const name of ['csrftoken', 'sessionid', 'django_language'] as const) {
    if (cookieNames.has(name)) seen.add(`cookie:${name}`);
  }
  if (own.some((response) => CSRF_FORM_FIELD.test(response.body))) seen.add('form:csrfmiddlewaretoken');
  if (isAdminLoginPage(facts.django.admin.responses.at(-1))) seen.add('admin-login');
  if (findDebugPage(facts)) seen.add('debug-page');
  if (isDefaultBadRequest(facts.django.foreignHostHome.responses[0])) seen.add('body:bad-request-400');
  if (isDefaultNotFound(facts.django.notFound.responses[0])) seen.add('body:not-found');
  const signals = DJANGO_SIGNALS.filter((signal) => seen.has(signal));
  const strong = signals.filter((signal) => !WEAK_SIGNALS.has(signal));
  return { detected: strong.length > 0 || signals.length >= 2, signals };
}

export const djangoDebugCheck: ScanCheck = {
  id: 'django-debug',
  findingIds: ['django.debug'],
  run(facts) {
    // No HTTPS-down skip here: a DEBUG dev server exposed on plain HTTP is the worst case of all.
    const found = findDebugPage(facts);
    if (found) {
      const { label, response } = found;
      const kind = isTechnicalErrorPage(response.body) ? 'technical error page' : '"install worked" page';
      const evidence = `${label}: GET ${response.url} → ${response.status} shows Django's ${kind} (DEBUG = True)`;
      return judged([makeFinding('django.debug', { evidence })], 'DEBUG is on');
    }
    const probed = debugProbes(facts).filter(({ fetch }) => fetch.responses.length > 0);
    if (probed.length === 0) return httpsDown(facts) ?? errored('none of the debug probes got an answer');
    return judged([], `no debug page on: ${probed.map(({ label }) => label).join(', ')}`);
  },
};

/** A redirect target with the requested host replaced by `{host}`, so two hosts' redirects compare. */
function redirectShape(response: HttpResponseFacts, requestedHost: string): string | null {
  const location = headerValues(response, 'location')[0];
  if (response.status < 300 || response.status > 399 || !location) return null;
  const target = parseUrl(location, `https://${requestedHost}/`);
  if (!target) return null;
  const host = normalizeHost(target.hostname);
  const own = normalizeHost(requestedHost);
  const shownHost =
    host === own ? '{host}' : host.endsWith(`.${own}`) ? `${host.slice(0, -own.length)}{host}` : host;
  return `${target.protocol}//${shownHost}${target.port ? `:${target.port}` : ''}${target.pathname}${target.search}`;
}

const TITLE = /<title[^<>]*>([^<]*)<\/title>/i;

/** Same page: same non-empty <title>, or the very same body when neither has one. */
function samePage(a: HttpResponseFacts, b: HttpResponseFacts): boolean {
  const titleA = TITLE.exec(a.body)?.[1]?.trim();
  const titleB = TITLE.exec(b.body)?.[1]?.trim();
  if (titleA || titleB) return titleA === titleB;
  return a.body === b.body;
}

/** Django signals inside one response: it was Django, not a front proxy's default page, that answered. */
function answeredByDjango(response: HttpResponseFacts): boolean {
  const names = setCookieLines([response]).flatMap(({ line }) => parseSetCookie(line)?.name ?? []);
  return names.includes('csrftoken') || names.includes('sessionid') || CSRF_FORM_FIELD.test(response.body);
}

/** How the HTTP probe words a connection the server closed or refused without answering. */
const SERVER_CLOSED = /reset|closed|hang up|refused|EPIPE|ECONNRESET/i;

/** Why the foreign-Host answer is a normal one (2xx, or the real host's redirect), as an evidence suffix; or null. */
function normalAnswer(foreign: HttpResponseFacts, real: HttpResponseFacts, facts: ScanFacts): string | null {
  const { host } = facts;
  if (foreign.status >= 200 && foreign.status < 300) {
    if (real.status >= 200 && real.status < 300 && samePage(foreign, real))
      return `, the same page as with Host: ${host}`;
    return answeredByDjango(foreign) ? ', a page rendered by Django (CSRF token or session cookie)' : null;
  }
  const shape = redirectShape(foreign, facts.django.foreignHost);
  if (shape === null || shape !== redirectShape(real, host)) return null;
  const location = clip(headerValues(foreign, 'location')[0] ?? '', 120);
  return ` → ${location}, the same redirect as with Host: ${host}`;
}

export const allowedHostsCheck: ScanCheck = {
  id: 'django-allowed-hosts',
  findingIds: ['django.allowed-hosts'],
  run(facts, context) {
    if (!context.django.detected) return skipped('not a Django site');
    const down = httpsDown(facts);
    if (down) return down;
    const real = facts.httpsHome.responses[0];
    if (!real) return errored(`the home page could not be fetched: ${facts.httpsHome.error ?? 'no answer'}`);
    const { foreignHost, foreignHostHome } = facts.django;
    const foreign = foreignHostHome.responses[0];
    if (!foreign) {
      const error = foreignHostHome.error ?? 'no answer';
      // A connection closed on an unknown Host (nginx `return 444`) is a refusal; a timeout tells nothing.
      if (SERVER_CLOSED.test(error)) return judged([], `foreign Host refused: ${error}`);
      return errored(`the foreign-Host probe failed: ${error}`);
    }
    const shown = `GET / with Host: ${foreignHost} → ${foreign.status}`;
    // A front proxy's own page for unknown hosts (nginx default server) is not Django accepting the Host.
    const normal = normalAnswer(foreign, real, facts);
    if (normal === null) return judged([], `${shown}: refused or another site`);
    const finding = makeFinding('django.allowed-hosts', { evidence: `${shown}${normal}` });
    return judged([finding], 'a foreign Host is served');
  },
};

export const adminPathCheck: ScanCheck = {
  id: 'django-admin',
  findingIds: ['django.admin.default-path'],
  run(facts, context) {
    if (!context.django.detected) return skipped('not a Django site');
    const down = httpsDown(facts);
    if (down) return down;
    const admin = facts.django.admin;
    if (admin.responses.length === 0)
      return errored(`/admin/ could not be fetched: ${admin.error ?? 'no answer'}`);
    const chain = describeChain(admin, facts.host);
    if (!isAdminLoginPage(admin.responses.at(-1))) return judged([], `${chain}: no admin login`);
    const finding = makeFinding('django.admin.default-path', {
      evidence: `${chain}: Django admin login form`,
    });
    return judged([finding], 'admin login at /admin/');
  },
};
