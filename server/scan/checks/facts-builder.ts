/**
 * Test helper: the facts of a fully hardened Django site (every check passes, every bonus earned),
 * with overrides for the part a test is about.
 */
import type {
  CertificateFacts,
  Check,
  CheckOutcome,
  DjangoProbeFacts,
  DnsFacts,
  HttpFetch,
  HttpResponseFacts,
  ScanFacts,
  TlsFacts,
} from '../types';
import { detectDjango } from './django';
import { CATCH_ALL_PAGE, NGINX_404_PAGE, NGINX_WELCOME_PAGE } from './page-fixtures';

export const HOST = 'shop.example.com';
export const SCANNED_AT = '2026-11-24T10:00:00.000Z';
export const ADDRESS = '203.0.113.7';
export const FOREIGN_HOST = 'vigil-5f3a9c.invalid';
export const NOT_FOUND_PATH = '/vigil-probe-8d2e41';

export const DJANGO_NOT_FOUND_BODY = `
<!doctype html>
<html lang="en">
<head>
  <title>Not Found</title>
</head>
<body>
  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>
</body>
</html>
`;

export const DJANGO_BAD_REQUEST_BODY = `
<!doctype html>
<html lang="en">
<head>
  <title>Bad Request (400)</title>
</head>
<body>
  <h1>Bad Request (400)</h1><p></p>
</body>
</html>
`;

export const HOME_BODY = `<!doctype html>
<html lang="en"><head><title>Shop</title></head>
<body><h1>Shop</h1>
<form method="post" action="/newsletter/"><input type="hidden" name="csrfmiddlewaretoken" value="q8ZkV2">
<input name="email"><button>Subscribe</button></form></body></html>`;

export const HARDENED_HEADERS: Record<string, string[]> = {
  'content-type': ['text/html; charset=utf-8'],
  server: ['nginx'],
  'strict-transport-security': ['max-age=63072000; includeSubDomains; preload'],
  'content-security-policy': [
    "default-src 'self'; script-src 'self' 'nonce-r4nd0m'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
  ],
  'x-frame-options': ['DENY'],
  'x-content-type-options': ['nosniff'],
  'referrer-policy': ['same-origin'],
  'cross-origin-opener-policy': ['same-origin'],
  'set-cookie': [
    'csrftoken=Xk2v9Q; expires=Wed, 24 Nov 2027 10:00:00 GMT; Max-Age=31449600; Path=/; SameSite=Lax; Secure',
    'sessionid=8fj3k2; expires=Wed, 08 Dec 2026 10:00:00 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure',
  ],
};

export function response(
  url: string,
  status: number,
  init: { headers?: Record<string, string | string[]>; body?: string } = {},
): HttpResponseFacts {
  const headers = Object.fromEntries(
    Object.entries(init.headers ?? {}).map(([name, value]) => [
      name.toLowerCase(),
      Array.isArray(value) ? value : [value],
    ]),
  );
  return { url, status, headers, body: init.body ?? '', bodyTruncated: false, address: ADDRESS };
}

export function fetched(...responses: HttpResponseFacts[]): HttpFetch {
  return { responses, error: null };
}

export function failedFetch(error: string, ...responses: HttpResponseFacts[]): HttpFetch {
  return { responses, error };
}

export function redirect(url: string, location: string, status = 301): HttpResponseFacts {
  return response(url, status, { headers: { location } });
}

export function certificate(overrides: Partial<CertificateFacts> = {}): CertificateFacts {
  return {
    subject: `CN=${HOST}`,
    issuer: "C=US, O=Let's Encrypt, CN=R11",
    validFrom: '2026-10-25T10:00:00.000Z',
    validTo: '2027-01-23T10:00:00.000Z',
    subjectAltNames: [`DNS:${HOST}`],
    fingerprint256: 'AA:BB',
    ...overrides,
  };
}

function hardenedTls(): TlsFacts {
  return {
    handshake: { ok: true, protocol: 'TLSv1.3' },
    certificate: certificate(),
    chainTrusted: true,
    chainError: null,
    hostnameMatches: true,
    hostnameError: null,
    protocols: { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true },
  };
}

function hardenedDns(): DnsFacts {
  return {
    addresses: { ok: true, value: [ADDRESS] },
    caa: {
      ok: true,
      value: { domain: 'example.com', records: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }] },
    },
    dnssec: { ok: true, value: true },
    spf: {
      ok: true,
      value: {
        records: ['v=spf1 mx include:_spf.mail.example.net -all'],
        referenced: { '_spf.mail.example.net': ['v=spf1 ip4:198.51.100.0/24 ~all'] },
      },
    },
    dmarc: {
      ok: true,
      value: { domain: 'example.com', records: ['v=DMARC1; p=reject; rua=mailto:dmarc@example.com'] },
    },
  };
}

function hardenedDjangoProbes(): DjangoProbeFacts {
  return {
    notFoundPath: NOT_FOUND_PATH,
    notFound: fetched(response(`https://${HOST}${NOT_FOUND_PATH}`, 404, { body: DJANGO_NOT_FOUND_BODY })),
    foreignHost: FOREIGN_HOST,
    foreignHostHome: fetched(response(`https://${HOST}/`, 400, { body: DJANGO_BAD_REQUEST_BODY })),
    admin: fetched(response(`https://${HOST}/admin/`, 404, { body: DJANGO_NOT_FOUND_BODY })),
  };
}

const notFound = (path: string) =>
  fetched(response(`https://${HOST}${path}`, 404, { body: DJANGO_NOT_FOUND_BODY }));

export interface FactsOverrides {
  host?: string;
  scannedAt?: string;
  dns?: Partial<DnsFacts>;
  /** null: nothing to connect to. */
  tls?: Partial<TlsFacts> | null;
  certificate?: Partial<CertificateFacts>;
  httpHome?: HttpFetch;
  httpsHome?: HttpFetch;
  /** Merged into the headers of the hardened HTTPS home response; undefined removes one. */
  httpsHeaders?: Record<string, string | string[] | undefined>;
  httpsBody?: string;
  django?: Partial<DjangoProbeFacts>;
  /** Merged into the hardened (all 404) secret-file probes. */
  files?: Record<string, HttpFetch>;
  securityTxt?: HttpFetch;
}

function homeHeaders(overrides: FactsOverrides['httpsHeaders']): Record<string, string[]> {
  const headers = { ...HARDENED_HEADERS };
  for (const [name, value] of Object.entries(overrides ?? {})) {
    const key = name.toLowerCase();
    if (value === undefined) delete headers[key];
    else headers[key] = Array.isArray(value) ? value : [value];
  }
  return headers;
}

export function buildFacts(overrides: FactsOverrides = {}): ScanFacts {
  const host = overrides.host ?? HOST;
  const tls =
    overrides.tls === null
      ? null
      : {
          ...hardenedTls(),
          ...overrides.tls,
          ...(overrides.certificate ? { certificate: certificate(overrides.certificate) } : {}),
        };
  return {
    host,
    httpsPort: 443,
    scannedAt: overrides.scannedAt ?? SCANNED_AT,
    dns: { ...hardenedDns(), ...overrides.dns },
    tls,
    httpHome:
      overrides.httpHome ??
      fetched(redirect(`http://${host}/`, `https://${host}/`), homeResponse(host, overrides)),
    httpsHome: overrides.httpsHome ?? fetched(homeResponse(host, overrides)),
    django: { ...hardenedDjangoProbes(), ...overrides.django },
    files: {
      '/.env': notFound('/.env'),
      '/.git/HEAD': notFound('/.git/HEAD'),
      '/.git/config': notFound('/.git/config'),
      ...overrides.files,
    },
    securityTxt:
      overrides.securityTxt ??
      fetched(
        response(`https://${host}/.well-known/security.txt`, 200, {
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: 'Contact: mailto:security@example.com\nExpires: 2027-06-30T00:00:00.000Z\n',
        }),
      ),
  };
}

function homeResponse(host: string, overrides: FactsOverrides): HttpResponseFacts {
  return response(`https://${host}/`, 200, {
    headers: homeHeaders(overrides.httpsHeaders),
    body: overrides.httpsBody ?? HOME_BODY,
  });
}

/** Runs one check the way runChecks does (Django detected from the same facts). */
export function runCheck(check: Check, facts: ScanFacts): CheckOutcome {
  return check.run(facts, { django: detectDjango(facts) });
}

export function findingIds(outcome: CheckOutcome): string[] {
  return outcome.findings.map((finding) => finding.id);
}

const sameFetch = (status: number, body: string) => (path: string) =>
  fetched(response(`https://${HOST}${path}`, status, { headers: { 'content-type': 'text/html' }, body }));

/** Facts of a non-Django site whose probes got `answer(path)` and `foreign`; headers stay hardened. */
function siteFacts(
  answer: (path: string) => HttpFetch,
  foreign: string,
  overrides: FactsOverrides,
): ScanFacts {
  return buildFacts({
    httpsBody: CATCH_ALL_PAGE,
    ...overrides,
    httpsHeaders: { 'set-cookie': undefined, ...overrides.httpsHeaders },
    django: {
      notFound: answer(NOT_FOUND_PATH),
      foreignHostHome: fetched(response(`https://${HOST}/`, 200, { body: foreign })),
      admin: answer('/admin/'),
      ...overrides.django,
    },
    files: {
      '/.env': answer('/.env'),
      '/.git/HEAD': answer('/.git/HEAD'),
      '/.git/config': answer('/.git/config'),
      ...overrides.files,
    },
    securityTxt: overrides.securityTxt ?? answer('/.well-known/security.txt'),
  });
}

/** A single-page or static site that answers every path and Host with the same 200 page. */
export function catchAllFacts(overrides: FactsOverrides = {}): ScanFacts {
  return siteFacts(sameFetch(200, CATCH_ALL_PAGE), CATCH_ALL_PAGE, overrides);
}

/** A static site behind nginx: nginx's own 404 for unknown paths, its default page for a foreign Host. */
export function nginxStaticFacts(overrides: FactsOverrides = {}): ScanFacts {
  return siteFacts(sameFetch(404, NGINX_404_PAGE), NGINX_WELCOME_PAGE, overrides);
}
