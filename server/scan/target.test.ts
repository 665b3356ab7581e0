import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { formatTarget, parseTarget } from './target';

describe('parseTarget', () => {
  it('accepts a host name and lower-cases it', () => {
    expect(parseTarget('Shop.Example.COM')).toEqual({
      input: 'Shop.Example.COM',
      host: 'shop.example.com',
      httpsPort: 443,
      httpPort: 80,
    });
  });

  it('reads host:port as the HTTPS port', () => {
    expect(parseTarget('shop.example.com:8443')).toMatchObject({ host: 'shop.example.com', httpsPort: 8443 });
  });

  it('uses scheme, host and port of a URL and ignores the path', () => {
    expect(parseTarget('https://shop.example.com:9443/some/page?x=1')).toMatchObject({
      host: 'shop.example.com',
      httpsPort: 9443,
      httpPort: 80,
    });
    expect(parseTarget('http://shop.example.com:8080/')).toMatchObject({ httpsPort: 443, httpPort: 8080 });
    expect(parseTarget('https://shop.example.com')).toMatchObject({ httpsPort: 443 });
  });

  it('normalises IDNs to punycode', () => {
    expect(parseTarget('bücher.example').host).toBe('xn--bcher-kva.example');
    expect(parseTarget('https://bücher.example/').host).toBe('xn--bcher-kva.example');
  });

  it('drops a trailing dot', () => {
    expect(parseTarget('shop.example.com.').host).toBe('shop.example.com');
  });

  it.each([
    ['', 'empty'],
    ['shop example.com', 'white space'],
    ['shop.example.com/../etc', '".."'],
    ['https://shop.example.com/a/../b', '".."'],
    ['ftp://shop.example.com', 'scheme'],
    ['https://user:pw@shop.example.com', 'credentials'],
    ['localhost', 'fully-qualified'],
    [`${'a'.repeat(64)}.example.com`, 'longer than 63'],
    [`${'a.'.repeat(130)}com`, 'longer than 253'],
    ['-shop.example.com', 'characters'],
    ['shop_1.example.com', 'characters'],
    ['shop.example.com:0', 'out of range'],
    ['shop.example.com:99999', 'out of range'],
    ['shop.example.com:https', 'not a number'],
    ['1.2.3.4', 'IP addresses are not allowed'],
    ['[::1]:443', 'IP addresses are not allowed'],
    ['999.1.1.1', 'not a valid'],
    ['shop.123', 'all digits'],
  ])('refuses %j with a clear reason (%s)', (input, reason) => {
    let error: unknown;
    try {
      parseTarget(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_target');
    expect((error as AppError).message).toContain(reason);
  });

  it('accepts IP literals only when allowed', () => {
    expect(parseTarget('127.0.0.1', { allowIpLiteral: true })).toMatchObject({
      host: '127.0.0.1',
      httpsPort: 443,
    });
    expect(parseTarget('[::1]:8443', { allowIpLiteral: true })).toMatchObject({
      host: '::1',
      httpsPort: 8443,
    });
  });
});

describe('formatTarget', () => {
  it('round-trips through parseTarget', () => {
    for (const input of ['shop.example.com', 'shop.example.com:8443', 'http://shop.example.com:8080']) {
      const target = parseTarget(input);
      expect(parseTarget(formatTarget(target))).toEqual({ ...target, input: formatTarget(target) });
    }
  });
});
