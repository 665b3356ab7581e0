import type { FindingId } from './catalogue';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rank for comparisons: higher is worse. */
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export interface Finding {
  id: FindingId;
  severity: Severity;
  title: string;
  detail: string;
  evidence: string;
  django?: { setting?: string; checkId?: string };
  fix: string;
}

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'error';

export interface CheckResult {
  id: string;
  status: CheckStatus;
  detail: string;
}

/** A lookup that can fail (timeout, SERVFAIL): checks report `error` instead of guessing. */
export type Lookup<T> = { ok: true; value: T } | { ok: false; error: string };

// ---- Facts gathered by the probes; checks read nothing else. ----

export interface HttpResponseFacts {
  url: string;
  status: number;
  /** Lower-case header names to every value received (Set-Cookie keeps each line). */
  headers: Record<string, string[]>;
  /** Decoded body text, cut at the body cap. */
  body: string;
  bodyTruncated: boolean;
  address: string;
}

/** One request with its redirects: every response in order; `error` when a hop failed. */
export interface HttpFetch {
  responses: HttpResponseFacts[];
  error: string | null;
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface CertificateFacts {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  subjectAltNames: string[];
  fingerprint256: string;
}

export interface TlsFacts {
  /** Whether a handshake with default settings completed; `error` says why not. */
  handshake: { ok: true; protocol: string } | { ok: false; error: string };
  certificate: CertificateFacts | null;
  /** Chain verification against the trust store (NODE_EXTRA_CA_CERTS and configured extra CAs included). */
  chainTrusted: boolean;
  chainError: string | null;
  hostnameMatches: boolean;
  hostnameError: string | null;
  /** true = accepted, false = refused, null = could not be tested (e.g. the local OpenSSL lacks it). */
  protocols: Record<TlsVersion, boolean | null>;
}

export interface CaaRecord {
  flags: number;
  tag: string;
  value: string;
}

export interface SpfFacts {
  /** `v=spf1` TXT strings found at the name itself. */
  records: string[];
  /** TXT strings of every domain reached through include:/redirect=, by domain (null: lookup failed). */
  referenced: Record<string, string[] | null>;
}

export interface DmarcFacts {
  /** The domain whose `_dmarc` record was found (the name or its organisational domain), or null. */
  domain: string | null;
  records: string[];
}

export interface DnsFacts {
  addresses: Lookup<string[]>;
  caa: Lookup<{ domain: string | null; records: CaaRecord[] }>;
  dnssec: Lookup<boolean>;
  spf: Lookup<SpfFacts>;
  dmarc: Lookup<DmarcFacts>;
}

export interface DjangoProbeFacts {
  /** A random path that cannot exist on the site, fetched over HTTPS without following redirects. */
  notFoundPath: string;
  notFound: HttpFetch;
  /** The home page asked for with a random foreign Host header. */
  foreignHost: string;
  foreignHostHome: HttpFetch;
  /** `/admin/` followed through redirects. */
  admin: HttpFetch;
}

export interface ScanFacts {
  host: string;
  /** Port HTTPS is probed on (443 unless the target says otherwise). */
  httpsPort: number;
  scannedAt: string;
  dns: DnsFacts;
  /** null when there was nothing to connect to. */
  tls: TlsFacts | null;
  /** `http://host/` following redirects. */
  httpHome: HttpFetch;
  /** `https://host/` following redirects. */
  httpsHome: HttpFetch;
  django: DjangoProbeFacts;
  /** Secret files by path (`/.env`, `/.git/HEAD`, `/.git/config`), no redirects followed. */
  files: Record<string, HttpFetch>;
  securityTxt: HttpFetch;
}

export interface DjangoDetection {
  detected: boolean;
  signals: string[];
}

export interface CheckContext {
  django: DjangoDetection;
}

export type BonusId = 'hsts-preload-ready' | 'csp-strict' | 'coop' | 'security-txt';

export interface CheckOutcome {
  status: CheckStatus;
  detail: string;
  findings: Finding[];
  bonuses?: BonusId[];
}

export interface Check {
  id: string;
  run(facts: ScanFacts, context: CheckContext): CheckOutcome;
}

// ---- The scan result: SPEC.md "Scan JSON". ----

export type Grade = 'A+' | 'A' | 'A-' | 'B+' | 'B' | 'B-' | 'C+' | 'C' | 'C-' | 'D+' | 'D' | 'D-' | 'F';

export interface ScanResult {
  target: string;
  host: string;
  addresses: string[];
  scannedAt: string;
  durationMs: number;
  status: 'ok' | 'unreachable' | 'error';
  error?: string;
  grade: Grade | null;
  score: number | null;
  django: DjangoDetection;
  tls: {
    protocols: string[];
    notAfter: string | null;
    issuer: string | null;
    daysLeft: number | null;
  } | null;
  findings: Finding[];
  checks: CheckResult[];
}
