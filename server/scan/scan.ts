import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { runChecks } from './checks';
import { gradeFor, scoreFindings } from './grade';
import { vetAddress } from './probe/address-guard';
import { createDnsClient, type DnsClient } from './probe/dns-client';
import { gatherDnsFacts, resolveAddresses } from './probe/dns-facts';
import { type AddressResolver, fetchPinned } from './probe/http-client';
import { probeTls } from './probe/tls-probe';
import { formatTarget, type Target } from './target';
import type { DnsFacts, HttpFetch, Lookup, ScanFacts, ScanResult, TlsFacts } from './types';

export interface ScanOptions {
  /** `host:port` DNS servers; empty uses the system resolvers. */
  dnsServers?: readonly string[];
  /** Loopback, RFC 1918, CGNAT and unique-local targets are refused unless allowed. */
  allowPrivate?: boolean;
  /** Extra trusted CA certificates (PEM): private fleets, test CAs. */
  extraCaPems?: readonly string[];
  /** Path of NODE_EXTRA_CA_CERTS, kept in the trust store when extra CAs are passed. */
  extraCaFile?: string;
  signal?: AbortSignal;
  /** Budget of the whole scan (SPEC.md: 30 s). */
  timeoutMs?: number;
  now?: () => Date;
}

export const SECRET_FILE_PATHS = ['/.env', '/.git/HEAD', '/.git/config'] as const;

const NO_FETCH: HttpFetch = { responses: [], error: 'not probed' };

function randomToken(): string {
  return randomBytes(6).toString('hex');
}

function pickAddress(addresses: readonly string[]): string | undefined {
  return addresses.find((address) => isIP(address) === 4) ?? addresses[0];
}

function vetAll(addresses: readonly string[], allowPrivate: boolean) {
  const vetted: string[] = [];
  const refusals: string[] = [];
  for (const address of addresses) {
    const verdict = vetAddress(address, { allowPrivate });
    if (verdict.ok) vetted.push(address);
    else refusals.push(verdict.reason);
  }
  return { vetted, refusals };
}

function redirectResolver(dns: DnsClient, allowPrivate: boolean, signal: AbortSignal): AddressResolver {
  return async (host) => {
    const addresses = isIP(host)
      ? ({ ok: true, value: [host] } as const)
      : await resolveAddresses(dns, host, signal);
    if (!addresses.ok) return { ok: false, error: addresses.error };
    if (addresses.value.length === 0) return { ok: false, error: `${host} does not resolve` };
    const { vetted, refusals } = vetAll(addresses.value, allowPrivate);
    const address = pickAddress(vetted);
    return address ? { ok: true, address } : { ok: false, error: refusals[0] ?? 'no usable address' };
  };
}

function authority(host: string, port: number, defaultPort: number): string {
  const name = host.includes(':') ? `[${host}]` : host;
  return port === defaultPort ? name : `${name}:${port}`;
}

/** Runs every network probe of one site concurrently, pinned to one vetted address. */
async function gatherFacts(
  target: Target,
  address: string,
  addresses: Lookup<string[]>,
  dns: DnsClient,
  options: ScanOptions,
  signal: AbortSignal,
  scannedAt: string,
): Promise<ScanFacts> {
  const allowPrivate = options.allowPrivate ?? false;
  const resolveAddress = redirectResolver(dns, allowPrivate, signal);
  const httpsOrigin = `https://${authority(target.host, target.httpsPort, 443)}`;
  const httpOrigin = `http://${authority(target.host, target.httpPort, 80)}`;
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 4 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 4 }),
  };
  const fetchHttps = (path: string, followRedirects: boolean, hostHeader?: string) =>
    fetchPinned({
      url: `${httpsOrigin}${path}`,
      address,
      followRedirects,
      resolveAddress,
      signal,
      agents,
      ...(hostHeader ? { hostHeader } : {}),
    });
  const notFoundPath = `/vigil-probe-${randomToken()}`;
  const foreignHost = `vigil-${randomToken()}.invalid`;
  const isName = isIP(target.host) === 0;
  const dnsFacts: Promise<DnsFacts> = isName
    ? gatherDnsFacts(dns, target.host, addresses, signal)
    : Promise.resolve({
        addresses,
        caa: { ok: false, error: 'IP literal: no DNS name' },
        dnssec: { ok: false, error: 'IP literal: no DNS name' },
        spf: { ok: false, error: 'IP literal: no DNS name' },
        dmarc: { ok: false, error: 'IP literal: no DNS name' },
      });

  const [dnsResult, tls, httpHome, httpsHome, notFound, foreignHostHome, admin, securityTxt, ...files] =
    await Promise.all([
      dnsFacts,
      probeTls(
        {
          host: target.host,
          address,
          port: target.httpsPort,
          signal,
          ...(options.extraCaPems ? { extraCaPems: options.extraCaPems } : {}),
        },
        options.extraCaFile,
      ),
      fetchPinned({ url: `${httpOrigin}/`, address, followRedirects: true, resolveAddress, signal, agents }),
      fetchHttps('/', true),
      fetchHttps(notFoundPath, false),
      fetchHttps('/', false, foreignHost),
      fetchHttps('/admin/', true),
      fetchHttps('/.well-known/security.txt', true),
      ...SECRET_FILE_PATHS.map((path) => fetchHttps(path, false)),
    ]).finally(() => {
      agents.http.destroy();
      agents.https.destroy();
    });
  return {
    host: target.host,
    httpsPort: target.httpsPort,
    scannedAt,
    dns: dnsResult,
    tls,
    httpHome,
    httpsHome,
    django: { notFoundPath, notFound, foreignHost, foreignHostHome, admin },
    files: Object.fromEntries(SECRET_FILE_PATHS.map((path, index) => [path, files[index] ?? NO_FETCH])),
    securityTxt,
  };
}

function unresolvableFacts(target: Target, dns: DnsFacts, scannedAt: string): ScanFacts {
  return {
    host: target.host,
    httpsPort: target.httpsPort,
    scannedAt,
    dns,
    tls: null,
    httpHome: NO_FETCH,
    httpsHome: NO_FETCH,
    django: {
      notFoundPath: '/',
      notFound: NO_FETCH,
      foreignHost: '',
      foreignHostHome: NO_FETCH,
      admin: NO_FETCH,
    },
    files: Object.fromEntries(SECRET_FILE_PATHS.map((path) => [path, NO_FETCH])),
    securityTxt: NO_FETCH,
  };
}

function tlsSummary(tls: TlsFacts | null, now: Date): ScanResult['tls'] {
  if (!tls?.handshake.ok) return null;
  const protocols = Object.entries(tls.protocols)
    .filter(([, accepted]) => accepted === true)
    .map(([version]) => version);
  const notAfter = tls.certificate?.validTo ?? null;
  return {
    protocols,
    notAfter,
    issuer: tls.certificate?.issuer ?? null,
    daysLeft: notAfter ? Math.floor((Date.parse(notAfter) - now.getTime()) / 86_400_000) : null,
  };
}

function answered(fetch: HttpFetch): boolean {
  return fetch.responses.length > 0;
}

/** Scans one site: probe → facts → checks → grade (SPEC.md). Never throws for network trouble. */
export async function scanTarget(target: Target, options: ScanOptions = {}): Promise<ScanResult> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const startedMs = performance.now();
  const scannedAt = started.toISOString();
  const budget = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  const signal = options.signal ? AbortSignal.any([options.signal, budget]) : budget;
  // Every probe of the scan listens on this one signal.
  setMaxListeners(100, signal);
  const base = {
    target: formatTarget(target),
    host: target.host,
    scannedAt,
    django: { detected: false, signals: [] },
    tls: null,
    findings: [],
    checks: [],
    grade: null,
    score: null,
  } satisfies Partial<ScanResult>;
  const finish = (result: Omit<ScanResult, 'durationMs'>): ScanResult => ({
    ...result,
    durationMs: Math.round(performance.now() - startedMs),
  });
  const failure = (error: string, addresses: string[] = []): ScanResult =>
    finish({ ...base, addresses, status: 'error', error });

  let dns: DnsClient;
  try {
    dns = createDnsClient(options.dnsServers?.length ? { servers: options.dnsServers } : {});
  } catch (error) {
    return failure(error instanceof Error ? error.message : String(error));
  }
  const addresses: Lookup<string[]> = isIP(target.host)
    ? { ok: true, value: [target.host] }
    : await resolveAddresses(dns, target.host, signal);
  if (!addresses.ok) return failure(`DNS lookup failed: ${addresses.error}`);

  let facts: ScanFacts;
  if (addresses.value.length === 0) {
    facts = unresolvableFacts(target, await gatherDnsFacts(dns, target.host, addresses, signal), scannedAt);
  } else {
    const { vetted, refusals } = vetAll(addresses.value, options.allowPrivate ?? false);
    const address = pickAddress(vetted);
    if (!address) return failure(`Refused to scan: ${refusals[0]}`, addresses.value);
    facts = await gatherFacts(target, address, addresses, dns, options, signal, scannedAt);
    const nothingAnswered =
      !facts.tls?.handshake.ok && !answered(facts.httpHome) && !answered(facts.httpsHome);
    if (nothingAnswered) {
      const detail = [facts.httpHome.error, facts.httpsHome.error].filter(Boolean).join('; ');
      return finish({ ...base, addresses: addresses.value, status: 'unreachable', error: detail });
    }
  }
  const outcome = runChecks(facts);
  const score = scoreFindings(outcome.findings, outcome.bonuses);
  return finish({
    ...base,
    addresses: addresses.value,
    status: 'ok',
    grade: gradeFor(score, outcome.findings),
    score,
    django: outcome.django,
    tls: tlsSummary(facts.tls, started),
    findings: outcome.findings,
    checks: outcome.checks,
  });
}
