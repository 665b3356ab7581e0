import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerAddresses, queryDns, txtStrings } from './dns-client';
import type { DnsServer } from './dns-server';
import { startDnsServer } from './dns-server';

const ZONE = 'fixture.vigil.test';
const LONG_SPF = `v=spf1 ${Array.from({ length: 30 }, (_, index) => `ip4:192.0.2.${index}`).join(' ')} -all`;

let dns: DnsServer;

beforeAll(async () => {
  dns = await startDnsServer({
    [ZONE]: { SOA: { mname: `ns1.${ZONE}`, rname: `hostmaster.${ZONE}`, serial: 1, minimum: 300 } },
    [`shop.${ZONE}`]: {
      A: ['127.20.0.1'],
      TXT: ['v=spf1 -all', ['google-site-verification=', 'abc123']],
      CAA: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }],
    },
    [`signed.${ZONE}`]: {
      A: ['127.20.0.2'],
      DNSKEY: [{ flags: 257, algorithm: 13, key: Buffer.alloc(64, 7).toString('base64') }],
      signed: true,
    },
    [`_dmarc.signed.${ZONE}`]: { TXT: ['v=DMARC1; p=reject'] },
    [`long.${ZONE}`]: { TXT: [LONG_SPF] },
    [`big.${ZONE}`]: {
      TXT: Array.from({ length: 12 }, (_, index) => `record-${index}-${'x'.repeat(60)}`),
    },
    [`slow.${ZONE}`]: { A: ['127.20.0.3'], fault: 'timeout' },
    [`broken.${ZONE}`]: { A: ['127.20.0.4'], fault: 'servfail' },
  });
});

afterAll(async () => {
  await dns.close();
});

describe('fixture DNS server', () => {
  it('listens on 127.0.0.1 with UDP and TCP on the same port', () => {
    expect(dns.address).toBe('127.0.0.1');
    expect(dns.server).toBe(`127.0.0.1:${dns.port}`);
  });

  it.each(['udp', 'tcp'] as const)('answers A, TXT and CAA over %s', async (transport) => {
    const server = dns.server;
    const a = await queryDns({ server, name: `shop.${ZONE}`, type: 'A', transport });
    expect(a.rcode).toBe('NOERROR');
    expect(a.flag_qr).toBe(true);
    expect(answerAddresses(a)).toEqual(['127.20.0.1']);

    const txt = await queryDns({ server, name: `SHOP.${ZONE}`, type: 'TXT', transport });
    expect(txtStrings(txt)).toEqual(['v=spf1 -all', 'google-site-verification=abc123']);

    const caa = await queryDns({ server, name: `shop.${ZONE}`, type: 'CAA', transport });
    expect(caa.answers?.[0]?.type === 'CAA' && caa.answers[0].data).toMatchObject({
      flags: 0,
      tag: 'issue',
      value: 'letsencrypt.org',
    });
  });

  it('keeps several strings of one TXT record apart and splits strings over 255 bytes', async () => {
    const txt = await queryDns({ server: dns.server, name: `shop.${ZONE}`, type: 'TXT', transport: 'tcp' });
    const verification = txt.answers?.[1];
    expect(verification?.type === 'TXT' && (verification.data as Buffer[]).map(String)).toEqual([
      'google-site-verification=',
      'abc123',
    ]);

    const long = await queryDns({ server: dns.server, name: `long.${ZONE}`, type: 'TXT', transport: 'tcp' });
    const record = long.answers?.[0];
    const strings = record?.type === 'TXT' ? (record.data as Buffer[]) : [];
    expect(strings.length).toBeGreaterThan(1);
    expect(strings.every((part) => part.length <= 255)).toBe(true);
    expect(txtStrings(long)).toEqual([LONG_SPF]);
  });

  it('answers NXDOMAIN for unknown names and NOERROR with no answer for a missing type', async () => {
    const unknown = await queryDns({ server: dns.server, name: `nope.${ZONE}`, type: 'A' });
    expect(unknown.rcode).toBe('NXDOMAIN');
    expect(unknown.answers).toEqual([]);
    expect(unknown.authorities?.[0]?.type).toBe('SOA');

    const outside = await queryDns({ server: dns.server, name: 'example.com', type: 'A' });
    expect(outside.rcode).toBe('NXDOMAIN');

    const noData = await queryDns({ server: dns.server, name: `shop.${ZONE}`, type: 'AAAA' });
    expect(noData.rcode).toBe('NOERROR');
    expect(noData.answers).toEqual([]);

    // A parent of a known name exists even with no records of its own.
    const emptyNonTerminal = await queryDns({ server: dns.server, name: 'vigil.test', type: 'TXT' });
    expect(emptyNonTerminal.rcode).toBe('NOERROR');
  });

  it('sets the AD flag at and below a signed name, and serves its DNSKEY', async () => {
    const signed = await queryDns({ server: dns.server, name: `signed.${ZONE}`, type: 'DNSKEY' });
    expect(signed.flag_ad).toBe(true);
    expect(signed.answers?.[0]?.type).toBe('DNSKEY');
    const below = await queryDns({ server: dns.server, name: `_dmarc.signed.${ZONE}`, type: 'TXT' });
    expect(below.flag_ad).toBe(true);
    const unsigned = await queryDns({ server: dns.server, name: `shop.${ZONE}`, type: 'A' });
    expect(unsigned.flag_ad).toBe(false);
    const noKey = await queryDns({ server: dns.server, name: `shop.${ZONE}`, type: 'DNSKEY' });
    expect(noKey.answers).toEqual([]);
  });

  it('truncates UDP answers over 512 bytes so the client retries over TCP', async () => {
    const udp = await queryDns({ server: dns.server, name: `big.${ZONE}`, type: 'TXT' });
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers).toEqual([]);

    const tcp = await queryDns({ server: dns.server, name: `big.${ZONE}`, type: 'TXT', transport: 'tcp' });
    expect(tcp.flag_tc).toBe(false);
    expect(txtStrings(tcp)).toHaveLength(12);
    expect(dnsPacket.encode(tcp).length).toBeGreaterThan(512);
  });

  it('answers in full over UDP when the query advertises a large EDNS buffer, and not beyond it', async () => {
    const large = await queryDns({ server: dns.server, name: `big.${ZONE}`, type: 'TXT', ednsSize: 4096 });
    expect(large.flag_tc).toBe(false);
    expect(txtStrings(large)).toHaveLength(12);

    const small = await queryDns({ server: dns.server, name: `big.${ZONE}`, type: 'TXT', ednsSize: 600 });
    expect(small.flag_tc).toBe(true);
  });

  it('never answers a "timeout" name and answers SERVFAIL for a "servfail" name', async () => {
    await expect(
      queryDns({ server: dns.server, name: `slow.${ZONE}`, type: 'A', timeoutMs: 300 }),
    ).rejects.toThrow(/timed out/);
    await expect(
      queryDns({ server: dns.server, name: `slow.${ZONE}`, type: 'A', transport: 'tcp', timeoutMs: 300 }),
    ).rejects.toThrow(/timed out/);
    const broken = await queryDns({ server: dns.server, name: `broken.${ZONE}`, type: 'A' });
    expect(broken.rcode).toBe('SERVFAIL');
    expect(broken.answers).toEqual([]);
  });

  it('changes answers at run time and logs each query with its transport', async () => {
    const name = `late.${ZONE}`;
    expect((await queryDns({ server: dns.server, name, type: 'A' })).rcode).toBe('NXDOMAIN');
    dns.setRecords(name, { A: ['127.20.0.9'] });
    const added = await queryDns({ server: dns.server, name, type: 'A', transport: 'tcp' });
    expect(answerAddresses(added)).toEqual(['127.20.0.9']);
    dns.deleteRecords(name);
    expect((await queryDns({ server: dns.server, name, type: 'A' })).rcode).toBe('NXDOMAIN');
    expect(dns.queries().filter((query) => query.name === name)).toEqual([
      { name, type: 'A', transport: 'udp' },
      { name, type: 'A', transport: 'tcp' },
      { name, type: 'A', transport: 'udp' },
    ]);
  });

  it('serves several length-prefixed queries on one TCP connection', async () => {
    const net = await import('node:net');
    const socket = net.connect({ host: '127.0.0.1', port: dns.port });
    const frames = [1, 2].map((id) => {
      const message = dnsPacket.encode({
        type: 'query',
        id,
        questions: [{ type: 'A', name: `shop.${ZONE}` }],
      });
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(message.length);
      return Buffer.concat([prefix, message]);
    });
    const ids = await new Promise<number[]>((resolve, reject) => {
      let received = Buffer.alloc(0);
      const seen: number[] = [];
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= received.readUInt16BE(0) + 2) {
          const length = received.readUInt16BE(0);
          seen.push(dnsPacket.decode(received.subarray(2, length + 2)).id ?? -1);
          received = received.subarray(length + 2);
        }
        if (seen.length === 2) resolve(seen);
      });
      socket.on('error', reject);
      // Both queries in one write, split mid-frame, to exercise reassembly.
      const joined = Buffer.concat(frames);
      socket.write(joined.subarray(0, 5));
      setTimeout(() => socket.write(joined.subarray(5)), 20);
    });
    socket.destroy();
    expect(ids).toEqual([1, 2]);
  });
});
