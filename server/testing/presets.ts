import type { SiteBehaviour } from './django-site';
import type { DnsFault } from './dns-server';

/**
 * What answers on port 443. `none`: nothing listens there. `legacy-tls10`: TLS 1.0 to 1.3 at OpenSSL
 * security level 0. `no-tls13`: at most TLS 1.2. `untrusted`: signed by a CA clients are not given.
 */
export type TlsMode =
  | 'valid'
  | 'expiring-5d'
  | 'expiring-20d'
  | 'expired'
  | 'untrusted'
  | 'wrong-host'
  | 'legacy-tls10'
  | 'no-tls13'
  | 'none';

/** `listen`: port 80 answers (redirecting or serving, as the behaviour's `sslRedirect` says); `none`: nothing on 80. */
export type HttpMode = 'listen' | 'none';

/**
 * The site's DNS. In `spf`, `dmarc` and `spfIncludes` values, `{host}` stands for the site's name;
 * `spfIncludes` keys are labels put in front of it (`_spf1` → TXT at `_spf1.<site>.<zone>`).
 */
export interface SiteDns {
  /** false = no A record (the name still exists when other records do). */
  resolvable: boolean;
  caa: boolean;
  /** A DNSKEY at the site's name and the AD flag on every answer at or below it. */
  dnssec: boolean;
  spf: string | null;
  spfIncludes: Record<string, string>;
  dmarc: string | null;
  /** A hostile resolver answer for the site's name: never answer, or SERVFAIL. */
  fault: DnsFault | null;
}

export interface SiteSpec {
  behaviour: SiteBehaviour;
  tls: TlsMode;
  http: HttpMode;
  dns: SiteDns;
}

/** A change to a running site: each part merged over the current one. */
export interface SiteSpecPatch {
  behaviour?: Partial<SiteBehaviour>;
  tls?: TlsMode;
  http?: HttpMode;
  dns?: Partial<SiteDns>;
}

export const HARDENED_CSP =
  "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const UNSAFE_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const HARDENED_BEHAVIOUR: SiteBehaviour = {
  kind: 'django',
  debug: false,
  allowedHosts: 'listed',
  sslRedirect: true,
  hsts: 'max-age=31536000; includeSubDomains; preload',
  xFrameOptions: 'DENY',
  contentTypeNosniff: true,
  referrerPolicy: 'same-origin',
  crossOriginOpenerPolicy: 'same-origin',
  contentSecurityPolicy: HARDENED_CSP,
  serverHeader: 'nginx',
  poweredByHeader: null,
  csrfCookie: { name: 'csrftoken', secure: true, httpOnly: false, sameSite: 'Lax' },
  sessionCookie: { name: 'sessionid', secure: true, httpOnly: true, sameSite: 'Lax' },
  homeForm: true,
  adminPath: '/backstage-7c1e/',
  exposedFiles: { env: false, gitHead: false, gitConfig: false },
  securityTxt: true,
  urlconf: 'shop.urls',
  djangoVersion: '5.1.4',
};

const HARDENED_DNS: SiteDns = {
  resolvable: true,
  caa: true,
  dnssec: true,
  spf: 'v=spf1 ip4:192.0.2.25 -all',
  spfIncludes: {},
  dmarc: 'v=DMARC1; p=reject; rua=mailto:dmarc-reports@{host}',
  fault: null,
};

const HARDENED: SiteSpec = { behaviour: HARDENED_BEHAVIOUR, tls: 'valid', http: 'listen', dns: HARDENED_DNS };

/** A copy of `base` with the patch merged in (one level deep, like `Fleet.reconfigure`). */
export function applySitePatch(base: SiteSpec, patch: SiteSpecPatch): SiteSpec {
  return {
    behaviour: { ...base.behaviour, ...patch.behaviour },
    tls: patch.tls ?? base.tls,
    http: patch.http ?? base.http,
    dns: { ...base.dns, ...patch.dns },
  };
}

/** Presets are shared by every test in a process: freeze them so none can change another's. */
function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
  return Object.freeze(value);
}

const hardenedWith = (patch: SiteSpecPatch): SiteSpec => applySitePatch(HARDENED, patch);
const SESSION = HARDENED_BEHAVIOUR.sessionCookie!;
const CSRF = HARDENED_BEHAVIOUR.csrfCookie;

/** Four includes of two lookups each, plus the includes themselves: 12 DNS lookups, over SPF's 10. */
const TOO_MANY_LOOKUPS_INCLUDES: Record<string, string> = {
  _spf1: 'v=spf1 a mx ~all',
  _spf2: 'v=spf1 a mx ~all',
  _spf3: 'v=spf1 a mx ~all',
  _spf4: 'v=spf1 a mx ~all',
};

/**
 * Every site configuration SPEC.md names. Each differs from `hardened` only in what its name says,
 * so a test can assert that a finding fires on the preset and stays silent on `hardened`.
 */
export const SITE_PRESETS = deepFreeze({
  hardened: HARDENED,
  debug: hardenedWith({ behaviour: { debug: true } }),
  'allowed-hosts-wildcard': hardenedWith({ behaviour: { allowedHosts: 'wildcard' } }),
  'insecure-cookies': hardenedWith({
    behaviour: { csrfCookie: { ...CSRF, secure: false }, sessionCookie: { ...SESSION, secure: false } },
  }),
  'session-not-httponly': hardenedWith({ behaviour: { sessionCookie: { ...SESSION, httpOnly: false } } }),
  'samesite-none': hardenedWith({ behaviour: { sessionCookie: { ...SESSION, sameSite: 'None' } } }),
  'hsts-missing': hardenedWith({ behaviour: { hsts: null } }),
  'hsts-short': hardenedWith({ behaviour: { hsts: 'max-age=3600; includeSubDomains; preload' } }),
  'hsts-no-subdomains': hardenedWith({ behaviour: { hsts: 'max-age=31536000; preload' } }),
  'hsts-no-preload': hardenedWith({ behaviour: { hsts: 'max-age=31536000; includeSubDomains' } }),
  'no-redirect': hardenedWith({ behaviour: { sslRedirect: false } }),
  'headers-missing': hardenedWith({
    behaviour: {
      xFrameOptions: null,
      contentTypeNosniff: false,
      referrerPolicy: null,
      contentSecurityPolicy: null,
      crossOriginOpenerPolicy: null,
    },
  }),
  'csp-unsafe': hardenedWith({ behaviour: { contentSecurityPolicy: UNSAFE_CSP } }),
  'version-leak': hardenedWith({ behaviour: { serverHeader: 'nginx/1.18.0' } }),
  'default-admin': hardenedWith({ behaviour: { adminPath: '/admin/' } }),
  'leaked-files': hardenedWith({
    behaviour: { exposedFiles: { env: true, gitHead: true, gitConfig: true } },
  }),
  'static-site': hardenedWith({ behaviour: { kind: 'static' } }),
  'catch-all': hardenedWith({ behaviour: { kind: 'catch-all' } }),
  'cert-expiring': hardenedWith({ tls: 'expiring-20d' }),
  'cert-expiring-soon': hardenedWith({ tls: 'expiring-5d' }),
  'cert-expired': hardenedWith({ tls: 'expired' }),
  'cert-untrusted': hardenedWith({ tls: 'untrusted' }),
  'cert-wrong-host': hardenedWith({ tls: 'wrong-host' }),
  'legacy-tls': hardenedWith({ tls: 'legacy-tls10' }),
  'no-tls13': hardenedWith({ tls: 'no-tls13' }),
  'https-down': hardenedWith({ tls: 'none' }),
  offline: hardenedWith({ tls: 'none', http: 'none' }),
  unresolvable: hardenedWith({ dns: { resolvable: false } }),
  'dns-weak': hardenedWith({ dns: { caa: false, dnssec: false, spf: null, dmarc: null } }),
  'spf-permissive': hardenedWith({ dns: { spf: 'v=spf1 ip4:192.0.2.25 +all' } }),
  'spf-too-many-lookups': hardenedWith({
    dns: {
      spf: 'v=spf1 include:_spf1.{host} include:_spf2.{host} include:_spf3.{host} include:_spf4.{host} -all',
      spfIncludes: TOO_MANY_LOOKUPS_INCLUDES,
    },
  }),
  'dmarc-none': hardenedWith({ dns: { dmarc: 'v=DMARC1; p=none; rua=mailto:dmarc-reports@{host}' } }),
  'no-security-txt': hardenedWith({ behaviour: { securityTxt: false } }),
  'dns-timeout': hardenedWith({ dns: { fault: 'timeout' } }),
  'dns-servfail': hardenedWith({ dns: { fault: 'servfail' } }),
} satisfies Record<string, SiteSpec>);

export type SitePresetName = keyof typeof SITE_PRESETS;
