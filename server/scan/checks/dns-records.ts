import { makeFinding } from '../catalogue';
import { clip, errored, judged, type ScanCheck } from './outcome';

export const caaCheck: ScanCheck = {
  id: 'caa',
  findingIds: ['dns.caa.missing'],
  run(facts) {
    const caa = facts.dns.caa;
    if (!caa.ok) return errored(`CAA lookup failed: ${caa.error}`);
    const { domain, records } = caa.value;
    if (domain === null || records.length === 0) {
      const evidence = `no CAA record on ${facts.host} or its parent domains`;
      return judged([makeFinding('dns.caa.missing', { evidence })], 'any CA may issue');
    }
    const shown = records.map((record) => `${record.flags} ${record.tag} "${record.value}"`).join(', ');
    return judged([], clip(`CAA at ${domain}: ${shown}`));
  },
};

export const dnssecCheck: ScanCheck = {
  id: 'dnssec',
  findingIds: ['dns.dnssec.missing'],
  run(facts) {
    const dnssec = facts.dns.dnssec;
    if (!dnssec.ok) return errored(`DNSSEC lookup failed: ${dnssec.error}`);
    if (dnssec.value) return judged([], 'the zone is signed');
    const evidence = `no validated answer and no DNSKEY for ${facts.host} or its zone`;
    return judged([makeFinding('dns.dnssec.missing', { evidence })], 'the zone is not signed');
  },
};
