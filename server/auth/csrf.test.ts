import { describe, expect, it } from 'vitest';
import { csrfTokenFor, csrfTokenMatches, originAllowed } from './csrf';
import { randomSecret } from './secrets';

describe('CSRF tokens', () => {
  it('belong to one session: stable for it, different for another, unguessable without the id', () => {
    const session = randomSecret();
    expect(csrfTokenFor(session)).toBe(csrfTokenFor(session));
    expect(csrfTokenFor(session)).toMatch(/^[\w-]{43}$/);
    expect(csrfTokenFor(randomSecret())).not.toBe(csrfTokenFor(session));
    expect(csrfTokenMatches(session, csrfTokenFor(session))).toBe(true);
    expect(csrfTokenMatches(session, undefined)).toBe(false);
    expect(csrfTokenMatches(session, '')).toBe(false);
    expect(csrfTokenMatches(session, csrfTokenFor(session).slice(1))).toBe(false);
  });
});

describe('originAllowed', () => {
  const expected = 'https://vigil.example.com';
  it('needs our own origin when the browser names one', () => {
    expect(originAllowed({ origin: 'https://vigil.example.com', fetchSite: undefined, expected })).toBe(true);
    expect(originAllowed({ origin: 'HTTPS://VIGIL.EXAMPLE.COM', fetchSite: 'same-origin', expected })).toBe(
      true,
    );
    expect(originAllowed({ origin: 'http://vigil.example.com', fetchSite: undefined, expected })).toBe(false);
    expect(
      originAllowed({ origin: 'https://vigil.example.com.evil.test', fetchSite: undefined, expected }),
    ).toBe(false);
    expect(originAllowed({ origin: 'null', fetchSite: undefined, expected })).toBe(false);
  });

  it('falls back on Sec-Fetch-Site, and lets clients that send neither through', () => {
    expect(originAllowed({ origin: undefined, fetchSite: 'cross-site', expected })).toBe(false);
    expect(originAllowed({ origin: undefined, fetchSite: 'same-site', expected })).toBe(false);
    expect(originAllowed({ origin: undefined, fetchSite: 'same-origin', expected })).toBe(true);
    expect(originAllowed({ origin: undefined, fetchSite: 'none', expected })).toBe(true);
    expect(originAllowed({ origin: undefined, fetchSite: undefined, expected })).toBe(true);
  });
});
