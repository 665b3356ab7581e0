import { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerAddresses, queryDns, txtStrings } from './dns-client';
import type { Fleet } from './fleet';
import { SITE_PRESETS, startFleet } from './fleet';

const PRODUCTION_400 =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n';
const PRODUCTION_404_HEADING =
  '<h1>Not Found</h1><p>The requested resource was not found on this server.</p>';
const TLS10_ONLY = { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({
    hardened: SITE_PRESETS.hardened,
    debug: SITE_PRESETS.debug,
    wildcard: SITE_PRESETS['allowed-hosts-wildcard'],
    expiring: SITE_PRESETS['cert-expiring-soon'],
    expired: SITE_PRESETS['cert-expired'],
    untrusted: SITE_PRESETS['cert-untrusted'],
    'wrong-host': SITE_PRESETS['cert-wrong-host'],
    legacy: SITE_PRESETS['legacy-tls'],
    'no-tls13': SITE_PRESETS['no-tls13'],
    'https-down': SITE_PRESETS['https-down'],
    offline: SITE_PRESETS.offline,
    unresolvable: SITE_PRESETS.unresolvable,
    'dns-weak': SITE_PRESETS['dns-weak'],
    'spf-chain': SITE_PRESETS['spf-too-many-lookups'],
    switching: SITE_PRESETS.hardened,
  });
});

afterAll(async () => {
  await fleet?.close();
});

interface Handshake {
  protocol: string | null;
  authorized: boolean;
  authorizationError: string | null;
  certificate: X509Certificate | undefined;
}

/** A raw TLS handshake with the site's address, SNI set to its name; rejects when it fails. */
function handshake(site: string, options: tls.ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: fleet.address(site),
      port: 443,
      servername: fleet.host(site),
      ca: fleet.caCertPem,
      timeout: 3_000,
      ...options,
    });
    socket.once('secureConnect', () => {
      resolve({
        protocol: socket.getProtocol(),
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
        certificate: socket.getPeerX509Certificate(),
      });
      socket.destroy();
    });
    socket.once('timeout', () => socket.destroy(new Error('handshake timed out')));
    socket.once('error', reject);
  });
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One raw request to the site's address with Host (and SNI) set, no redirects followed. */
function request(
  site: string,
  options: { scheme?: 'http' | 'https'; path?: string; host?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const scheme = options.scheme ?? 'https';
  const client = scheme === 'https' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = client.request(
      {
        host: fleet.address(site),
        port: scheme === 'https' ? 443 : 80,
        path: options.path ?? '/',
        servername: fleet.host(site),
        ca: fleet.caCertPem,
        agent: false,
        timeout: 3_000,
        headers: { host: options.host ?? fleet.host(site), ...options.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    outgoing.once('timeout', () => outgoing.destroy(new Error('request timed out')));
    outgoing.once('error', reject);
    outgoing.end();
  });
}

describe('fleet addresses and DNS', () => {
  it('gives every site its own loopback address and publishes it in its zone', async () => {
    const addresses = fleet.names().map((name) => fleet.address(name));
    expect(new Set(addresses).size).toBe(addresses.length);
    for (const address of addresses) {
      const [, x] = /^127\.(\d+)\.\d+\.\d+$/.exec(address) ?? [];
      expect(Number(x)).toBeGreaterThanOrEqual(16);
      expect(Number(x)).toBeLessThanOrEqual(250);
    }
    expect(fleet.zone).toMatch(/^[0-9a-f]{8}\.vigil\.test$/);
    expect(fleet.host('hardened')).toBe(`hardened.${fleet.zone}`);
    expect(fleet.dnsServer).toMatch(/^127\.0\.0\.1:\d+$/);

    const answer = await queryDns({ server: fleet.dnsServer, name: fleet.host('hardened'), type: 'A' });
    expect(answerAddresses(answer)).toEqual([fleet.address('hardened')]);
  });

  it('publishes CAA, a signed zone, SPF -all and DMARC p=reject for a hardened site', async () => {
    const server = fleet.dnsServer;
    const host = fleet.host('hardened');
    const caa = await queryDns({ server, name: host, type: 'CAA' });
    expect(caa.answers?.length).toBeGreaterThan(0);
    const dnskey = await queryDns({ server, name: host, type: 'DNSKEY' });
    expect(dnskey.answers?.[0]?.type).toBe('DNSKEY');
    expect(dnskey.flag_ad).toBe(true);
    const spf = txtStrings(await queryDns({ server, name: host, type: 'TXT' })).filter((txt) =>
      txt.startsWith('v=spf1'),
    );
    expect(spf).toEqual(['v=spf1 ip4:192.0.2.25 -all']);
    const dmarc = txtStrings(await queryDns({ server, name: `_dmarc.${host}`, type: 'TXT' }));
    expect(dmarc).toEqual([`v=DMARC1; p=reject; rua=mailto:dmarc-reports@${host}`]);
  });

  it('leaves out CAA, DNSSEC, SPF and DMARC for dns-weak, and the A record for unresolvable', async () => {
    const server = fleet.dnsServer;
    const host = fleet.host('dns-weak');
    expect((await queryDns({ server, name: host, type: 'CAA' })).answers).toEqual([]);
    const dnskey = await queryDns({ server, name: host, type: 'DNSKEY' });
    expect(dnskey.answers).toEqual([]);
    expect(dnskey.flag_ad).toBe(false);
    const txt = txtStrings(await queryDns({ server, name: host, type: 'TXT' }));
    expect(txt.some((record) => record.startsWith('v=spf1'))).toBe(false);
    expect((await queryDns({ server, name: `_dmarc.${host}`, type: 'TXT' })).rcode).toBe('NXDOMAIN');
    // The zone apex carries no CAA either, so "on the name or its parents" finds none.
    expect((await queryDns({ server, name: fleet.zone, type: 'CAA' })).answers).toEqual([]);

    const unresolvable = await queryDns({ server, name: fleet.host('unresolvable'), type: 'A' });
    expect(unresolvable.rcode).toBe('NOERROR');
    expect(unresolvable.answers).toEqual([]);
  });

  it('chains SPF includes to more than 10 DNS lookups for spf-too-many-lookups', async () => {
    const countLookups = async (name: string): Promise<number> => {
      const txt = txtStrings(await queryDns({ server: fleet.dnsServer, name, type: 'TXT' }));
      const spf = txt.find((record) => record.startsWith('v=spf1')) ?? '';
      let lookups = 0;
      for (const term of spf.split(' ').slice(1)) {
        const mechanism = term.replace(/^[+?~-]/, '');
        if (mechanism.startsWith('include:')) lookups += 1 + (await countLookups(mechanism.slice(8)));
        else if (/^(a|mx|ptr|exists)(:|\/|$)/.test(mechanism)) lookups += 1;
      }
      return lookups;
    };
    expect(await countLookups(fleet.host('spf-chain'))).toBe(12);
    expect(await countLookups(fleet.host('hardened'))).toBe(0);
  });
});

describe('fleet TLS', () => {
  it("verifies the valid site's chain and name with the test CA, over TLS 1.3", async () => {
    const valid = await handshake('hardened');
    expect(valid.authorized).toBe(true);
    expect(valid.protocol).toBe('TLSv1.3');
    expect(
      tls.checkServerIdentity(fleet.host('hardened'), valid.certificate!.toLegacyObject()),
    ).toBeUndefined();
    const daysLeft = (Date.parse(valid.certificate!.validTo) - Date.now()) / 86_400_000;
    expect(daysLeft).toBeGreaterThan(60);
  });

  it('is not trusted without the test CA', async () => {
    await expect(handshake('hardened', { ca: undefined })).rejects.toThrow(/unable to verify/i);
  });

  it('fails verification on the untrusted, expired and wrong-host sites', async () => {
    await expect(handshake('untrusted')).rejects.toThrow(/unable to verify the first certificate/);
    await expect(handshake('expired')).rejects.toThrow(/certificate has expired/);
    await expect(handshake('wrong-host')).rejects.toThrow(/does not match certificate's altnames/);

    const untrusted = await handshake('untrusted', { rejectUnauthorized: false });
    expect(untrusted.authorizationError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const expired = await handshake('expired', { rejectUnauthorized: false });
    expect(expired.authorizationError).toBe('CERT_HAS_EXPIRED');
    // The wrong-host chain itself is fine: only the name is wrong.
    const wrongHost = await handshake('wrong-host', { rejectUnauthorized: false });
    expect(wrongHost.authorizationError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(wrongHost.certificate?.checkIssued(new X509Certificate(fleet.caCertPem))).toBe(true);
    expect(wrongHost.certificate?.subjectAltName).toBe('DNS:unrelated.example.net');
  });

  it('serves a certificate that expires within a week on the expiring site', async () => {
    const expiring = await handshake('expiring');
    expect(expiring.authorized).toBe(true);
    const daysLeft = (Date.parse(expiring.certificate!.validTo) - Date.now()) / 86_400_000;
    expect(daysLeft).toBeGreaterThan(4);
    expect(daysLeft).toBeLessThanOrEqual(5);
  });

  it('completes a TLS 1.0-only handshake with legacy-tls10 and refuses it on a valid site', async () => {
    const legacy = await handshake('legacy', TLS10_ONLY);
    expect(legacy.protocol).toBe('TLSv1');
    expect(legacy.authorized).toBe(true);
    const tls11 = await handshake('legacy', { ...TLS10_ONLY, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' });
    expect(tls11.protocol).toBe('TLSv1.1');
    expect((await handshake('legacy')).protocol).toBe('TLSv1.3');
    await expect(handshake('hardened', TLS10_ONLY)).rejects.toThrow(/protocol version|handshake failure/i);
  });

  it('offers at most TLS 1.2 on no-tls13', async () => {
    expect((await handshake('no-tls13')).protocol).toBe('TLSv1.2');
    await expect(handshake('no-tls13', { minVersion: 'TLSv1.3' })).rejects.toThrow(/protocol version/i);
  });

  it('has nothing on 443 for https-down while HTTP still answers, and nothing at all when offline', async () => {
    await expect(handshake('https-down')).rejects.toThrow(/ECONNREFUSED/);
    const plain = await request('https-down', { scheme: 'http' });
    expect(plain.status).toBe(301);
    await expect(request('offline', { scheme: 'http' })).rejects.toThrow(/ECONNREFUSED/);
    await expect(handshake('offline')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('fleet HTTP', () => {
  it("answers a foreign Host with Django's 400, and normally on the wildcard site", async () => {
    const refused = await request('hardened', { host: 'attacker.example' });
    expect(refused.status).toBe(400);
    expect(refused.body.toString()).toBe(PRODUCTION_400);
    const wildcard = await request('wildcard', { host: 'attacker.example' });
    expect(wildcard.status).toBe(200);
    expect(wildcard.body.toString()).toContain('csrfmiddlewaretoken');
  });

  it("serves DEBUG's technical 404 on the debug site only", async () => {
    const debug = await request('debug', { path: '/vigil-probe-58213/' });
    expect(debug.status).toBe(404);
    expect(debug.body.toString()).toContain(
      'You’re seeing this error because you have <code>DEBUG = True</code>',
    );
    const production = await request('hardened', { path: '/vigil-probe-58213/' });
    expect(production.body.toString()).toContain(PRODUCTION_404_HEADING);
  });

  it('redirects plain HTTP to HTTPS and sends HSTS and Django cookies over HTTPS', async () => {
    const plain = await request('hardened', { scheme: 'http', path: '/cart/?id=3' });
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe(`https://${fleet.host('hardened')}/cart/?id=3`);
    const secure = await request('hardened');
    expect(secure.status).toBe(200);
    expect(secure.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains; preload');
    expect(secure.headers['set-cookie']).toHaveLength(2);
    expect(secure.headers['set-cookie']?.[1]).toMatch(/^sessionid=\w+; .*HttpOnly.*; Secure$/);
  });

  it('gzips the body when the client accepts gzip', async () => {
    const zipped = await request('hardened', { headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(Number(zipped.headers['content-length'])).toBe(zipped.body.length);
    expect(gunzipSync(zipped.body).toString()).toContain('csrfmiddlewaretoken');
    const plain = await request('hardened');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toContain('csrfmiddlewaretoken');
  });
});

describe('fleet at run time', () => {
  it('switches a site hardened → DEBUG on → back', async () => {
    const path = '/vigil-probe-7731/';
    expect((await request('switching', { path })).body.toString()).toContain(PRODUCTION_404_HEADING);
    await fleet.reconfigure('switching', { behaviour: { debug: true } });
    expect((await request('switching', { path })).body.toString()).toContain('Page not found');
    await fleet.reconfigure('switching', { behaviour: { debug: false } });
    expect((await request('switching', { path })).body.toString()).toContain(PRODUCTION_404_HEADING);
    expect(fleet.spec('switching')).toEqual(SITE_PRESETS.hardened);
  });

  it('switches TLS and DNS at run time', async () => {
    await fleet.reconfigure('switching', { tls: 'expired', dns: { resolvable: false } });
    await expect(handshake('switching')).rejects.toThrow(/certificate has expired/);
    const gone = await queryDns({ server: fleet.dnsServer, name: fleet.host('switching'), type: 'A' });
    expect(gone.answers).toEqual([]);

    await fleet.reconfigure('switching', SITE_PRESETS.hardened);
    expect((await handshake('switching')).authorized).toBe(true);
    const back = await queryDns({ server: fleet.dnsServer, name: fleet.host('switching'), type: 'A' });
    expect(answerAddresses(back)).toEqual([fleet.address('switching')]);
  });

  it('adds and removes sites', async () => {
    await fleet.addSite('late', SITE_PRESETS['default-admin']);
    const admin = await request('late', { path: '/admin/' });
    expect(admin.status).toBe(302);
    expect(admin.headers.location).toBe('/admin/login/?next=/admin/');
    const address = fleet.address('late');

    await fleet.removeSite('late');
    expect(fleet.names()).not.toContain('late');
    const removed = await queryDns({ server: fleet.dnsServer, name: `late.${fleet.zone}`, type: 'A' });
    expect(removed.rcode).toBe('NXDOMAIN');
    const refused = new Promise((resolve, reject) => {
      const socket = tls.connect({ host: address, port: 443, rejectUnauthorized: false });
      socket.once('secureConnect', () => reject(new Error('still listening')));
      socket.once('error', resolve);
    });
    await expect(refused).resolves.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('moves to another address block when its addresses are taken', async () => {
    const taken = fleet.address('hardened');
    const block = taken.split('.').slice(0, 3).join('.');
    const second = await startFleet({ first: SITE_PRESETS.hardened }, { addressBlock: block });
    try {
      expect(second.address('first')).not.toBe(taken);
      expect((await handshake('hardened')).authorized).toBe(true);
      const answer = await queryDns({ server: second.dnsServer, name: second.host('first'), type: 'A' });
      expect(answerAddresses(answer)).toEqual([second.address('first')]);
    } finally {
      await second.close();
    }
  });
});

describe('fleet at scale', () => {
  it('starts 1000 sites, spilling over several /24 blocks, and every one answers', async () => {
    const presets = Object.values(SITE_PRESETS).filter(
      (spec) => spec.tls !== 'none' && spec.http === 'listen',
    );
    const sites = Object.fromEntries(
      Array.from({ length: 1000 }, (_, index) => [`site-${index}`, presets[index % presets.length]!]),
    );
    const started = performance.now();
    const big = await startFleet(sites);
    const startMs = performance.now() - started;
    try {
      expect(startMs).toBeLessThan(5_000);
      const blocks = new Set(big.names().map((name) => big.address(name).split('.').slice(0, 3).join('.')));
      expect(blocks.size).toBeGreaterThanOrEqual(4);
      const statuses = await Promise.all(
        big.names().map(
          (name) =>
            new Promise<number>((resolve, reject) => {
              http
                .get(
                  { host: big.address(name), port: 80, headers: { host: big.host(name) }, agent: false },
                  (res) => {
                    res.resume();
                    resolve(res.statusCode ?? 0);
                  },
                )
                .once('error', reject);
            }),
        ),
      );
      expect(statuses.every((status) => status === 301 || status === 200)).toBe(true);
    } finally {
      await big.close();
    }
  });
});
