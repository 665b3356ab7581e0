import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type AddressResolver, fetchPinned } from './http-client';

const servers: http.Server[] = [];

async function serve(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const refuseOthers: AddressResolver = async (host) => ({
  ok: false,
  error: `${host} is not allowed in this test`,
});

describe('fetchPinned', () => {
  it('connects to the pinned address and sends the name as Host', async () => {
    let seenHost = '';
    const port = await serve((req, res) => {
      seenHost = req.headers.host ?? '';
      res.end('hello');
    });
    const result = await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      followRedirects: false,
      resolveAddress: refuseOthers,
    });
    expect(result.error).toBeNull();
    expect(seenHost).toBe(`shop.example.test:${port}`);
    expect(result.responses[0]).toMatchObject({ status: 200, body: 'hello', address: '127.0.0.1' });
  });

  it('sends a foreign Host header when asked', async () => {
    let seenHost = '';
    const port = await serve((req, res) => {
      seenHost = req.headers.host ?? '';
      res.end();
    });
    await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      hostHeader: 'evil.invalid',
      followRedirects: false,
      resolveAddress: refuseOthers,
    });
    expect(seenHost).toBe('evil.invalid');
  });

  it('follows redirects on the same host and keeps every response', async () => {
    const port = await serve((req, res) => {
      if (req.url === '/') res.writeHead(301, { Location: '/next' }).end();
      else res.end('arrived');
    });
    const result = await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      followRedirects: true,
      resolveAddress: refuseOthers,
    });
    expect(result.responses.map((response) => response.status)).toEqual([301, 200]);
    expect(result.responses[1]?.body).toBe('arrived');
  });

  it('vets the address of a redirect to another host again', async () => {
    const port = await serve((_req, res) => {
      res.writeHead(302, { Location: 'http://metadata.internal.test/latest/' }).end();
    });
    const asked: string[] = [];
    const result = await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      followRedirects: true,
      resolveAddress: async (host) => {
        asked.push(host);
        return { ok: false, error: '169.254.169.254 is never scanned' };
      },
    });
    expect(asked).toEqual(['metadata.internal.test']);
    expect(result.responses).toHaveLength(1);
    expect(result.error).toContain('refused: 169.254.169.254 is never scanned');
  });

  it('stops after 5 redirects', async () => {
    let hits = 0;
    const port = await serve((_req, res) => {
      hits++;
      res.writeHead(302, { Location: `/loop-${hits}` }).end();
    });
    const result = await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      followRedirects: true,
      resolveAddress: refuseOthers,
    });
    expect(result.error).toBe('more than 5 redirects');
    expect(result.responses).toHaveLength(6);
    expect(hits).toBe(6);
  });

  it('caps an endless body at 1 MiB and stops reading', async () => {
    const port = await serve((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = () => {
        while (res.write(chunk)) {
          if (res.destroyed) return;
        }
        res.once('drain', pump);
      };
      res.on('error', () => {});
      pump();
    });
    const result = await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      followRedirects: false,
      resolveAddress: refuseOthers,
    });
    expect(result.error).toBeNull();
    expect(result.responses[0]?.bodyTruncated).toBe(true);
    expect(result.responses[0]?.body.length).toBe(1024 * 1024);
  });

  it('caps a gzip bomb after decompression', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const port = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' }).end(bomb);
    });
    const result = await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      followRedirects: false,
      resolveAddress: refuseOthers,
    });
    expect(result.responses[0]?.bodyTruncated).toBe(true);
    expect(result.responses[0]?.body.length).toBe(1024 * 1024);
  });

  it('gives up on a server that never answers', async () => {
    const port = await serve(() => {});
    const started = Date.now();
    const result = await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      followRedirects: false,
      resolveAddress: refuseOthers,
      limits: { requestTimeoutMs: 300 },
    });
    expect(result.responses).toHaveLength(0);
    expect(result.error).toContain('no complete answer within 0.3 s');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses response headers over 64 KiB', async () => {
    const port = await serve((_req, res) => {
      res.setHeader('X-Padding', 'x'.repeat(70 * 1024));
      res.end('ok');
    });
    const result = await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      followRedirects: false,
      resolveAddress: refuseOthers,
    });
    expect(result.responses).toHaveLength(0);
    expect(result.error).toContain('larger than 64 KiB');
  });

  it('reports a refused connection', async () => {
    const port = await serve(() => {});
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const result = await fetchPinned({
      url: `http://shop.example.test:${port}/`,
      address: '127.0.0.1',
      followRedirects: false,
      resolveAddress: refuseOthers,
    });
    expect(result.error).toContain('connection refused');
  });
});
