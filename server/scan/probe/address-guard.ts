import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Why an address may not be connected to. */
export type AddressClass = 'public' | 'private' | 'forbidden';

function blockList(ranges: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

/** Never connected to: link-local (cloud metadata), multicast, unspecified, reserved, documentation. */
const FORBIDDEN = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);

/** Connected to only when private targets are allowed: loopback, RFC 1918, CGNAT, unique-local. */
const PRIVATE = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
]);

/** IPv4 embedded in IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 addresses. */
function embeddedIPv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::ffff:0:|64:ff9b::|::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const high = Number.parseInt(hex[1]!, 16);
    const low = Number.parseInt(hex[2]!, 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  return null;
}

export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(bare)) {
    if (FORBIDDEN.check(bare, 'ipv4')) return 'forbidden';
    return PRIVATE.check(bare, 'ipv4') ? 'private' : 'public';
  }
  if (!isIPv6(bare)) return 'forbidden';
  const v4 = embeddedIPv4(bare);
  if (v4 !== null) return classifyAddress(v4);
  if (FORBIDDEN.check(bare, 'ipv6')) return 'forbidden';
  return PRIVATE.check(bare, 'ipv6') ? 'private' : 'public';
}

export type AddressVerdict = { ok: true } | { ok: false; reason: string };

/** SPEC.md SSRF guard: may a scan connect to this address? */
export function vetAddress(address: string, options: { allowPrivate: boolean }): AddressVerdict {
  const kind = classifyAddress(address);
  if (kind === 'public') return { ok: true };
  if (kind === 'private') {
    return options.allowPrivate
      ? { ok: true }
      : {
          ok: false,
          reason: `${address} is a private or loopback address; scanning it needs --allow-private (VIGIL_ALLOW_PRIVATE=1)`,
        };
  }
  return {
    ok: false,
    reason: `${address} is a link-local, multicast, reserved or unspecified address and is never scanned`,
  };
}
