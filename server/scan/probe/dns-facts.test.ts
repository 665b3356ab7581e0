import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DnsServer, startDnsServer } from '../../testing/dns-server';
import { createDnsClient, parseDnsServer } from './dns-client';
import {
  gatherDnsFacts,
  organisationalDomain,
  parentDomains,
  resolveAddresses,
  spfReferences,
} from './dns-facts';

let dns: DnsServer;

beforeAll(async () => {
  dns = await startDnsServer({
    'shop.zone.test': {
      A: ['127.0.0.9'],
      AAAA: ['::1'],
      TXT: ['v=spf1 include:_spf.zone.test -all', 'other'],
    },
    '_spf.zone.test': { TXT: ['v=spf1 include:_spf2.zone.test ip4:192.0.2.0/24 ~all'] },
    '_spf2.zone.test': { TXT: ['v=spf1 include:_spf.zone.test -all'] },
    'zone.test': {
      CAA: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }],
      DNSKEY: [{ flags: 257, algorithm: 13, key: 'AAAA' }],
    },
    '_dmarc.zone.test': { TXT: ['v=DMARC1; p=reject'] },
    'bare.other.test': { A: ['127.0.0.10'] },
    'signed.auth.test': { A: ['127.0.0.11'], signed: true },
    'broken.zone.test': { fault: 'servfail' },
    'long.zone.test': { TXT: Array.from({ length: 60 }, (_, index) => `record-${index}-${'x'.repeat(40)}`) },
  });
});

afterAll(() => dns.close());

const client = () => createDnsClient({ servers: [dns.server], timeoutMs: 1_000 });

describe('DNS client', () => {
  it('parses server specs', () => {
    expect(parseDnsServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseDnsServer('[::1]:53')).toEqual({ host: '::1', port: 53 });
    expect(parseDnsServer('::1')).toEqual({ host: '::1', port: 53 });
    expect(() => parseDnsServer('127.0.0.1:99999')).toThrow('host:port');
  });

  it('resolves A and AAAA', async () => {
    expect(await resolveAddresses(client(), 'shop.zone.test')).toEqual({
      ok: true,
      value: ['127.0.0.9', '::1'],
    });
  });

  it('treats NXDOMAIN as no addresses and SERVFAIL as a failed lookup', async () => {
    expect(await resolveAddresses(client(), 'missing.zone.test')).toEqual({ ok: true, value: [] });
    const broken = await resolveAddresses(client(), 'broken.zone.test');
    expect(broken.ok).toBe(false);
  });

  it('falls back to TCP when the UDP answer is truncated', async () => {
    const response = await client().query('long.zone.test', 'TXT');
    expect(response.answers).toHaveLength(60);
    expect(dns.queries().some((query) => query.name === 'long.zone.test' && query.transport === 'tcp')).toBe(
      true,
    );
  });

  it('gives up on a server that never answers within the timeout', async () => {
    const silent = createDnsClient({ servers: ['127.0.0.1:9'], timeoutMs: 200, attempts: 1 });
    await expect(silent.query('shop.zone.test', 'A')).rejects.toThrow();
  });
});

describe('gatherDnsFacts', () => {
  it('follows the SPF include tree once per domain, finds CAA and DMARC on the parent, sees DNSKEY', async () => {
    const facts = await gatherDnsFacts(client(), 'shop.zone.test', { ok: true, value: ['127.0.0.9'] });
    expect(facts.spf).toEqual({
      ok: true,
      value: {
        records: ['v=spf1 include:_spf.zone.test -all'],
        referenced: {
          '_spf.zone.test': ['v=spf1 include:_spf2.zone.test ip4:192.0.2.0/24 ~all'],
          '_spf2.zone.test': ['v=spf1 include:_spf.zone.test -all'],
        },
      },
    });
    expect(facts.caa).toEqual({
      ok: true,
      value: { domain: 'zone.test', records: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }] },
    });
    expect(facts.dmarc).toEqual({
      ok: true,
      value: { domain: 'zone.test', records: ['v=DMARC1; p=reject'] },
    });
    expect(facts.dnssec).toEqual({ ok: true, value: true });
  });

  it('reports absence as empty, not as errors', async () => {
    const facts = await gatherDnsFacts(client(), 'bare.other.test', { ok: true, value: ['127.0.0.10'] });
    expect(facts.spf).toEqual({ ok: true, value: { records: [], referenced: {} } });
    expect(facts.caa).toEqual({ ok: true, value: { domain: null, records: [] } });
    expect(facts.dmarc).toEqual({ ok: true, value: { domain: null, records: [] } });
    expect(facts.dnssec).toEqual({ ok: true, value: false });
  });

  it('takes the resolver AD flag as DNSSEC', async () => {
    const facts = await gatherDnsFacts(client(), 'signed.auth.test', { ok: true, value: ['127.0.0.11'] });
    expect(facts.dnssec).toEqual({ ok: true, value: true });
  });
});

describe('name helpers', () => {
  it('climbs parents without the TLD and finds the organisational domain', () => {
    expect(parentDomains('a.b.example.com')).toEqual(['a.b.example.com', 'b.example.com', 'example.com']);
    expect(organisationalDomain('shop.example.com')).toBe('example.com');
    expect(organisationalDomain('shop.example.co.uk')).toBe('example.co.uk');
  });

  it('lists the domains an SPF record refers to', () => {
    expect(spfReferences('v=spf1 include:a.test ~include:B.test. redirect=c.test mx -all')).toEqual([
      'a.test',
      'b.test',
      'c.test',
    ]);
  });
});
