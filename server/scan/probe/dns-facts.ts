import type { Answer } from 'dns-packet';
import type { CaaRecord, DmarcFacts, DnsFacts, Lookup, SpfFacts } from '../types';
import type { DnsClient, DnsResponse } from './dns-client';

/** At most this many TXT look-ups when following an SPF include tree (RFC 7208 allows 10; we look a bit further to count). */
const MAX_SPF_DOMAINS = 25;

/** Second-level public suffixes common enough to matter for the DMARC organisational domain. */
const TWO_LABEL_SUFFIXES = new Set([
  'co.uk',
  'org.uk',
  'ac.uk',
  'gov.uk',
  'com.au',
  'net.au',
  'org.au',
  'co.nz',
  'co.jp',
  'ne.jp',
  'or.jp',
  'com.br',
  'com.cn',
  'com.mx',
  'co.za',
  'co.in',
  'co.il',
  'com.tr',
  'com.sg',
  'co.kr',
]);

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function failed<T>(error: string): Lookup<T> {
  return { ok: false, error };
}

/** NXDOMAIN and NOERROR-without-data both mean "no records"; anything else is a failed lookup. */
function answersOf(response: DnsResponse, type: Answer['type']): Answer[] | null {
  if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN') return null;
  return response.answers.filter((answer) => answer.type === type);
}

async function lookup<T>(
  client: DnsClient,
  name: string,
  type: 'A' | 'AAAA' | 'TXT' | 'CAA' | 'DNSKEY',
  signal: AbortSignal | undefined,
  read: (answers: Answer[]) => T,
): Promise<Lookup<T>> {
  try {
    const response = await client.query(name, type, signal ? { signal } : {});
    const answers = answersOf(response, type);
    if (answers === null) return failed(`${type} ${name}: ${response.rcode}`);
    return { ok: true, value: read(answers) };
  } catch (error) {
    return failed(`${type} ${name}: ${message(error)}`);
  }
}

function txtStrings(answers: Answer[]): string[] {
  return answers.map((answer) => {
    const data = (answer as { data: Buffer | Buffer[] | string }).data;
    const parts = Array.isArray(data) ? data : [data];
    return parts.map((part) => (typeof part === 'string' ? part : part.toString('utf8'))).join('');
  });
}

export function parentDomains(host: string): string[] {
  const labels = host.split('.');
  return labels.slice(0, -1).map((_, index) => labels.slice(index).join('.'));
}

export function organisationalDomain(host: string): string {
  const labels = host.split('.');
  const lastTwo = labels.slice(-2).join('.');
  return labels.slice(TWO_LABEL_SUFFIXES.has(lastTwo) ? -3 : -2).join('.');
}

export async function resolveAddresses(
  client: DnsClient,
  host: string,
  signal?: AbortSignal,
): Promise<Lookup<string[]>> {
  const readAddresses = (answers: Answer[]) =>
    answers.map((answer) => String((answer as { data: unknown }).data));
  const [v4, v6] = await Promise.all([
    lookup(client, host, 'A', signal, readAddresses),
    lookup(client, host, 'AAAA', signal, readAddresses),
  ]);
  if (v4.ok && v6.ok) return { ok: true, value: [...v4.value, ...v6.value] };
  // One family answering is enough to connect.
  if (v4.ok && v4.value.length > 0) return v4;
  if (v6.ok && v6.value.length > 0) return v6;
  return failed(v4.ok ? (v6 as { error: string }).error : v4.error);
}

/** RFC 8659: the CAA set of the closest name, climbing towards the root (the TLD itself excluded). */
async function findCaa(client: DnsClient, host: string, signal?: AbortSignal) {
  for (const domain of parentDomains(host)) {
    const found = await lookup(client, domain, 'CAA', signal, (answers) =>
      answers.map((answer): CaaRecord => {
        const data = (answer as { data: unknown }).data as { flags?: number; tag: string; value: string };
        return { flags: data.flags ?? 0, tag: data.tag, value: data.value };
      }),
    );
    if (!found.ok) return found;
    if (found.value.length > 0) return { ok: true as const, value: { domain, records: found.value } };
  }
  return { ok: true as const, value: { domain: null, records: [] } };
}

/** Signed when the resolver validated the answer (AD) or the name or a parent zone publishes DNSKEY. */
async function findDnssec(client: DnsClient, host: string, signal?: AbortSignal): Promise<Lookup<boolean>> {
  try {
    const response = await client.query(host, 'A', signal ? { signal } : {});
    if (response.authenticated) return { ok: true, value: true };
  } catch (error) {
    return failed(`A ${host}: ${message(error)}`);
  }
  const apex = organisationalDomain(host);
  const candidates = parentDomains(host).filter((domain) => domain.endsWith(apex));
  for (const domain of candidates) {
    const keys = await lookup(client, domain, 'DNSKEY', signal, (answers) => answers.length > 0);
    if (!keys.ok) return keys;
    if (keys.value) return { ok: true, value: true };
  }
  return { ok: true, value: false };
}

function spfRecords(strings: string[]): string[] {
  return strings.filter((text) => /^v=spf1(\s|$)/i.test(text.trim()));
}

/** Domains an SPF record sends the receiver to for more TXT look-ups. */
export function spfReferences(record: string): string[] {
  return record
    .trim()
    .split(/\s+/)
    .flatMap((term) => {
      const match = /^(?:[+?~-]?include:|redirect=)(.+)$/i.exec(term);
      return match ? [match[1]!.toLowerCase().replace(/\.$/, '')] : [];
    });
}

async function gatherSpf(client: DnsClient, host: string, signal?: AbortSignal): Promise<Lookup<SpfFacts>> {
  const own = await lookup(client, host, 'TXT', signal, txtStrings);
  if (!own.ok) return own;
  const records = spfRecords(own.value);
  const referenced: Record<string, string[] | null> = {};
  const queue = records.flatMap(spfReferences);
  while (queue.length > 0 && Object.keys(referenced).length < MAX_SPF_DOMAINS) {
    const domain = queue.shift()!;
    if (domain in referenced || domain.includes('%')) continue;
    const txt = await lookup(client, domain, 'TXT', signal, txtStrings);
    referenced[domain] = txt.ok ? spfRecords(txt.value) : null;
    if (txt.ok) queue.push(...spfRecords(txt.value).flatMap(spfReferences));
  }
  return { ok: true, value: { records, referenced } };
}

async function gatherDmarc(
  client: DnsClient,
  host: string,
  signal?: AbortSignal,
): Promise<Lookup<DmarcFacts>> {
  const candidates = [...new Set([host, organisationalDomain(host)])];
  for (const domain of candidates) {
    const txt = await lookup(client, `_dmarc.${domain}`, 'TXT', signal, txtStrings);
    if (!txt.ok) return txt;
    const records = txt.value.filter((text) => /^v=DMARC1\s*(;|$)/i.test(text.trim()));
    if (records.length > 0) return { ok: true, value: { domain, records } };
  }
  return { ok: true, value: { domain: null, records: [] } };
}

/** Every DNS fact a scan needs beyond the addresses, gathered concurrently. */
export async function gatherDnsFacts(
  client: DnsClient,
  host: string,
  addresses: Lookup<string[]>,
  signal?: AbortSignal,
): Promise<DnsFacts> {
  const [caa, dnssec, spf, dmarc] = await Promise.all([
    findCaa(client, host, signal),
    findDnssec(client, host, signal),
    gatherSpf(client, host, signal),
    gatherDmarc(client, host, signal),
  ]);
  return { addresses, caa, dnssec, spf, dmarc };
}
