import { makeFinding } from '../catalogue';
import type { BonusId, Finding, HttpResponseFacts } from '../types';
import { finalHttpsHome, headerValues } from './http';
import { clip, foundTitles, judged, type ScanCheck } from './outcome';

/** One enforced policy: lower-case directive name → its source tokens. */
export type CspPolicy = ReadonlyMap<string, readonly string[]>;

/** CSP3 §2.2.1: `;`-separated directives, names lower-cased, a repeated directive ignored. */
export function parseSerializedPolicy(text: string): CspPolicy {
  const policy = new Map<string, string[]>();
  for (const token of text.split(';')) {
    const [name, ...sources] = token.trim().split(/[\t\n\f\r ]+/);
    if (!name) continue;
    const directive = name.toLowerCase();
    if (!policy.has(directive)) policy.set(directive, sources);
  }
  return policy;
}

/**
 * The enforced policies of a response: every `Content-Security-Policy` line, each a comma-separated
 * list of policies; empty ones are dropped (CSP3 §3.1). Report-Only headers enforce nothing.
 */
export function enforcedPolicies(response: HttpResponseFacts): CspPolicy[] {
  return headerValues(response, 'content-security-policy')
    .flatMap((value) => value.split(','))
    .map(parseSerializedPolicy)
    .filter((policy) => policy.size > 0);
}

export function hasFrameAncestors(policies: readonly CspPolicy[]): boolean {
  return policies.some((policy) => policy.has('frame-ancestors'));
}

/** The list that governs scripts, or null when the policy does not restrict them at all. */
function scriptSources(policy: CspPolicy): { directive: string; sources: readonly string[] } | null {
  for (const directive of ['script-src', 'default-src']) {
    const sources = policy.get(directive);
    if (sources) return { directive, sources };
  }
  return null;
}

const NONCE_OR_HASH = /^'(?:nonce-|sha256-|sha384-|sha512-)/i;

function hasKeyword(sources: readonly string[], keyword: string): boolean {
  return sources.some((source) => source.toLowerCase() === keyword);
}

/** CSP3 "allow all inline": 'unsafe-inline' counts only without a nonce, a hash or 'strict-dynamic'. */
function allowsInlineScript(policy: CspPolicy): boolean {
  const list = scriptSources(policy);
  if (!list) return true;
  const neutralised = list.sources.some(
    (source) => NONCE_OR_HASH.test(source) || source.toLowerCase() === "'strict-dynamic'",
  );
  return hasKeyword(list.sources, "'unsafe-inline'") && !neutralised;
}

function allowsEval(policy: CspPolicy): boolean {
  const list = scriptSources(policy);
  return !list || hasKeyword(list.sources, "'unsafe-eval'");
}

function describeScriptSources(policy: CspPolicy): string {
  const list = scriptSources(policy);
  if (!list) return 'no script-src or default-src: scripts are not restricted';
  return clip(`${list.directive} ${list.sources.join(' ')}`);
}

export const cspCheck: ScanCheck = {
  id: 'csp',
  findingIds: ['csp.missing', 'csp.unsafe-inline', 'csp.unsafe-eval'],
  run(facts) {
    const home = finalHttpsHome(facts);
    if ('outcome' in home) return home.outcome;
    const policies = enforcedPolicies(home.response);
    if (policies.length === 0) {
      const reportOnly = headerValues(home.response, 'content-security-policy-report-only').length > 0;
      const evidence = reportOnly
        ? 'only Content-Security-Policy-Report-Only, which enforces nothing'
        : 'no Content-Security-Policy header';
      return judged([makeFinding('csp.missing', { evidence })], 'no enforced CSP');
    }
    // Several policies all apply: a script runs only if every one of them allows it.
    const inline = policies.every(allowsInlineScript);
    const evalAllowed = policies.every(allowsEval);
    const findings: Finding[] = [];
    const evidence = describeScriptSources(policies[0]!);
    if (inline) findings.push(makeFinding('csp.unsafe-inline', { evidence }));
    if (evalAllowed) findings.push(makeFinding('csp.unsafe-eval', { evidence }));
    const bonuses: BonusId[] = !inline && !evalAllowed && hasFrameAncestors(policies) ? ['csp-strict'] : [];
    const detail =
      findings.length > 0
        ? foundTitles(findings)
        : `${policies.length} enforced polic${policies.length > 1 ? 'ies' : 'y'}`;
    return judged(findings, detail, bonuses);
  },
};
