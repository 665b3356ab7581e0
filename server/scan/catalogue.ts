import { auditEntries } from '../audit/catalogue-entries';
import type { Finding, Severity } from './types';

/**
 * The one finding catalogue (SPEC.md): ID, default severity, title, Django mapping and fix.
 * The API, e-mails, CLI and dashboard read these strings from here; nothing repeats them.
 */
export interface CatalogueEntry {
  severity: Severity;
  title: string;
  /** Why it matters, one or two sentences. */
  why: string;
  django?: { setting?: string; checkId?: string };
  fix: string;
}

const scanEntries = {
  'dns.unresolvable': {
    severity: 'critical',
    title: 'Name does not resolve',
    why: 'The name has no A or AAAA record, so nobody can reach the site.',
    fix: 'Add an A and/or AAAA record for the name at your DNS provider.',
  },
  'tls.unreachable': {
    severity: 'high',
    title: 'HTTPS is not reachable',
    why: 'Port 443 refuses connections or the TLS handshake fails while plain HTTP answers.',
    fix: "Serve the site over HTTPS (e.g. terminate TLS at nginx/Caddy with a Let's Encrypt certificate).",
  },
  'tls.cert.expired': {
    severity: 'critical',
    title: 'Certificate expired or not yet valid',
    why: 'Browsers refuse the connection; users see a full-page warning.',
    fix: 'Renew the certificate now and automate renewal (certbot renew / Caddy automatic HTTPS).',
  },
  'tls.cert.expiring': {
    severity: 'medium',
    title: 'Certificate expires soon',
    why: 'When it expires, browsers refuse the connection.',
    fix: 'Renew the certificate and check that automatic renewal (certbot timer, ACME client) runs.',
  },
  'tls.cert.untrusted': {
    severity: 'critical',
    title: 'Certificate chain is not trusted',
    why: 'The chain does not verify against the trust store: browsers show a warning, clients refuse.',
    fix: 'Install a certificate from a public CA and serve the full chain (fullchain.pem, not cert.pem).',
  },
  'tls.cert.hostname': {
    severity: 'critical',
    title: 'Certificate does not cover the name',
    why: 'The certificate is for other names; browsers refuse the connection.',
    fix: 'Issue a certificate whose subjectAltName includes this host name.',
  },
  'tls.protocol.legacy': {
    severity: 'medium',
    title: 'Legacy TLS 1.0/1.1 accepted',
    why: 'TLS 1.0 and 1.1 are deprecated (RFC 8996) and have known weaknesses.',
    fix: 'nginx: ssl_protocols TLSv1.2 TLSv1.3;  (Caddy and current defaults already do this)',
  },
  'tls.protocol.no-tls13': {
    severity: 'low',
    title: 'TLS 1.3 not offered',
    why: 'TLS 1.3 is faster and removes legacy cryptography.',
    fix: 'nginx: ssl_protocols TLSv1.2 TLSv1.3;  with OpenSSL ≥ 1.1.1',
  },
  'https.redirect.missing': {
    severity: 'high',
    title: 'HTTP does not redirect to HTTPS',
    why: 'Visitors who type the name or follow an http:// link stay on an unencrypted connection.',
    django: { setting: 'SECURE_SSL_REDIRECT', checkId: 'security.W008' },
    fix: 'SECURE_SSL_REDIRECT = True\nSECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # behind a proxy',
  },
  'hsts.missing': {
    severity: 'high',
    title: 'HSTS header missing',
    why: 'Without Strict-Transport-Security a network attacker can downgrade the first visit to HTTP.',
    django: { setting: 'SECURE_HSTS_SECONDS', checkId: 'security.W004' },
    fix: 'SECURE_HSTS_SECONDS = 31536000',
  },
  'hsts.max-age.short': {
    severity: 'medium',
    title: 'HSTS max-age shorter than 180 days',
    why: 'A short max-age lets the protection lapse between visits.',
    django: { setting: 'SECURE_HSTS_SECONDS' },
    fix: 'SECURE_HSTS_SECONDS = 31536000',
  },
  'hsts.subdomains.missing': {
    severity: 'low',
    title: 'HSTS does not include subdomains',
    why: 'Subdomains can still be reached over HTTP and used to set cookies for the parent.',
    django: { setting: 'SECURE_HSTS_INCLUDE_SUBDOMAINS', checkId: 'security.W005' },
    fix: 'SECURE_HSTS_INCLUDE_SUBDOMAINS = True',
  },
  'hsts.preload.missing': {
    severity: 'info',
    title: 'HSTS preload not requested',
    why: 'Preloading protects even the very first visit.',
    django: { setting: 'SECURE_HSTS_PRELOAD', checkId: 'security.W021' },
    fix: 'SECURE_HSTS_PRELOAD = True  # then submit the domain at hstspreload.org',
  },
  'xfo.missing': {
    severity: 'medium',
    title: 'Clickjacking protection missing',
    why: 'Without X-Frame-Options or CSP frame-ancestors, other sites can frame yours.',
    django: { setting: 'django.middleware.clickjacking.XFrameOptionsMiddleware', checkId: 'security.W002' },
    fix: 'MIDDLEWARE += ["django.middleware.clickjacking.XFrameOptionsMiddleware"]\nX_FRAME_OPTIONS = "DENY"',
  },
  'nosniff.missing': {
    severity: 'low',
    title: 'X-Content-Type-Options: nosniff missing',
    why: 'Browsers may sniff uploads or responses as script or HTML.',
    django: { setting: 'SECURE_CONTENT_TYPE_NOSNIFF', checkId: 'security.W006' },
    fix: 'SECURE_CONTENT_TYPE_NOSNIFF = True',
  },
  'referrer-policy.missing': {
    severity: 'low',
    title: 'Referrer-Policy missing or unsafe',
    why: 'Full URLs (with tokens or ids) leak to other sites in the Referer header.',
    django: { setting: 'SECURE_REFERRER_POLICY', checkId: 'security.W022' },
    fix: 'SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"',
  },
  'csp.missing': {
    severity: 'medium',
    title: 'Content-Security-Policy missing',
    why: 'A CSP is the main defence in depth against cross-site scripting.',
    django: { setting: 'SECURE_CSP (Django ≥ 6) / django-csp CONTENT_SECURITY_POLICY' },
    fix: 'MIDDLEWARE += ["django.middleware.csp.ContentSecurityPolicyMiddleware"]  # Django ≥ 6\nfrom django.utils.csp import CSP\nSECURE_CSP = {"default-src": [CSP.SELF], "script-src": [CSP.SELF, CSP.NONCE], "frame-ancestors": [CSP.NONE]}',
  },
  'csp.unsafe-inline': {
    severity: 'medium',
    title: "CSP allows 'unsafe-inline' scripts",
    why: "'unsafe-inline' without a nonce or hash lets injected inline scripts run, defeating the CSP.",
    django: { setting: 'SECURE_CSP (Django ≥ 6) / django-csp CONTENT_SECURITY_POLICY' },
    fix: 'Use nonces: "script-src": [CSP.SELF, CSP.NONCE], add the "django.template.context_processors.csp" context processor and nonce="{{ csp_nonce }}" on inline <script> tags.',
  },
  'csp.unsafe-eval': {
    severity: 'low',
    title: "CSP allows 'unsafe-eval'",
    why: 'eval() and new Function() on attacker-influenced strings become script execution.',
    django: { setting: 'SECURE_CSP (Django ≥ 6) / django-csp CONTENT_SECURITY_POLICY' },
    fix: "Remove 'unsafe-eval' from script-src and replace eval()-based code.",
  },
  'coop.missing': {
    severity: 'info',
    title: 'Cross-Origin-Opener-Policy missing',
    why: 'Without COOP, pages you open can keep a reference to your window (XS-Leaks).',
    django: { setting: 'SECURE_CROSS_ORIGIN_OPENER_POLICY', checkId: 'security.W024' },
    fix: 'SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"',
  },
  'server.version-leak': {
    severity: 'low',
    title: 'Server software version disclosed',
    why: 'A version number in Server/X-Powered-By tells attackers which exploits to try.',
    fix: 'nginx: server_tokens off;  gunicorn: SERVER_SOFTWARE hidden behind the proxy; drop X-Powered-By.',
  },
  'cookie.session.insecure': {
    severity: 'high',
    title: 'Session cookie sent without Secure',
    why: 'The session cookie can leak over plain HTTP and be used to hijack the session.',
    django: { setting: 'SESSION_COOKIE_SECURE', checkId: 'security.W012' },
    fix: 'SESSION_COOKIE_SECURE = True',
  },
  'cookie.session.httponly': {
    severity: 'medium',
    title: 'Session cookie readable by JavaScript',
    why: 'Without HttpOnly, any XSS can steal the session cookie.',
    django: { setting: 'SESSION_COOKIE_HTTPONLY', checkId: 'security.W013' },
    fix: 'SESSION_COOKIE_HTTPONLY = True',
  },
  'cookie.csrf.insecure': {
    severity: 'medium',
    title: 'CSRF cookie sent without Secure',
    why: 'The CSRF token can leak over plain HTTP.',
    django: { setting: 'CSRF_COOKIE_SECURE', checkId: 'security.W016' },
    fix: 'CSRF_COOKIE_SECURE = True',
  },
  'cookie.samesite.none': {
    severity: 'low',
    title: 'Session cookie sent with SameSite=None',
    why: 'The browser attaches the session cookie to cross-site requests, widening CSRF exposure.',
    django: { setting: 'SESSION_COOKIE_SAMESITE' },
    fix: 'SESSION_COOKIE_SAMESITE = "Lax"',
  },
  'django.debug': {
    severity: 'critical',
    title: 'Django DEBUG is on',
    why: 'The technical error pages expose settings, URL patterns, source code and local variables.',
    django: { setting: 'DEBUG', checkId: 'security.W018' },
    fix: 'DEBUG = False  # e.g. DEBUG = os.environ.get("DJANGO_DEBUG") == "1"',
  },
  'django.allowed-hosts': {
    severity: 'high',
    title: 'ALLOWED_HOSTS accepts any Host',
    why: 'Host header poisoning: password-reset links and absolute URLs can point at an attacker.',
    django: { setting: 'ALLOWED_HOSTS', checkId: 'security.W020' },
    fix: 'ALLOWED_HOSTS = ["shop.example.com"]',
  },
  'django.admin.default-path': {
    severity: 'low',
    title: 'Django admin at the default /admin/ path',
    why: 'Every bot tries /admin/ first: a default path invites credential stuffing.',
    django: { setting: 'admin.site.urls path' },
    fix: 'urlpatterns = [path("staff-7f3c/", admin.site.urls), ...]  # and protect it (2FA, IP allow-list)',
  },
  'exposure.file': {
    severity: 'critical',
    title: 'Secret file served publicly',
    why: 'Files such as .env and .git/ expose credentials and source code.',
    fix: 'nginx: location ~ /\\.(?!well-known) { deny all; }  and keep secrets outside the web root.',
  },
  'dns.caa.missing': {
    severity: 'low',
    title: 'No CAA record',
    why: 'Any certificate authority may issue certificates for the name.',
    fix: 'example.com. CAA 0 issue "letsencrypt.org"',
  },
  'dns.dnssec.missing': {
    severity: 'info',
    title: 'Zone not DNSSEC-signed',
    why: 'DNS answers for the zone can be forged on the path.',
    fix: 'Enable DNSSEC signing at your DNS provider and publish the DS record at the registrar.',
  },
  'email.spf.missing': {
    severity: 'medium',
    title: 'No SPF record',
    why: 'Anyone can send mail that claims to come from this domain.',
    fix: 'example.com. TXT "v=spf1 mx -all"',
  },
  'email.spf.permissive': {
    severity: 'high',
    title: 'SPF allows any sender',
    why: 'An SPF record ending in +all or ?all authorises (or does not reject) every server on the internet.',
    fix: 'End the SPF record with -all (or ~all while testing): "v=spf1 mx include:_spf.provider.com -all"',
  },
  'email.spf.too-many-lookups': {
    severity: 'medium',
    title: 'SPF needs more than 10 DNS lookups',
    why: 'Receivers stop at 10 lookups (RFC 7208) and treat the record as a permanent error.',
    fix: 'Flatten nested include: mechanisms or drop unused ones so the record needs at most 10 lookups.',
  },
  'email.dmarc.missing': {
    severity: 'medium',
    title: 'No DMARC record',
    why: 'Receivers get no policy for mail that fails SPF/DKIM, and you get no reports.',
    fix: '_dmarc.example.com. TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"',
  },
  'email.dmarc.none': {
    severity: 'low',
    title: 'DMARC policy is p=none',
    why: 'p=none only monitors: spoofed mail is still delivered.',
    fix: 'Move to p=quarantine, then p=reject, once reports show legitimate mail passes.',
  },
  'security-txt.missing': {
    severity: 'info',
    title: 'No security.txt',
    why: 'Researchers who find a vulnerability have no published way to reach you (RFC 9116).',
    fix: 'Serve /.well-known/security.txt with Contact: and Expires: fields.',
  },
} as const satisfies Record<string, CatalogueEntry>;

const entries = { ...scanEntries, ...auditEntries };

export type ScanFindingId = keyof typeof scanEntries;
export type FindingId = keyof typeof entries;

export const CATALOGUE: Readonly<Record<FindingId, CatalogueEntry>> = entries;

export const FINDING_IDS = Object.keys(entries) as FindingId[];

export function isFindingId(id: string): id is FindingId {
  return Object.hasOwn(entries, id);
}

/** Builds a finding from its catalogue entry; only what was seen is passed in. */
export function makeFinding(
  id: FindingId,
  seen: { detail?: string; evidence: string; severity?: Severity; fix?: string },
): Finding {
  const entry: CatalogueEntry = CATALOGUE[id];
  const finding: Finding = {
    id,
    severity: seen.severity ?? entry.severity,
    title: entry.title,
    detail: seen.detail ?? entry.why,
    evidence: seen.evidence,
    fix: seen.fix ?? entry.fix,
  };
  if (entry.django) finding.django = { ...entry.django };
  return finding;
}
