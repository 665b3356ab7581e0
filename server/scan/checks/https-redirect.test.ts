import { describe, expect, it } from 'vitest';
import {
  buildFacts,
  failedFetch,
  fetched,
  findingIds,
  HOST,
  redirect,
  response,
  runCheck,
} from './facts-builder';
import { httpsRedirectCheck } from './https-redirect';

const home = (url: string) => response(url, 200, { body: 'home' });

describe('https redirect', () => {
  it('passes http://host/ → https://host/', () => {
    const outcome = runCheck(httpsRedirectCheck, buildFacts());
    expect(outcome).toMatchObject({ status: 'pass', findings: [] });
    expect(outcome.detail).toBe(`GET http://${HOST}/ → 301 → https://${HOST}/ → 200`);
  });

  it('reports HTTP answering with the page itself', () => {
    const facts = buildFacts({ httpHome: fetched(home(`http://${HOST}/`)) });
    const outcome = runCheck(httpsRedirectCheck, facts);
    expect(outcome.findings).toMatchObject([{ id: 'https.redirect.missing', severity: 'high' }]);
    expect(outcome.findings[0]!.evidence).toBe(`GET http://${HOST}/ → 200 (no redirect to https://)`);
  });

  it('reports an error page on HTTP as well (any answer counts)', () => {
    const facts = buildFacts({ httpHome: fetched(response(`http://${HOST}/`, 403)) });
    expect(findingIds(runCheck(httpsRedirectCheck, facts))).toEqual(['https.redirect.missing']);
  });

  it('reports a redirect that stays on http', () => {
    const facts = buildFacts({
      httpHome: fetched(redirect(`http://${HOST}/`, `http://${HOST}/en/`), home(`http://${HOST}/en/`)),
    });
    expect(findingIds(runCheck(httpsRedirectCheck, facts))).toEqual(['https.redirect.missing']);
  });

  it('reports a first https:// hop to another host', () => {
    const facts = buildFacts({
      httpHome: fetched(
        redirect(`http://${HOST}/`, 'http://www.shop.example.com/'),
        redirect('http://www.shop.example.com/', 'https://www.shop.example.com/'),
        home('https://www.shop.example.com/'),
      ),
    });
    const outcome = runCheck(httpsRedirectCheck, facts);
    expect(findingIds(outcome)).toEqual(['https.redirect.missing']);
    expect(outcome.findings[0]!.evidence).toContain('another host, www.shop.example.com');
  });

  it('accepts the same host first, then a canonical host', () => {
    const facts = buildFacts({
      httpHome: fetched(
        redirect(`http://${HOST}/`, `https://${HOST}/`),
        redirect(`https://${HOST}/`, 'https://www.shop.example.com/'),
        home('https://www.shop.example.com/'),
      ),
    });
    expect(runCheck(httpsRedirectCheck, facts).findings).toEqual([]);
  });

  it('accepts a relative Location and a host in other case or with a port', () => {
    const relative = buildFacts({ httpHome: fetched(redirect(`http://${HOST}/`, '/login/')) });
    expect(findingIds(runCheck(httpsRedirectCheck, relative))).toEqual(['https.redirect.missing']);
    const upper = buildFacts({
      httpHome: failedFetch(
        'connection refused',
        redirect(`http://${HOST}/`, 'https://SHOP.example.com:8443/', 308),
      ),
    });
    expect(runCheck(httpsRedirectCheck, upper).findings).toEqual([]);
  });

  it('skips when nothing answers on HTTP', () => {
    const facts = buildFacts({ httpHome: failedFetch('connection refused') });
    expect(runCheck(httpsRedirectCheck, facts)).toMatchObject({ status: 'skip', findings: [] });
  });
});
