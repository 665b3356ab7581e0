import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { type RequestOrigin, requestOrigin } from './request';

async function originOf(
  url: string,
  headers: Record<string, string>,
  trustProxy: boolean,
  socketAddress?: string,
): Promise<RequestOrigin> {
  const app = new Hono().get('*', (c) => c.json(requestOrigin(c, trustProxy)));
  const env = socketAddress ? { incoming: { socket: { remoteAddress: socketAddress } } } : undefined;
  return (await app.request(url, { headers }, env)).json() as Promise<RequestOrigin>;
}

describe('requestOrigin', () => {
  it('reads the socket when no proxy is trusted, ignoring forwarding headers anyone could send', async () => {
    const forged = {
      'x-forwarded-for': '1.2.3.4',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.test',
    };
    expect(
      await originOf(
        'http://vigil.local:8080/api',
        { ...forged, host: 'vigil.local:8080' },
        false,
        '::ffff:10.0.0.9',
      ),
    ).toEqual({
      secure: false,
      ip: '10.0.0.9',
      origin: 'http://vigil.local:8080',
    });
    expect(await originOf('https://vigil.local/api', {}, false)).toMatchObject({
      secure: true,
      ip: 'unknown',
    });
  });

  it('believes the last hop of the trusted proxy’s headers', async () => {
    const headers = {
      'x-forwarded-for': '6.6.6.6, 198.51.100.20',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'Vigil.Example.com',
      host: '127.0.0.1:8080',
    };
    expect(await originOf('http://127.0.0.1:8080/api', headers, true, '127.0.0.1')).toEqual({
      secure: true,
      ip: '198.51.100.20',
      origin: 'https://vigil.example.com',
    });
  });
});
