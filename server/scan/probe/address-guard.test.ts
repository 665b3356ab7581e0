import { describe, expect, it } from 'vitest';
import { classifyAddress, vetAddress } from './address-guard';

describe('classifyAddress', () => {
  it.each([
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'private'],
    ['127.45.3.9', 'private'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.254', 'private'],
    ['100.128.0.1', 'public'],
    ['::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.169.254', 'forbidden'],
    ['169.254.0.1', 'forbidden'],
    ['0.0.0.0', 'forbidden'],
    ['224.0.0.251', 'forbidden'],
    ['239.255.255.250', 'forbidden'],
    ['255.255.255.255', 'forbidden'],
    ['240.0.0.1', 'forbidden'],
    ['192.0.2.10', 'forbidden'],
    ['::', 'forbidden'],
    ['fe80::1', 'forbidden'],
    ['fe80::1%eth0', 'forbidden'],
    ['ff02::1', 'forbidden'],
    ['2001:db8::1', 'forbidden'],
    ['fd00:ec2::254', 'private'],
  ] as const)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it.each([
    ['::ffff:127.0.0.1', 'private'],
    ['::ffff:7f00:1', 'private'],
    ['::ffff:169.254.169.254', 'forbidden'],
    ['::ffff:a9fe:a9fe', 'forbidden'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::169.254.169.254', 'forbidden'],
    ['64:ff9b::7f00:1', 'private'],
    ['::127.0.0.1', 'private'],
  ] as const)('IPv4 embedded in IPv6: %s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('treats anything that is not an IP as forbidden', () => {
    expect(classifyAddress('example.com')).toBe('forbidden');
    expect(classifyAddress('')).toBe('forbidden');
  });
});

describe('vetAddress', () => {
  it('refuses private addresses unless allowed, and names the switch', () => {
    const refused = vetAddress('127.0.0.1', { allowPrivate: false });
    expect(refused).toEqual({ ok: false, reason: expect.stringContaining('--allow-private') });
    expect(vetAddress('127.0.0.1', { allowPrivate: true })).toEqual({ ok: true });
  });

  it('always refuses the cloud metadata address, even with private targets allowed', () => {
    const verdict = vetAddress('169.254.169.254', { allowPrivate: true });
    expect(verdict.ok).toBe(false);
    expect(vetAddress('::ffff:169.254.169.254', { allowPrivate: true }).ok).toBe(false);
  });

  it('accepts public addresses', () => {
    expect(vetAddress('93.184.216.34', { allowPrivate: false })).toEqual({ ok: true });
  });
});
