import type { CheckOutcome, HttpFetch, HttpResponseFacts, ScanFacts } from '../types';
import { errored, skipped } from './outcome';

export function headerValues(response: HttpResponseFacts, name: string): string[] {
  return response.headers[name.toLowerCase()] ?? [];
}

/** The members of a comma-separated list header across every line received (RFC 9110 §5.6.1). */
export function headerListMembers(response: HttpResponseFacts, name: string): string[] {
  return headerValues(response, name)
    .flatMap((value) => value.split(','))
    .map((member) => member.trim())
    .filter((member) => member.length > 0);
}

/** Lower-case host without IPv6 brackets or a trailing dot, for comparisons. */
export function normalizeHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

export function parseUrl(text: string, base?: string): URL | null {
  try {
    return new URL(text, base);
  } catch {
    return null;
  }
}

/** The path of an https:// URL on the scanned host, the whole URL otherwise: short evidence. */
export function shortUrl(url: string, host: string): string {
  const parsed = parseUrl(url);
  if (parsed?.protocol !== 'https:' || normalizeHost(parsed.hostname) !== normalizeHost(host)) return url;
  return `${parsed.pathname}${parsed.search}`;
}

/**
 * `GET /admin/ → 302 → /admin/login/ → 200`, ending with the error when a hop failed.
 * Without a host every URL is shown whole (where the scheme is the point).
 */
export function describeChain(fetch: HttpFetch, host: string | null): string {
  const show = (url: string) => (host === null ? url : shortUrl(url, host));
  const [first, ...rest] = fetch.responses;
  if (!first) return fetch.error ?? 'no response';
  const parts = [`GET ${show(first.url)}`, String(first.status)];
  for (const response of rest) parts.push(show(response.url), String(response.status));
  if (fetch.error) parts.push(fetch.error);
  return parts.join(' → ');
}

/** The resolved target of a redirect response, or null when it is not one. */
export function redirectTarget(response: HttpResponseFacts): URL | null {
  const location = headerValues(response, 'location')[0];
  if (response.status < 300 || response.status > 399 || !location) return null;
  return parseUrl(location, response.url);
}

/** Every Set-Cookie line of the given responses, with the response that sent it. */
export function setCookieLines(responses: readonly HttpResponseFacts[]) {
  return responses.flatMap((response) =>
    headerValues(response, 'set-cookie').map((line) => ({ line, response })),
  );
}

/** Checks of HTTPS pages skip while HTTPS itself is down: tls.unreachable reports that, once. */
export function httpsDown(facts: ScanFacts): CheckOutcome | null {
  return facts.tls?.handshake.ok ? null : skipped('HTTPS is not reachable');
}

export type HomeResponse = { response: HttpResponseFacts } | { outcome: CheckOutcome };

/**
 * The final response of `https://host/` after redirects, on which headers are judged (SPEC.md).
 * Without one the header checks skip (HTTPS unreachable, reported by the TLS check) or error.
 */
export function finalHttpsHome(facts: ScanFacts): HomeResponse {
  const down = httpsDown(facts);
  if (down) return { outcome: down };
  const response = facts.httpsHome.responses.at(-1);
  if (facts.httpsHome.error !== null || !response) {
    return {
      outcome: errored(`the HTTPS home page could not be fetched: ${facts.httpsHome.error ?? 'no response'}`),
    };
  }
  return { response };
}

/** HTML rather than plain text: what a catch-all page or an error page looks like. */
export function looksLikeHtml(body: string): boolean {
  return /<(?:!doctype\s+html|html|head|body|title|script|div|meta|p|a)[\s>/]/i.test(body);
}
