import { makeFinding } from '../catalogue';
import type { Finding, SpfFacts } from '../types';
import { clip, errored, foundTitles, judged, type ScanCheck } from './outcome';

// ---- SPF (RFC 7208) ----

export type SpfQualifier = '+' | '-' | '~' | '?';

export type SpfTerm =
  | { kind: 'mechanism'; text: string; qualifier: SpfQualifier; name: string; argument: string | null }
  | { kind: 'modifier'; text: string; name: string; value: string };

const IS_SPF = /^v=spf1(?:\s|$)/i;
const TERM = /^([+\-~?]?)([a-z][a-z0-9_.-]*)(?:([:=/])(.*))?$/i;

/** The terms after `v=spf1`; unparsable terms are dropped (a receiver would permerror on them). */
export function parseSpf(record: string): SpfTerm[] {
  return record
    .trim()
    .split(/\s+/)
    .slice(1)
    .flatMap((text): SpfTerm[] => {
      const match = TERM.exec(text);
      if (!match) return [];
      const [, qualifier = '', name = '', separator, rest = ''] = match;
      if (separator === '=') return [{ kind: 'modifier', text, name: name.toLowerCase(), value: rest }];
      return [
        {
          kind: 'mechanism',
          text,
          qualifier: (qualifier || '+') as SpfQualifier,
          name: name.toLowerCase(),
          argument: separator === ':' ? rest : null,
        },
      ];
    });
}

function domainOf(spec: string): string {
  return spec.split('/')[0]!.toLowerCase().replace(/\.$/, '');
}

type SpfRecordAt = { ok: true; record: string } | { ok: false; reason: string };

/** The single SPF record of a domain reached through include:/redirect=, or why there is none to follow. */
function spfRecordAt(spf: SpfFacts, domain: string): SpfRecordAt {
  const texts = spf.referenced[domain];
  if (texts === undefined) return { ok: false, reason: `${domain} was not looked up` };
  if (texts === null) return { ok: false, reason: `the lookup of ${domain} failed` };
  const records = texts.filter((text) => IS_SPF.test(text.trim()));
  if (records.length !== 1) return { ok: false, reason: `${domain} has ${records.length} SPF records` };
  return { ok: true, record: records[0]! };
}

function isAll(term: SpfTerm): boolean {
  return term.kind === 'mechanism' && term.name === 'all';
}

function redirectOf(terms: readonly SpfTerm[]): string | null {
  const redirect = terms.find((term) => term.kind === 'modifier' && term.name === 'redirect');
  return redirect?.kind === 'modifier' ? domainOf(redirect.value) : null;
}

/** What a record answers for a sender it does not list, and why; null when that cannot be told. */
interface DefaultResult {
  qualifier: SpfQualifier;
  because: string;
}

function defaultResult(spf: SpfFacts, record: string, path: readonly string[]): DefaultResult | null {
  const terms = parseSpf(record);
  for (const term of terms) {
    if (term.kind !== 'mechanism') continue;
    if (term.name === 'all') {
      const bare = term.text.toLowerCase() === 'all' ? ' (a bare all means +all)' : '';
      return { qualifier: term.qualifier, because: `ends in ${term.text}${bare}` };
    }
    // An include whose record passes everyone matches every sender, with the include's own qualifier.
    if (term.name === 'include' && term.argument) {
      const target = domainOf(term.argument);
      const found = path.includes(target) ? null : spfRecordAt(spf, target);
      if (found?.ok && defaultResult(spf, found.record, [...path, target])?.qualifier === '+') {
        return { qualifier: term.qualifier, because: `include:${target} passes every sender` };
      }
    }
  }
  const redirect = redirectOf(terms);
  if (redirect === null) {
    return {
      qualifier: '?',
      because: 'has no all mechanism and no redirect: unlisted senders get neutral, as with ?all',
    };
  }
  if (path.includes(redirect)) return null;
  const found = spfRecordAt(spf, redirect);
  const result = found.ok ? defaultResult(spf, found.record, [...path, redirect]) : null;
  return result && { qualifier: result.qualifier, because: `redirect=${redirect} ${result.because}` };
}

export const SPF_LOOKUP_LIMIT = 10;
const LOOKUP_TERMS = new Set(['include', 'a', 'mx', 'ptr', 'exists']);

export interface SpfLookupTally {
  total: number;
  byTerm: Map<string, number>;
  /** The first include/redirect cycle met, e.g. `a.com → b.com → a.com`. */
  loop: string | null;
  unfollowed: string[];
}

/**
 * RFC 7208 §4.6.4: include, a, mx, ptr, exists and redirect each cost a lookup, recursively.
 * Terms after `all` are never evaluated, nor is redirect= when `all` is present. Counting stops past the limit.
 */
export function countSpfLookups(spf: SpfFacts, domain: string, record: string): SpfLookupTally {
  const tally: SpfLookupTally = { total: 0, byTerm: new Map(), loop: null, unfollowed: [] };
  const add = (term: string) => {
    tally.total++;
    tally.byTerm.set(term, (tally.byTerm.get(term) ?? 0) + 1);
  };
  const walk = (text: string, path: readonly string[]) => {
    const terms = parseSpf(text);
    const allIndex = terms.findIndex(isAll);
    const evaluated = allIndex === -1 ? terms : terms.slice(0, allIndex);
    const follow = (target: string) => {
      if (tally.total > SPF_LOOKUP_LIMIT) return;
      if (path.includes(target)) {
        tally.loop ??= [...path, target].join(' → ');
        return;
      }
      const found = spfRecordAt(spf, target);
      if (found.ok) walk(found.record, [...path, target]);
      else tally.unfollowed.push(found.reason);
    };
    for (const term of evaluated) {
      if (tally.total > SPF_LOOKUP_LIMIT) return;
      if (term.kind !== 'mechanism' || !LOOKUP_TERMS.has(term.name)) continue;
      add(term.name);
      if (term.name === 'include' && term.argument) follow(domainOf(term.argument));
    }
    const redirect = allIndex === -1 ? redirectOf(terms) : null;
    if (redirect !== null) {
      add('redirect');
      follow(redirect);
    }
  };
  walk(record, [domain.toLowerCase()]);
  return tally;
}

function describeTally(tally: SpfLookupTally): string {
  const terms = [...tally.byTerm].map(([term, count]) => `${term} ×${count}`).join(', ');
  return `at least ${tally.total} DNS lookups (limit ${SPF_LOOKUP_LIMIT}): ${terms}`;
}

export const spfCheck: ScanCheck = {
  id: 'spf',
  findingIds: ['email.spf.missing', 'email.spf.permissive', 'email.spf.too-many-lookups'],
  run(facts) {
    const lookup = facts.dns.spf;
    if (!lookup.ok) return errored(`SPF lookup failed: ${lookup.error}`);
    const spf = lookup.value;
    const records = spf.records.filter((text) => IS_SPF.test(text.trim()));
    if (records.length === 0) {
      const evidence = `no v=spf1 TXT record at ${facts.host}`;
      return judged([makeFinding('email.spf.missing', { evidence })], 'no SPF record');
    }
    // RFC 7208 §4.5: two v=spf1 records are a permanent error; receivers then have no usable SPF.
    if (records.length > 1) {
      const shown = records.map((record) => `"${clip(record, 80)}"`).join(', ');
      const evidence = `${records.length} v=spf1 records at ${facts.host} (permerror, none is used): ${shown}`;
      return judged([makeFinding('email.spf.missing', { evidence })], 'conflicting SPF records');
    }
    const record = records[0]!;
    const shown = `"${clip(record, 160)}"`;
    const findings: Finding[] = [];
    const result = defaultResult(spf, record, [facts.host.toLowerCase()]);
    if (result && (result.qualifier === '+' || result.qualifier === '?')) {
      findings.push(makeFinding('email.spf.permissive', { evidence: `${shown} ${result.because}` }));
    }
    const tally = countSpfLookups(spf, facts.host, record);
    if (tally.loop !== null) {
      const evidence = `include loop ${tally.loop}: evaluation can never finish within ${SPF_LOOKUP_LIMIT} lookups`;
      findings.push(makeFinding('email.spf.too-many-lookups', { evidence }));
    } else if (tally.total > SPF_LOOKUP_LIMIT) {
      findings.push(makeFinding('email.spf.too-many-lookups', { evidence: describeTally(tally) }));
    }
    const unfollowed = tally.unfollowed.length > 0 ? `; not followed: ${tally.unfollowed.join(', ')}` : '';
    const detail =
      findings.length > 0 ? foundTitles(findings) : `${shown}; ${tally.total} DNS lookups${unfollowed}`;
    return judged(findings, detail);
  },
};

// ---- DMARC (RFC 7489) ----

/** Tag names lower-cased, values trimmed: `V = DMARC1 ; P = None` reads like `v=DMARC1; p=none`. */
export function parseDmarcTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const equals = part.indexOf('=');
    if (equals === -1) continue;
    const name = part.slice(0, equals).trim().toLowerCase();
    if (name && !tags.has(name)) tags.set(name, part.slice(equals + 1).trim());
  }
  return tags;
}

function isDmarcRecord(record: string): boolean {
  const first = record.split(';')[0] ?? '';
  const [name = '', value = ''] = first.split('=').map((text) => text.trim());
  return name.toLowerCase() === 'v' && value.toUpperCase() === 'DMARC1';
}

const DMARC_POLICIES = new Set(['none', 'quarantine', 'reject']);

export const dmarcCheck: ScanCheck = {
  id: 'dmarc',
  findingIds: ['email.dmarc.missing', 'email.dmarc.none'],
  run(facts) {
    const lookup = facts.dns.dmarc;
    if (!lookup.ok) return errored(`DMARC lookup failed: ${lookup.error}`);
    const { domain, records: texts } = lookup.value;
    const records = texts.filter(isDmarcRecord);
    const missing = (evidence: string) =>
      judged([makeFinding('email.dmarc.missing', { evidence })], 'no usable DMARC policy');
    if (domain === null || records.length === 0) {
      return missing(`no v=DMARC1 TXT record at _dmarc.${facts.host} or at its organisational domain`);
    }
    const at = `_dmarc.${domain}`;
    // RFC 7489 §6.6.3: with more than one record, receivers apply no DMARC at all.
    if (records.length > 1) return missing(`${records.length} v=DMARC1 records at ${at}: none is used`);
    const record = records[0]!;
    const shown = `${at}: "${clip(record, 160)}"`;
    const tags = parseDmarcTags(record);
    // A subdomain inherits the organisational record's sp= policy when it has one.
    const inherited = domain.toLowerCase() !== facts.host.toLowerCase() && tags.has('sp');
    const tag = inherited ? 'sp' : 'p';
    const policy = tags.get(tag)?.toLowerCase();
    if (policy === undefined || !DMARC_POLICIES.has(policy)) {
      // §6.6.3: without a valid policy, a record with rua= acts as p=none; one without it is ignored.
      if (!tags.has('rua')) return missing(`${shown} has no valid ${tag}= tag`);
      const finding = makeFinding('email.dmarc.none', {
        evidence: `${shown} (no valid ${tag}=: treated as none)`,
      });
      return judged([finding], 'DMARC only monitors');
    }
    if (policy === 'none') {
      const evidence = inherited ? `${shown} (sp=none applies to ${facts.host})` : shown;
      return judged([makeFinding('email.dmarc.none', { evidence })], 'DMARC only monitors');
    }
    return judged([], `${shown}: ${tag}=${policy}`);
  },
};
