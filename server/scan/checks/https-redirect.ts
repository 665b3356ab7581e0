import { makeFinding } from '../catalogue';
import type { HttpFetch } from '../types';
import { describeChain, normalizeHost, redirectTarget } from './http';
import { judged, type ScanCheck, skipped } from './outcome';

/** The first redirect of the chain that points at an https:// URL, even if fetching it then failed. */
function firstHttpsRedirect(fetch: HttpFetch): URL | null {
  for (const response of fetch.responses) {
    const target = redirectTarget(response);
    if (target?.protocol === 'https:') return target;
  }
  return null;
}

export const httpsRedirectCheck: ScanCheck = {
  id: 'https-redirect',
  findingIds: ['https.redirect.missing'],
  run(facts) {
    if (facts.httpHome.responses.length === 0) {
      return skipped(`http://${facts.host}/ did not answer: ${facts.httpHome.error ?? 'no response'}`);
    }
    const chain = describeChain(facts.httpHome, null);
    const target = firstHttpsRedirect(facts.httpHome);
    if (target && normalizeHost(target.hostname) === normalizeHost(facts.host)) {
      return judged([], chain);
    }
    // HSTS only protects the host that sent it: hopping to another host over http first leaves this one bare.
    const evidence = target
      ? `${chain} (the first https:// redirect goes to another host, ${target.host})`
      : `${chain} (no redirect to https://)`;
    return judged([makeFinding('https.redirect.missing', { evidence })], 'HTTP does not redirect to HTTPS');
  },
};
