import { makeFinding } from '../catalogue';
import type { CheckOutcome, HttpResponseFacts, ScanFacts } from '../types';
import { enforcedPolicies, hasFrameAncestors } from './csp';
import { finalHttpsHome, headerListMembers, headerValues } from './http';
import { clip, judged, type ScanCheck } from './outcome';

/** Runs a header check on the final HTTPS home response, or returns why it cannot. */
function onHome(facts: ScanFacts, judge: (response: HttpResponseFacts) => CheckOutcome): CheckOutcome {
  const home = finalHttpsHome(facts);
  return 'outcome' in home ? home.outcome : judge(home.response);
}

/** HTML "check a navigation response's adherence to X-Frame-Options": does it stop framing by other sites? */
export function xFrameOptionsProtects(values: readonly string[]): boolean {
  const options = new Set(values.map((value) => value.toLowerCase()));
  // Conflicting values still block (HTML errs on the safe side); ALLOW-FROM and unknown values do not.
  return options.has('deny') || options.has('sameorigin');
}

export const xFrameOptionsCheck: ScanCheck = {
  id: 'x-frame-options',
  findingIds: ['xfo.missing'],
  run: (facts) =>
    onHome(facts, (response) => {
      // Browsers ignore X-Frame-Options when a CSP has frame-ancestors.
      if (hasFrameAncestors(enforcedPolicies(response))) return judged([], 'CSP frame-ancestors is set');
      const values = headerListMembers(response, 'x-frame-options');
      if (xFrameOptionsProtects(values)) return judged([], `X-Frame-Options: ${clip(values.join(', '))}`);
      const evidence =
        values.length === 0
          ? 'no X-Frame-Options and no CSP frame-ancestors'
          : `X-Frame-Options: ${clip(values.join(', '))} (not a value browsers enforce) and no CSP frame-ancestors`;
      return judged([makeFinding('xfo.missing', { evidence })], 'the page can be framed by other sites');
    }),
};

export const contentTypeOptionsCheck: ScanCheck = {
  id: 'x-content-type-options',
  findingIds: ['nosniff.missing'],
  run: (facts) =>
    onHome(facts, (response) => {
      // Fetch "determine nosniff": only the first value of the combined list counts.
      const first = headerListMembers(response, 'x-content-type-options')[0];
      if (first?.toLowerCase() === 'nosniff') return judged([], 'X-Content-Type-Options: nosniff');
      const evidence =
        first === undefined ? 'no X-Content-Type-Options header' : `X-Content-Type-Options: ${clip(first)}`;
      return judged([makeFinding('nosniff.missing', { evidence })], 'MIME sniffing allowed');
    }),
};

const REFERRER_POLICIES = new Set([
  'no-referrer',
  'no-referrer-when-downgrade',
  'same-origin',
  'origin',
  'strict-origin',
  'origin-when-cross-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
]);

/** Referrer Policy §8.1: the last recognised token wins, so a header can list fallbacks. */
export function effectiveReferrerPolicy(members: readonly string[]): string | null {
  return (
    members.map((member) => member.toLowerCase()).findLast((member) => REFERRER_POLICIES.has(member)) ?? null
  );
}

export const referrerPolicyCheck: ScanCheck = {
  id: 'referrer-policy',
  findingIds: ['referrer-policy.missing'],
  run: (facts) =>
    onHome(facts, (response) => {
      const members = headerListMembers(response, 'referrer-policy');
      const policy = effectiveReferrerPolicy(members);
      const shown = `Referrer-Policy: ${clip(members.join(', '))}`;
      if (policy !== null && policy !== 'unsafe-url') return judged([], shown);
      const evidence =
        members.length === 0
          ? 'no Referrer-Policy header'
          : policy === null
            ? `${shown} (no recognised policy)`
            : `${shown} (unsafe-url sends the full URL everywhere)`;
      return judged([makeFinding('referrer-policy.missing', { evidence })], 'full URLs may leak in Referer');
    }),
};

/** Values that actually isolate the browsing context group; unsafe-none is the default. */
const ISOLATING_COOP = new Set(['same-origin', 'same-origin-allow-popups', 'noopener-allow-popups']);

export const crossOriginOpenerPolicyCheck: ScanCheck = {
  id: 'coop',
  findingIds: ['coop.missing'],
  run: (facts) =>
    onHome(facts, (response) => {
      const values = headerValues(response, 'cross-origin-opener-policy');
      // A structured-field item: the token before any `;` parameters; two header lines make it invalid.
      const token = values.length === 1 ? values[0]!.split(';')[0]!.trim() : null;
      if (token !== null && ISOLATING_COOP.has(token)) {
        return judged([], `Cross-Origin-Opener-Policy: ${clip(values[0]!)}`, ['coop']);
      }
      const evidence =
        values.length === 0
          ? 'no Cross-Origin-Opener-Policy header'
          : `Cross-Origin-Opener-Policy: ${clip(values.join(', '))} (no isolation)`;
      return judged([makeFinding('coop.missing', { evidence })], 'no COOP');
    }),
};

/** `nginx/1.18.0`, `PHP/8.1`, `Apache 2.4.41`: a product followed by a version number. */
const VERSION_NUMBER = /\/\s*v?\d+(?:\.\d+)*(?![\w-])|\b\d+\.\d+/i;

export function revealsVersion(value: string): boolean {
  return VERSION_NUMBER.test(value);
}

export const serverVersionCheck: ScanCheck = {
  id: 'server-header',
  findingIds: ['server.version-leak'],
  run: (facts) =>
    onHome(facts, (response) => {
      const leaks = ['Server', 'X-Powered-By'].flatMap((name) =>
        headerValues(response, name)
          .filter(revealsVersion)
          .map((value) => `${name}: ${clip(value, 100)}`),
      );
      if (leaks.length === 0) return judged([], 'no version number in Server or X-Powered-By');
      return judged(
        [makeFinding('server.version-leak', { evidence: leaks.join('; ') })],
        'version disclosed',
      );
    }),
};
