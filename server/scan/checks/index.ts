import type { BonusId, CheckContext, CheckResult, DjangoDetection, Finding, ScanFacts } from '../types';
import { cookiesCheck } from './cookies';
import { cspCheck } from './csp';
import { adminPathCheck, allowedHostsCheck, detectDjango, djangoDebugCheck } from './django';
import { caaCheck, dnssecCheck } from './dns-records';
import { dnsResolutionCheck } from './dns-resolution';
import { dmarcCheck, spfCheck } from './email';
import { exposureCheck } from './exposure';
import {
  contentTypeOptionsCheck,
  crossOriginOpenerPolicyCheck,
  referrerPolicyCheck,
  serverVersionCheck,
  xFrameOptionsCheck,
} from './headers';
import { hstsCheck } from './hsts';
import { httpsRedirectCheck } from './https-redirect';
import type { ScanCheck } from './outcome';
import { securityTxtCheck } from './security-txt';
import {
  tlsHostnameCheck,
  tlsProtocolsCheck,
  tlsReachableCheck,
  tlsTrustCheck,
  tlsValidityCheck,
} from './tls';

export { detectDjango } from './django';
export type { ScanCheck } from './outcome';

/** Every check, in the order results are reported: reachability first, then transport, headers, app, DNS. */
export const CHECKS: readonly ScanCheck[] = [
  dnsResolutionCheck,
  tlsReachableCheck,
  tlsValidityCheck,
  tlsTrustCheck,
  tlsHostnameCheck,
  tlsProtocolsCheck,
  httpsRedirectCheck,
  hstsCheck,
  xFrameOptionsCheck,
  contentTypeOptionsCheck,
  referrerPolicyCheck,
  cspCheck,
  crossOriginOpenerPolicyCheck,
  serverVersionCheck,
  cookiesCheck,
  djangoDebugCheck,
  allowedHostsCheck,
  adminPathCheck,
  exposureCheck,
  caaCheck,
  dnssecCheck,
  spfCheck,
  dmarcCheck,
  securityTxtCheck,
];

export interface ChecksOutcome {
  django: DjangoDetection;
  checks: CheckResult[];
  findings: Finding[];
  bonuses: BonusId[];
}

/** Runs every check on the facts. A check that throws on odd facts becomes an `error`, never a crashed scan. */
export function runChecks(facts: ScanFacts, checks: readonly ScanCheck[] = CHECKS): ChecksOutcome {
  const context: CheckContext = { django: detectDjango(facts) };
  const results: CheckResult[] = [];
  const findings: Finding[] = [];
  const bonuses = new Set<BonusId>();
  for (const check of checks) {
    try {
      const outcome = check.run(facts, context);
      results.push({ id: check.id, status: outcome.status, detail: outcome.detail });
      findings.push(...outcome.findings);
      for (const bonus of outcome.bonuses ?? []) bonuses.add(bonus);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      results.push({ id: check.id, status: 'error', detail: `check failed: ${message}` });
    }
  }
  return { django: context.django, checks: results, findings, bonuses: [...bonuses] };
}
