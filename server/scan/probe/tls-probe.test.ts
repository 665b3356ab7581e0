import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificateAuthority, createCertificateAuthority } from '../../testing/ca';
import { probeTls } from './tls-probe';

const DAY = 86_400_000;
let trusted: CertificateAuthority;
let untrusted: CertificateAuthority;
const servers: tls.Server[] = [];

async function serveTls(options: tls.TlsOptions): Promise<number> {
  const server = tls.createServer(options, (socket) => socket.end());
  server.on('tlsClientError', () => {});
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function siteCert(
  ca: CertificateAuthority,
  names: string[],
  notAfter = new Date(Date.now() + 90 * DAY),
) {
  const { certPem, keyPem } = await ca.issue({ dnsNames: names, notAfter });
  return { cert: certPem, key: keyPem };
}

beforeAll(async () => {
  trusted = await createCertificateAuthority('Vigil Probe Test CA');
  untrusted = await createCertificateAuthority('Somebody Else CA');
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('probeTls', () => {
  it('verifies chain and hostname with the extra CA and lists accepted versions', async () => {
    const port = await serveTls({ ...(await siteCert(trusted, ['shop.probe.test'])), minVersion: 'TLSv1.2' });
    const facts = await probeTls({
      host: 'shop.probe.test',
      address: '127.0.0.1',
      port,
      extraCaPems: [trusted.certPem],
    });
    expect(facts.handshake).toEqual({ ok: true, protocol: 'TLSv1.3' });
    expect(facts.chainTrusted).toBe(true);
    expect(facts.hostnameMatches).toBe(true);
    expect(facts.certificate?.subjectAltNames).toEqual(['DNS:shop.probe.test']);
    expect(facts.protocols).toEqual({ TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true });
  });

  it('reports an untrusted chain and a name mismatch', async () => {
    const port = await serveTls(await siteCert(untrusted, ['other.probe.test']));
    const facts = await probeTls({
      host: 'shop.probe.test',
      address: '127.0.0.1',
      port,
      extraCaPems: [trusted.certPem],
    });
    expect(facts.handshake.ok).toBe(true);
    expect(facts.chainTrusted).toBe(false);
    expect(facts.chainError).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
    expect(facts.hostnameMatches).toBe(false);
    expect(facts.hostnameError).toContain('shop.probe.test');
  });

  it('sees TLS 1.0 when the server accepts it, and no TLS 1.3 when capped', async () => {
    const port = await serveTls({
      ...(await siteCert(trusted, ['old.probe.test'])),
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.2',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    const facts = await probeTls({
      host: 'old.probe.test',
      address: '127.0.0.1',
      port,
      extraCaPems: [trusted.certPem],
    });
    expect(facts.protocols.TLSv1).toBe(true);
    expect(facts.protocols['TLSv1.2']).toBe(true);
    expect(facts.protocols['TLSv1.3']).toBe(false);
  });

  it('reports a refused port as a failed handshake', async () => {
    const port = await serveTls(await siteCert(trusted, ['gone.probe.test']));
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const facts = await probeTls({ host: 'gone.probe.test', address: '127.0.0.1', port });
    expect(facts.handshake).toEqual({ ok: false, error: 'connection refused' });
    expect(facts.certificate).toBeNull();
  });

  it('gives up on a server that accepts TCP but never speaks TLS', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const facts = await probeTls({ host: 'slow.probe.test', address: '127.0.0.1', port, timeoutMs: 300 });
    expect(facts.handshake).toEqual({ ok: false, error: expect.stringContaining('did not complete') });
    silent.close();
  });
});
