import { describe, expect, it } from 'vitest';
import { countSpfLookups, dmarcCheck, parseDmarcTags, parseSpf, spfCheck } from './email';
import { buildFacts, findingIds, HOST, runCheck } from './facts-builder';

const spf = (records: string[], referenced: Record<string, string[] | null> = {}) =>
  runCheck(spfCheck, buildFacts({ dns: { spf: { ok: true, value: { records, referenced } } } }));

const dmarc = (records: string[], domain: string | null = 'example.com') =>
  runCheck(dmarcCheck, buildFacts({ dns: { dmarc: { ok: true, value: { domain, records } } } }));

describe('SPF parsing', () => {
  it('reads qualifiers, mechanisms and modifiers', () => {
    expect(
      parseSpf('v=spf1 -ip4:192.0.2.0/24 a/24 include:_spf.example.net redirect=_spf.example.org ~ALL'),
    ).toEqual([
      { kind: 'mechanism', text: '-ip4:192.0.2.0/24', qualifier: '-', name: 'ip4', argument: '192.0.2.0/24' },
      { kind: 'mechanism', text: 'a/24', qualifier: '+', name: 'a', argument: null },
      {
        kind: 'mechanism',
        text: 'include:_spf.example.net',
        qualifier: '+',
        name: 'include',
        argument: '_spf.example.net',
      },
      { kind: 'modifier', text: 'redirect=_spf.example.org', name: 'redirect', value: '_spf.example.org' },
      { kind: 'mechanism', text: '~ALL', qualifier: '~', name: 'all', argument: null },
    ]);
  });
});

describe('email.spf.missing', () => {
  it('fires without a v=spf1 record (other TXT records do not count)', () => {
    const outcome = spf([]);
    expect(outcome.findings).toMatchObject([{ id: 'email.spf.missing', severity: 'medium' }]);
    expect(findingIds(spf(['google-site-verification=abc', 'v=spf10 -all']))).toEqual(['email.spf.missing']);
  });

  it('fires for two v=spf1 records: a permerror, so receivers have no SPF', () => {
    const outcome = spf(['v=spf1 mx -all', 'v=spf1 include:_spf.google.com ~all']);
    expect(findingIds(outcome)).toEqual(['email.spf.missing']);
    expect(outcome.findings[0]!.evidence).toContain('2 v=spf1 records');
  });

  it('turns a failed lookup into a check error', () => {
    const outcome = runCheck(
      spfCheck,
      buildFacts({ dns: { spf: { ok: false, error: 'TXT shop.example.com: SERVFAIL' } } }),
    );
    expect(outcome).toMatchObject({ status: 'error', findings: [] });
  });
});

describe('email.spf.permissive', () => {
  it.each(['v=spf1 mx +all', 'v=spf1 mx ?all', 'v=spf1 mx all', 'V=SPF1 MX ?ALL'])(
    'fires for %s',
    (record) => {
      const outcome = spf([record]);
      expect(outcome.findings).toMatchObject([{ id: 'email.spf.permissive', severity: 'high' }]);
    },
  );

  it('says a bare all means +all', () => {
    expect(spf(['v=spf1 mx all']).findings[0]!.evidence).toContain('a bare all means +all');
  });

  it.each(['v=spf1 mx -all', 'v=spf1 mx ~all', 'v=spf1 -all +all'])('stays silent for %s', (record) => {
    expect(findingIds(spf([record]))).toEqual([]);
  });

  it('follows redirect= when there is no all', () => {
    expect(
      findingIds(
        spf(['v=spf1 redirect=_spf.example.com'], { '_spf.example.com': ['v=spf1 ip4:192.0.2.1 ?all'] }),
      ),
    ).toEqual(['email.spf.permissive']);
    expect(
      findingIds(
        spf(['v=spf1 redirect=_spf.example.com'], { '_spf.example.com': ['v=spf1 ip4:192.0.2.1 -all'] }),
      ),
    ).toEqual([]);
  });

  it('ignores redirect= when the record has its own all', () => {
    const outcome = spf(['v=spf1 redirect=_spf.example.com -all'], { '_spf.example.com': ['v=spf1 +all'] });
    expect(findingIds(outcome)).toEqual([]);
  });

  it('fires for a record without all or redirect: unlisted senders get neutral', () => {
    const outcome = spf(['v=spf1 mx']);
    expect(findingIds(outcome)).toEqual(['email.spf.permissive']);
    expect(outcome.findings[0]!.evidence).toContain('neutral');
  });

  it('fires when an include passes everyone (its record ends in +all)', () => {
    const outcome = spf(['v=spf1 include:lax.example.net -all'], { 'lax.example.net': ['v=spf1 +all'] });
    expect(outcome.findings[0]!.evidence).toContain('include:lax.example.net passes every sender');
  });

  it('does not guess when the redirect target could not be looked up', () => {
    expect(findingIds(spf(['v=spf1 redirect=_spf.example.com'], { '_spf.example.com': null }))).toEqual([]);
  });
});

describe('email.spf.too-many-lookups', () => {
  const includes = (count: number) =>
    Array.from({ length: count }, (_, index) => `include:s${index}.example.net`);
  const leaves = (count: number) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, index) => [`s${index}.example.net`, ['v=spf1 ip4:192.0.2.1 -all']]),
    );

  it('allows exactly 10 lookups', () => {
    expect(findingIds(spf([`v=spf1 ${includes(8).join(' ')} a mx -all`], leaves(8)))).toEqual([]);
  });

  it('fires at 11, counting include, a, mx, ptr and exists but not ip4/ip6/all', () => {
    const record = `v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 ${includes(7).join(' ')} a mx ptr exists:%{i}.x.example -all`;
    const outcome = spf([record], leaves(7));
    expect(outcome.findings).toMatchObject([{ id: 'email.spf.too-many-lookups', severity: 'medium' }]);
    expect(outcome.findings[0]!.evidence).toBe(
      'at least 11 DNS lookups (limit 10): include ×7, a ×1, mx ×1, ptr ×1, exists ×1',
    );
  });

  it('counts recursively through includes and redirect=', () => {
    const tally = countSpfLookups(
      {
        records: [],
        referenced: {
          'a.example': ['v=spf1 mx mx include:b.example -all'],
          'b.example': ['v=spf1 redirect=c.example'],
          'c.example': ['v=spf1 a a -all'],
        },
      },
      HOST,
      'v=spf1 include:a.example -all',
    );
    expect(tally.total).toBe(7);
    expect(Object.fromEntries(tally.byTerm)).toEqual({ include: 2, mx: 2, redirect: 1, a: 2 });
  });

  it('does not count terms after all', () => {
    expect(countSpfLookups({ records: [], referenced: {} }, HOST, 'v=spf1 -all mx mx mx').total).toBe(0);
  });

  it('reports an include loop instead of recursing forever', () => {
    const outcome = spf(['v=spf1 include:a.example -all'], {
      'a.example': ['v=spf1 include:b.example -all'],
      'b.example': ['v=spf1 include:a.example -all'],
    });
    expect(findingIds(outcome)).toEqual(['email.spf.too-many-lookups']);
    expect(outcome.findings[0]!.evidence).toContain('a.example → b.example → a.example');
  });

  it('stays silent on the hardened record', () => {
    const outcome = runCheck(spfCheck, buildFacts());
    expect(outcome).toMatchObject({ status: 'pass', findings: [] });
    expect(outcome.detail).toContain('2 DNS lookups');
  });
});

describe('DMARC', () => {
  it('parses tags tolerantly', () => {
    expect(Object.fromEntries(parseDmarcTags(' V = DMARC1 ;P = None; rua = mailto:d@example.com ;'))).toEqual(
      {
        v: 'DMARC1',
        p: 'None',
        rua: 'mailto:d@example.com',
      },
    );
  });

  it('reports no record', () => {
    const outcome = dmarc([], null);
    expect(outcome.findings).toMatchObject([{ id: 'email.dmarc.missing', severity: 'medium' }]);
    expect(outcome.findings[0]!.evidence).toContain(`_dmarc.${HOST}`);
  });

  it('reports two records (receivers ignore both) and a record with no usable policy', () => {
    expect(findingIds(dmarc(['v=DMARC1; p=reject', 'v=DMARC1; p=none']))).toEqual(['email.dmarc.missing']);
    expect(findingIds(dmarc(['v=DMARC1; p=bogus']))).toEqual(['email.dmarc.missing']);
  });

  it('reports p=none, whatever the spacing and case', () => {
    const outcome = dmarc(['v=DMARC1;P = NONE ; rua=mailto:d@example.com']);
    expect(outcome.findings).toMatchObject([{ id: 'email.dmarc.none', severity: 'low' }]);
  });

  it('treats a missing p= with rua= as p=none (RFC 7489 §6.6.3)', () => {
    expect(findingIds(dmarc(['v=DMARC1; rua=mailto:d@example.com']))).toEqual(['email.dmarc.none']);
  });

  it('applies sp= of the organisational record to a subdomain', () => {
    const outcome = dmarc(['v=DMARC1; p=reject; sp=none']);
    expect(findingIds(outcome)).toEqual(['email.dmarc.none']);
    expect(outcome.findings[0]!.evidence).toContain('sp=none applies');
    expect(findingIds(dmarc(['v=DMARC1; p=none; sp=reject']))).toEqual([]);
  });

  it('ignores sp= on the domain itself', () => {
    const facts = buildFacts({
      host: 'example.com',
      dns: {
        dmarc: { ok: true, value: { domain: 'example.com', records: ['v=DMARC1; p=none; sp=reject'] } },
      },
    });
    expect(findingIds(runCheck(dmarcCheck, facts))).toEqual(['email.dmarc.none']);
  });

  it('stays silent on p=reject / p=quarantine and errors on a failed lookup', () => {
    expect(runCheck(dmarcCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
    expect(findingIds(dmarc(['v=DMARC1; p=quarantine']))).toEqual([]);
    const failed = buildFacts({ dns: { dmarc: { ok: false, error: 'timeout' } } });
    expect(runCheck(dmarcCheck, failed)).toMatchObject({ status: 'error', findings: [] });
  });
});
