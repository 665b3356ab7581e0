/**
 * A fleet of fake sites on loopback for integration, scheduler, alert and e2e tests and benchmarks.
 *
 *   const fleet = await startFleet({ shop: SITE_PRESETS.hardened, blog: SITE_PRESETS.debug });
 *   // scan fleet.host('shop') with --dns fleet.dnsServer --allow-private, trusting fleet.caCertPem
 *   await fleet.reconfigure('shop', { behaviour: { debug: true } });
 *   await fleet.close();
 */
import { randomBytes, randomInt } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from './ca';
import { createCertificateAuthority } from './ca';
import { createSiteHandler } from './django-site';
import type { DnsServer, ZoneRecords } from './dns-server';
import { startDnsServer } from './dns-server';
import type { SiteDns, SiteSpec, SiteSpecPatch, TlsMode } from './presets';
import { applySitePatch } from './presets';

export type { SiteBehaviour } from './django-site';
export type { HttpMode, SiteDns, SitePresetName, SiteSpec, SiteSpecPatch, TlsMode } from './presets';
export { applySitePatch, SITE_PRESETS } from './presets';

export interface FleetOptions {
  /** The DNS zone the sites live in; default `<random>.vigil.test`. */
  zone?: string;
  /** The first /24 to try, as `127.X.Y` (default: random X in 16..250); a taken address moves on to a random block. */
  addressBlock?: string;
}

export interface Fleet {
  zone: string;
  /** `127.0.0.1:PORT` of the fleet's DNS server, for `--dns` / VIGIL_DNS_SERVERS. */
  dnsServer: string;
  dns: DnsServer;
  /** The trusted test CA: give it to scanners as an extra CA. */
  caCertPem: string;
  /** The same CA written to a file, for NODE_EXTRA_CA_CERTS of child processes. */
  caCertFile: string;
  /** `<name>.<zone>`. */
  host(name: string): string;
  /** The site's loopback address. */
  address(name: string): string;
  url(name: string, scheme?: 'https' | 'http'): string;
  /** The site's current configuration. */
  spec(name: string): SiteSpec;
  names(): string[];
  /** Switches a running site's behaviour, TLS, HTTP or DNS; listeners restart only when TLS/HTTP change. */
  reconfigure(name: string, patch: SiteSpecPatch): Promise<void>;
  addSite(name: string, spec: SiteSpec): Promise<void>;
  removeSite(name: string): Promise<void>;
  close(): Promise<void>;
}

interface RunningSite {
  name: string;
  host: string;
  address: string;
  spec: SiteSpec;
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Plain listeners on the site's address that hand connections to the fleet's shared servers. */
  httpListener: net.Server | null;
  httpsListener: net.Server | null;
  connections: Set<net.Socket>;
  dnsNames: string[];
}

const SITE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DAY_MS = 86_400_000;
const BIND_ATTEMPTS = 12;
/** A made-up ECDSA P-256 (algorithm 13) key-signing key: only its presence matters to the scanner. */
const DNSKEY = { flags: 257, algorithm: 13, key: randomBytes(64).toString('base64') };

let processCa: Promise<CertificateAuthority> | undefined;
let processUntrustedCa: Promise<CertificateAuthority> | undefined;

/** One trusted and one untrusted CA per process: every fleet in a test process shares them. */
function trustedCa(): Promise<CertificateAuthority> {
  processCa ??= createCertificateAuthority('Vigil Test CA');
  return processCa;
}

function untrustedCa(): Promise<CertificateAuthority> {
  processUntrustedCa ??= createCertificateAuthority('Untrusted Test CA');
  return processUntrustedCa;
}

/** Hands out loopback addresses from a random 127.X.Y.0/24 block, spilling into the next /24. */
class LoopbackAddresses {
  private x = 0;
  private y = 0;
  private next = 1;

  constructor(block?: string) {
    const match = block ? /^127\.(\d{1,3})\.(\d{1,3})$/.exec(block) : null;
    if (block && !match) throw new Error(`addressBlock "${block}" is not of the form 127.X.Y`);
    if (match) {
      this.x = Number(match[1]);
      this.y = Number(match[2]);
    } else {
      this.jump();
    }
  }

  /** Moves to a fresh random block, after a collision with another fleet or process. */
  jump(): void {
    this.x = randomInt(16, 251);
    this.y = randomInt(0, 256);
    this.next = 1;
  }

  take(): string {
    if (this.next > 254) {
      this.next = 1;
      this.y += 1;
      if (this.y > 255) this.jump();
    }
    return `127.${this.x}.${this.y}.${this.next++}`;
  }
}

function withHost(template: string, host: string): string {
  return template.replaceAll('{host}', host);
}

/** The zone records that make up one site's DNS. */
export function siteZoneRecords(host: string, address: string, dns: SiteDns): Record<string, ZoneRecords> {
  const main: ZoneRecords = {
    TXT: [...(dns.spf ? [withHost(dns.spf, host)] : []), 'vigil-fixture-verification=4b1f0c9e'],
  };
  if (dns.resolvable) main.A = [address];
  if (dns.caa) {
    main.CAA = [
      { flags: 0, tag: 'issue', value: 'letsencrypt.org' },
      { flags: 0, tag: 'iodef', value: `mailto:security@${host}` },
    ];
  }
  if (dns.dnssec) {
    main.DNSKEY = [DNSKEY];
    main.signed = true;
  }
  if (dns.fault) main.fault = dns.fault;
  const records: Record<string, ZoneRecords> = { [host]: main };
  if (dns.dmarc) records[`_dmarc.${host}`] = { TXT: [withHost(dns.dmarc, host)] };
  for (const [label, value] of Object.entries(dns.spfIncludes)) {
    records[`${label}.${host}`] = { TXT: [withHost(value, host)] };
  }
  return records;
}

function listen(server: net.Server, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ port, host: address }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeListener(listener: net.Server | null): Promise<void> {
  if (!listener?.listening) return Promise.resolve();
  return new Promise((resolve) => listener.close(() => resolve()));
}

function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

function validityFor(mode: TlsMode, now: number): { notBefore?: Date; notAfter?: Date } {
  const days = (count: number): Date => new Date(now + count * DAY_MS);
  if (mode === 'expiring-5d') return { notBefore: days(-85), notAfter: days(5) };
  if (mode === 'expiring-20d') return { notBefore: days(-70), notAfter: days(20) };
  if (mode === 'expired') return { notBefore: days(-91), notAfter: days(-1) };
  return {};
}

function tlsVersionsFor(mode: TlsMode): https.ServerOptions {
  if (mode === 'legacy-tls10') return { minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' };
  if (mode === 'no-tls13') return { maxVersion: 'TLSv1.2' };
  return {};
}

/**
 * Starts every site (HTTP on 80, HTTPS on 443, each on its own loopback address) and their DNS.
 * Sites share one HTTP server and one HTTPS server per TLS mode (so one certificate and TLS context
 * per mode): each site's own listeners only accept connections and hand them over.
 */
export async function startFleet(
  sites: Record<string, SiteSpec>,
  options: FleetOptions = {},
): Promise<Fleet> {
  const zone = (options.zone ?? `${randomBytes(4).toString('hex')}.vigil.test`).toLowerCase();
  const [ca, dns] = await Promise.all([
    trustedCa(),
    startDnsServer({
      [zone]: {
        SOA: { mname: `ns1.${zone}`, rname: `hostmaster.${zone}`, serial: 1, minimum: 300 },
        NS: [`ns1.${zone}`],
      },
    }),
  ]);
  const caCertFile = join(tmpdir(), `vigil-test-ca-${process.pid}-${randomBytes(4).toString('hex')}.pem`);
  await writeFile(caCertFile, ca.certPem);

  const addresses = new LoopbackAddresses(options.addressBlock);
  const running = new Map<string, RunningSite>();
  const byAddress = new Map<string, RunningSite>();

  const dispatch = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const site = byAddress.get(req.socket.localAddress ?? '');
    if (site) site.handle(req, res);
    else res.writeHead(421).end();
  };
  const httpServer = http.createServer(dispatch);
  const httpsServers = new Map<Exclude<TlsMode, 'none'>, Promise<https.Server>>();

  const httpsServerFor = (mode: Exclude<TlsMode, 'none'>): Promise<https.Server> => {
    let server = httpsServers.get(mode);
    if (!server) {
      server = (async () => {
        const dnsNames = mode === 'wrong-host' ? ['unrelated.example.net'] : [`*.${zone}`, zone];
        const issuer = mode === 'untrusted' ? await untrustedCa() : ca;
        const { certPem, keyPem } = await issuer.issue({ dnsNames, ...validityFor(mode, Date.now()) });
        return https.createServer({ cert: certPem, key: keyPem, ...tlsVersionsFor(mode) }, dispatch);
      })();
      httpsServers.set(mode, server);
    }
    return server;
  };

  /** A listener on the site's address that hands each connection to `target()`. */
  const forwarder = (site: RunningSite, target: () => net.Server | undefined): net.Server =>
    net.createServer((socket) => {
      const server = target();
      if (!server) return socket.destroy();
      site.connections.add(socket);
      socket.on('error', () => socket.destroy());
      socket.once('close', () => site.connections.delete(socket));
      server.emit('connection', socket);
    });

  /** Opens the site's listeners; both or neither, so a collision never leaves half a site. */
  const bind = async (site: RunningSite): Promise<void> => {
    const { tls, http: httpMode } = site.spec;
    const httpsServer = tls === 'none' ? undefined : await httpsServerFor(tls);
    const httpListener = httpMode === 'listen' ? forwarder(site, () => httpServer) : null;
    const httpsListener = httpsServer ? forwarder(site, () => httpsServer) : null;
    try {
      if (httpListener) await listen(httpListener, 80, site.address);
      if (httpsListener) await listen(httpsListener, 443, site.address);
    } catch (error) {
      await Promise.all([closeListener(httpListener), closeListener(httpsListener)]);
      throw error;
    }
    site.httpListener = httpListener;
    site.httpsListener = httpsListener;
  };

  const unbind = async (site: RunningSite): Promise<void> => {
    const closing = [closeListener(site.httpListener), closeListener(site.httpsListener)];
    for (const socket of site.connections) socket.destroy();
    site.httpListener = null;
    site.httpsListener = null;
    await Promise.all(closing);
  };

  const publishDns = (site: RunningSite): void => {
    for (const name of site.dnsNames) dns.deleteRecords(name);
    const records = siteZoneRecords(site.host, site.address, site.spec.dns);
    for (const [name, zoneRecords] of Object.entries(records)) dns.setRecords(name, zoneRecords);
    site.dnsNames = Object.keys(records);
  };

  const get = (name: string): RunningSite => {
    const site = running.get(name);
    if (!site) throw new Error(`No site "${name}" in this fleet`);
    return site;
  };

  const addSite = async (name: string, spec: SiteSpec): Promise<void> => {
    if (!SITE_NAME.test(name)) throw new Error(`Site name "${name}" is not a single lower-case DNS label`);
    if (running.has(name)) throw new Error(`Site "${name}" already exists`);
    const host = `${name}.${zone}`;
    const site: RunningSite = {
      name,
      host,
      address: '',
      spec: structuredClone(spec),
      handle: createSiteHandler(() => site.spec.behaviour, [host]),
      httpListener: null,
      httpsListener: null,
      connections: new Set(),
      dnsNames: [],
    };
    running.set(name, site);
    try {
      for (let attempt = 1; ; attempt++) {
        site.address = addresses.take();
        try {
          await bind(site);
          break;
        } catch (error) {
          if (!isAddressInUse(error) || attempt >= BIND_ATTEMPTS) throw error;
          addresses.jump();
        }
      }
    } catch (error) {
      running.delete(name);
      throw error;
    }
    byAddress.set(site.address, site);
    publishDns(site);
  };

  const removeSite = async (name: string): Promise<void> => {
    const site = get(name);
    running.delete(name);
    byAddress.delete(site.address);
    for (const dnsName of site.dnsNames) dns.deleteRecords(dnsName);
    await unbind(site);
  };

  const reconfigure = async (name: string, patch: SiteSpecPatch): Promise<void> => {
    const site = get(name);
    const before = site.spec;
    site.spec = structuredClone(applySitePatch(before, patch));
    if (site.spec.tls !== before.tls || site.spec.http !== before.http) {
      // Open connections would keep the old TLS mode: drop them and listen afresh.
      await unbind(site);
      await bind(site);
    }
    publishDns(site);
  };

  let closing: Promise<void> | undefined;
  const fleet: Fleet = {
    zone,
    dnsServer: dns.server,
    dns,
    caCertPem: ca.certPem,
    caCertFile,
    host: (name) => get(name).host,
    address: (name) => get(name).address,
    url: (name, scheme = 'https') => `${scheme}://${get(name).host}/`,
    spec: (name) => structuredClone(get(name).spec),
    names: () => [...running.keys()],
    reconfigure,
    addSite,
    removeSite,
    close: () => {
      closing ??= closeFleet();
      return closing;
    },
  };

  async function closeFleet(): Promise<void> {
    await Promise.all([...running.keys()].map(removeSite));
    httpServer.closeAllConnections();
    for (const server of await Promise.allSettled(httpsServers.values())) {
      if (server.status === 'fulfilled') server.value.closeAllConnections();
    }
    await dns.close();
    await rm(caCertFile, { force: true });
  }

  try {
    await Promise.all(Object.entries(sites).map(([name, spec]) => addSite(name, spec)));
  } catch (error) {
    await fleet.close();
    throw error;
  }
  return fleet;
}
