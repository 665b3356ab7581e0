import { makeFinding } from '../catalogue';
import type { HttpResponseFacts } from '../types';
import { describeChain, headerValues, httpsDown, looksLikeHtml } from './http';
import { errored, judged, type ScanCheck } from './outcome';

/** Why a response is not a usable security.txt (RFC 9116: plain text with a Contact: field), or null. */
export function securityTxtProblem(response: HttpResponseFacts): string | null {
  if (response.status !== 200) return `status ${response.status}`;
  const type = (headerValues(response, 'content-type')[0] ?? '').toLowerCase();
  // A catch-all site answers every path with its HTML page and a 200.
  if ((type !== '' && !type.startsWith('text/plain')) || looksLikeHtml(response.body)) {
    return `not plain text (${type || 'HTML'})`;
  }
  return /^[ \t]*Contact:[ \t]*\S/im.test(response.body) ? null : 'no Contact: field';
}

export const securityTxtCheck: ScanCheck = {
  id: 'security-txt',
  findingIds: ['security-txt.missing'],
  run(facts) {
    const down = httpsDown(facts);
    if (down) return down;
    const fetch = facts.securityTxt;
    const response = fetch.responses.at(-1);
    if (!response || fetch.error !== null) {
      return errored(`/.well-known/security.txt could not be fetched: ${fetch.error ?? 'no answer'}`);
    }
    const chain = describeChain(fetch, facts.host);
    const problem = securityTxtProblem(response);
    if (problem === null) return judged([], `${chain}, with Contact:`, ['security-txt']);
    const evidence = response.status === 200 ? `${chain}: ${problem}` : chain;
    return judged([makeFinding('security-txt.missing', { evidence })], 'no usable security.txt');
  },
};
