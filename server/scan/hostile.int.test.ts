import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificateAuthority, createCertificateAuthority } from '../testing/ca';
import { type DnsServer, startDnsServer } from '../testing/dns-server';
import { scanTarget } from './scan';
import type { Target } from './target';
import type { ScanResult } from './types';

/**
 * Hostile-target matrix: each server misbehaves on both its HTTP and HTTPS port. Every scan must end
 * within the SPEC's 30 s budget with a result (findings or check errors), never a hang or a throw.
 */
type RawHandler = (socket: net.Socket) => void;

const HTTP_OK_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n';
/** 128 MiB of zeros in about 128 KB. */
const GZIP_BOMB = gzipSync(Buffer.alloc(128 * 1024 * 1024));

function respondAfterRequest(socket: net.Socket, respond: () => void): void {
  let seen = '';
  socket.on('data', (chunk: Buffer) => {
    if (seen.includes('\r\n\r\n')) return;
    seen += chunk.toString('latin1');
    if (seen.includes('\r\n\r\n')) respond();
  });
  socket.on('error', () => {});
}

const behaviours: Record<string, RawHandler> = {
  silent: (socket) => socket.on('error', () => {}),
  slowloris: (socket) =>
    respondAfterRequest(socket, () => {
      socket.write(`${HTTP_OK_HEAD}X-Slow: `);
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('a')), 1_000);
      socket.on('close', () => clearInterval(timer));
    }),
  'endless-body': (socket) =>
    respondAfterRequest(socket, () => {
      socket.write(`${HTTP_OK_HEAD}\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk)) {}
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
    }),
  'gzip-bomb': (socket) =>
    respondAfterRequest(socket, () => {
      const head = `${HTTP_OK_HEAD}Content-Encoding: gzip\r\nContent-Length: ${GZIP_BOMB.length}\r\n\r\n`;
      socket.end(Buffer.concat([Buffer.from(head), GZIP_BOMB]));
    }),
  'redirect-loop': (socket) =>
    respondAfterRequest(socket, () =>
      socket.end('HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n'),
    ),
  'redirect-metadata': (socket) =>
    respondAfterRequest(socket, () =>
      socket.end(
        'HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n',
      ),
    ),
  malformed: (socket) =>
    respondAfterRequest(socket, () => socket.end('SURPRISE NOT HTTP AT ALL\r\n\r\n\u0000\u0001')),
  'huge-headers': (socket) =>
    respondAfterRequest(socket, () =>
      socket.end(`${HTTP_OK_HEAD}X-Big: ${'h'.repeat(1024 * 1024)}\r\n\r\nbody`),
    ),
  'cookie-flood': (socket) =>
    respondAfterRequest(socket, () => {
      const cookies = Array.from({ length: 10_000 }, (_, index) => `Set-Cookie: c${index}=v\r\n`).join('');
      socket.end(`${HTTP_OK_HEAD}${cookies}Content-Length: 2\r\n\r\nok`);
    }),
  'reset-early': (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.resetAndDestroy());
  },
  'garbage-tls': (socket) => {
    socket.on('error', () => {});
    socket.once('data', () =>
      socket.end(Buffer.from('\u0016\u0003\u0001\u00ff\u00ffgarbage-garbage-garbage')),
    );
  },
};

/** Behaviours that act below TLS (raw bytes on 443) rather than inside a TLS session. */
const RAW_ON_TLS_PORT = new Set(['reset-early', 'garbage-tls', 'silent']);

let ca: CertificateAuthority;
let dns: DnsServer;
const listeners: net.Server[] = [];
const targets: Record<string, Target> = {};

async function listen(server: net.Server): Promise<number> {
  listeners.push(server);
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  ca = await createCertificateAuthority('Vigil Hostile CA');
  dns = await startDnsServer({
    'dns-timeout.hostile.test': { fault: 'timeout' },
    'dns-servfail.hostile.test': { fault: 'servfail' },
  });
  for (const [name, handler] of Object.entries(behaviours)) {
    const host = `${name}.hostile.test`;
    const { certPem, keyPem } = await ca.issue({ dnsNames: [host] });
    const httpPort = await listen(net.createServer(handler));
    const httpsServer = RAW_ON_TLS_PORT.has(name)
      ? net.createServer(handler)
      : tls.createServer({ cert: certPem, key: keyPem }, handler);
    httpsServer.on('tlsClientError', () => {});
    const httpsPort = await listen(httpsServer);
    dns.setRecords(host, {
      A: ['127.0.0.1'],
      TXT: name === 'cookie-flood' ? Array.from({ length: 1_000 }, (_, index) => `txt-record-${index}`) : [],
    });
    targets[name] = { input: host, host, httpPort, httpsPort };
  }
  for (const name of ['dns-timeout', 'dns-servfail']) {
    const host = `${name}.hostile.test`;
    targets[name] = { input: host, host, httpPort: 80, httpsPort: 443 };
  }
});

afterAll(async () => {
  for (const server of listeners) {
    if ('closeAllConnections' in server)
      (server as unknown as { closeAllConnections(): void }).closeAllConnections();
    server.close();
  }
  await dns.close();
});

function checkStatus(result: ScanResult, id: string): string | undefined {
  return result.checks.find((check) => check.id === id)?.status;
}

describe('hostile targets', () => {
  it('every scan ends within its budget with a result, memory stays bounded', {
    timeout: 90_000,
  }, async () => {
    const rssBefore = process.memoryUsage().rss;
    const rows = await Promise.all(
      Object.entries(targets).map(async ([name, target]) => {
        const started = performance.now();
        const result = await scanTarget(target, {
          dnsServers: [dns.server],
          allowPrivate: true,
          extraCaPems: [ca.certPem],
        });
        return { name, ms: Math.round(performance.now() - started), result };
      }),
    );
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    const table = rows.map(({ name, ms, result }) => ({
      target: name,
      status: result.status,
      grade: result.grade,
      ms,
      errors: result.checks.filter((check) => check.status === 'error').length,
      note: (result.error ?? result.checks.find((check) => check.status === 'error')?.detail ?? '').slice(
        0,
        70,
      ),
    }));
    console.table(table);
    console.log(`RSS growth over the matrix: ${rssGrowthMb.toFixed(1)} MB`);

    for (const { name, ms, result } of rows) {
      expect(ms, name).toBeLessThan(31_000);
      expect(['ok', 'unreachable', 'error'], name).toContain(result.status);
    }
    expect(rssGrowthMb).toBeLessThan(300);
    const byName = Object.fromEntries(rows.map((row) => [row.name, row.result]));
    expect(byName['dns-timeout']?.status).toBe('error');
    expect(byName['dns-timeout']?.error).toContain('DNS lookup failed');
    expect(byName['dns-servfail']?.error).toContain('SERVFAIL');
    expect(byName.silent?.status).toBe('unreachable');
    expect(byName['reset-early']?.status).toBe('unreachable');
    // A 128 MiB gzip bomb and an endless body are read up to the cap and graded like any page.
    expect(byName['gzip-bomb']?.status).toBe('ok');
    expect(byName['endless-body']?.status).toBe('ok');
    // The redirect to the metadata address is refused, never followed.
    expect(byName['redirect-metadata']?.status).toBe('ok');
    expect(checkStatus(byName['redirect-metadata']!, 'https-redirect')).not.toBe('pass');
    expect(byName['garbage-tls']?.status).toBe('unreachable');
  });

  it('resolves each name once: no second lookup for a rebinding answer to exploit', async () => {
    const target = targets['redirect-loop']!;
    const before = dns.queries().filter((query) => query.name === target.host && query.type === 'A').length;
    await scanTarget(target, { dnsServers: [dns.server], allowPrivate: true, extraCaPems: [ca.certPem] });
    const after = dns.queries().filter((query) => query.name === target.host && query.type === 'A').length;
    // One A query for the address and one with the DO bit for DNSSEC: never one per connection.
    expect(after - before).toBeLessThanOrEqual(2);
  });
});
