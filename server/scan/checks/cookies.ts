import { makeFinding, type ScanFindingId } from '../catalogue';
import type { Finding, HttpResponseFacts, ScanFacts } from '../types';
import { httpsDown, setCookieLines, shortUrl } from './http';
import { clip, foundTitles, judged, type ScanCheck, skipped } from './outcome';

/** Django's default cookie names (SESSION_COOKIE_NAME, CSRF_COOKIE_NAME). */
export const SESSION_COOKIE = 'sessionid';
export const CSRF_COOKIE = 'csrftoken';

export interface SetCookie {
  name: string;
  value: string;
  /** Lower-case attribute name → value ('' for flags); the last occurrence wins (RFC 6265 §5.3). */
  attributes: ReadonlyMap<string, string>;
  /** The attributes as sent, for evidence: never the value. */
  attributeText: string;
}

/** RFC 6265 §5.2; null for a line a browser would ignore. */
export function parseSetCookie(line: string): SetCookie | null {
  const [pair = '', ...avs] = line.split(';');
  const equals = pair.indexOf('=');
  if (equals === -1) return null;
  const name = pair.slice(0, equals).trim();
  if (name === '') return null;
  const attributes = new Map<string, string>();
  for (const av of avs) {
    const split = av.indexOf('=');
    const key = (split === -1 ? av : av.slice(0, split)).trim().toLowerCase();
    if (key !== '') attributes.set(key, split === -1 ? '' : av.slice(split + 1).trim());
  }
  return {
    name,
    value: pair.slice(equals + 1).trim(),
    attributes,
    attributeText: avs.map((av) => av.trim()).join('; '),
  };
}

/** A cookie being deleted carries no secret (Django's logout sends one without Secure). */
export function deletesCookie(cookie: SetCookie, now: number): boolean {
  if (cookie.value === '' || cookie.value === '""') return true;
  const maxAge = cookie.attributes.get('max-age');
  if (maxAge !== undefined && /^-?\d+$/.test(maxAge)) return Number(maxAge) <= 0;
  const expires = cookie.attributes.get('expires');
  return expires !== undefined && Date.parse(expires) < now;
}

interface SentCookie {
  cookie: SetCookie;
  response: HttpResponseFacts;
}

/** Cookies set over HTTPS by the real host's pages: home chain, admin chain and the 404 probe. */
export function httpsCookies(facts: ScanFacts): SentCookie[] {
  const now = Date.parse(facts.scannedAt);
  const responses = [facts.httpsHome, facts.django.admin, facts.django.notFound]
    .flatMap((fetch) => fetch.responses)
    .filter((response) => response.url.startsWith('https:'));
  return setCookieLines(responses).flatMap(({ line, response }) => {
    const cookie = parseSetCookie(line);
    return cookie && !deletesCookie(cookie, now) ? [{ cookie, response }] : [];
  });
}

interface CookieRule {
  id: ScanFindingId;
  cookie: string;
  violated: (cookie: SetCookie) => boolean;
}

const RULES: readonly CookieRule[] = [
  { id: 'cookie.session.insecure', cookie: SESSION_COOKIE, violated: (c) => !c.attributes.has('secure') },
  { id: 'cookie.session.httponly', cookie: SESSION_COOKIE, violated: (c) => !c.attributes.has('httponly') },
  { id: 'cookie.csrf.insecure', cookie: CSRF_COOKIE, violated: (c) => !c.attributes.has('secure') },
  {
    id: 'cookie.samesite.none',
    cookie: SESSION_COOKIE,
    violated: (c) => c.attributes.get('samesite')?.toLowerCase() === 'none',
  },
];

function evidenceOf({ cookie, response }: SentCookie, host: string): string {
  const attributes = cookie.attributeText ? `; ${cookie.attributeText}` : '';
  return `${clip(`Set-Cookie: ${cookie.name}=…${attributes}`)} (GET ${shortUrl(response.url, host)} → ${response.status})`;
}

export const cookiesCheck: ScanCheck = {
  id: 'cookies',
  findingIds: RULES.map((rule) => rule.id),
  run(facts, context) {
    // The names are Django's defaults: on another stack `sessionid` may mean something else.
    if (!context.django.detected) return skipped('not a Django site');
    const down = httpsDown(facts);
    if (down) return down;
    const sent = httpsCookies(facts).filter(({ cookie }) =>
      [SESSION_COOKIE, CSRF_COOKIE].includes(cookie.name),
    );
    if (sent.length === 0) return skipped(`no ${SESSION_COOKIE} or ${CSRF_COOKIE} cookie was set`);
    const findings: Finding[] = RULES.flatMap((rule) => {
      const offending = sent.find(({ cookie }) => cookie.name === rule.cookie && rule.violated(cookie));
      return offending ? [makeFinding(rule.id, { evidence: evidenceOf(offending, facts.host) })] : [];
    });
    const names = [...new Set(sent.map(({ cookie }) => cookie.name))].join(', ');
    return judged(findings, findings.length > 0 ? foundTitles(findings) : `${names}: flags set`);
  },
};
