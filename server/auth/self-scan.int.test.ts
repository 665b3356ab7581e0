import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanTarget } from '../scan/scan';
import { parseTarget } from '../scan/target';
import type { ScanResult } from '../scan/types';
import { type RunningServer, startServer } from '../serve';
import { createCertificateAuthority } from '../testing/ca';
import { type DnsServer, startDnsServer } from '../testing/dns-server';
import { SITE_PRESETS, siteZoneRecords } from '../testing/fleet';

/**
 * Vigil grades itself: the real `vigil serve` (dashboard and API) behind a local TLS front, as it would
 * run behind nginx or a load balancer (VIGIL_TRUST_PROXY=1), scanned by Vigil's own engine. The front
 * adds nothing but TLS, the X-Forwarded-* headers and the plain-HTTP redirect: every security header
 * the scan sees comes from Vigil.
 */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

let vigil: RunningServer;
let dns: DnsServer;
let dataDir: string;
let front: { host: string; caPem: string; close(): Promise<void> };
let result: ScanResult;

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** HTTPS on 443 forwarding to Vigil, and HTTP on 80 redirecting to it, both on a fresh 127.x address. */
async function startTlsFront(host: string, upstream: URL) {
  const ca = await createCertificateAuthority('Vigil self-scan CA');
  const { certPem, keyPem } = await ca.issue({ dnsNames: [host] });
  const proxy = https.createServer({ cert: certPem, key: keyPem }, (request, response) => {
    const headers = { ...request.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const forwarded = http.request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: {
          ...headers,
          'x-forwarded-proto': 'https',
          'x-forwarded-host': request.headers.host ?? host,
          'x-forwarded-for': request.socket.remoteAddress ?? '',
        },
      },
      (answer) => {
        const answerHeaders = { ...answer.headers };
        for (const name of HOP_BY_HOP) delete answerHeaders[name];
        response.writeHead(answer.statusCode ?? 502, answerHeaders);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.writeHead(502).end());
    request.pipe(forwarded);
  });
  const redirect = http.createServer((request, response) => {
    response.writeHead(301, { location: `https://${host}${request.url ?? '/'}` }).end();
  });
  for (let attempt = 1; ; attempt++) {
    const address = `127.${randomInt(16, 251)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    try {
      await listen(proxy, 443, address);
      try {
        await listen(redirect, 80, address);
      } catch (error) {
        await close(proxy);
        throw error;
      }
      return {
        address,
        caPem: ca.certPem,
        close: async () => {
          proxy.closeAllConnections();
          redirect.closeAllConnections();
          await Promise.all([close(proxy), close(redirect)]);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 10) throw error;
    }
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-self-scan-'));
  // A dashboard build stands in for web/dist, so the test does not depend on `npm run build` having run.
  const dashboard = join(dataDir, 'dist');
  mkdirSync(join(dashboard, 'assets'), { recursive: true });
  writeFileSync(
    join(dashboard, 'index.html'),
    '<!doctype html><html lang="en"><head><title>Vigil</title><script type="module" src="/assets/index.js"></script></head><body><div id="root"></div></body></html>',
  );
  writeFileSync(join(dashboard, 'assets', 'index.js'), 'export {};');
  vigil = await startServer({
    port: 0,
    host: '127.0.0.1',
    storage: dataDir,
    dashboardDir: dashboard,
    tickCron: '0 0 0 1 1 *',
    trustProxy: true,
    shutdownGraceMs: 0,
    log: () => {},
  });

  if (!vigil.url) throw new Error('vigil serve answered without an HTTP address');
  const host = `vigil.${randomBytes(4).toString('hex')}.vigil.test`;
  const started = await startTlsFront(host, new URL(vigil.url));
  front = { host, caPem: started.caPem, close: started.close };
  // The DNS a well-kept host has (CAA, SPF, DMARC, DNSSEC), so the DNS checks judge Vigil's name fairly.
  dns = await startDnsServer(siteZoneRecords(host, started.address, SITE_PRESETS.hardened.dns));

  result = await scanTarget(parseTarget(host), {
    dnsServers: [dns.server],
    allowPrivate: true,
    extraCaPems: [front.caPem],
  });
});

afterAll(async () => {
  await front?.close();
  await dns?.close();
  await vigil?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Vigil scanned by Vigil', () => {
  it('grades A+ with no finding above info', () => {
    expect(result.status).toBe('ok');
    const aboveInfo = result.findings.filter((finding) => finding.severity !== 'info');
    expect(aboveInfo.map((finding) => `${finding.id}: ${finding.evidence ?? finding.detail}`)).toEqual([]);
    expect(result.grade).toBe('A+');
    expect(result.score).toBeGreaterThanOrEqual(100);
    expect(result.django.detected).toBe(false);
    // What keeps it from more: preload is the domain owner's call; security.txt is theirs to publish.
    expect(result.findings.map((finding) => finding.id).sort()).toEqual([
      'hsts.preload.missing',
      'security-txt.missing',
    ]);
  });

  it('passes the checks that matter for a dashboard holding a fleet’s weaknesses', () => {
    const status = Object.fromEntries(result.checks.map((check) => [check.id, check.status]));
    const checks = ['tls', 'tls-protocols', 'https-redirect', 'x-frame-options', 'x-content-type-options'];
    checks.push('referrer-policy', 'csp', 'coop', 'server-header', 'django-debug', 'exposure');
    for (const id of checks) expect(status[id], id).toBe('pass');
    // Only preload is missing from HSTS: two years with includeSubDomains.
    expect(result.checks.find((check) => check.id === 'hsts')?.detail).toBe('HSTS preload not requested');
  });
});
