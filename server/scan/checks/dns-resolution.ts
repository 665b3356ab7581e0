import { makeFinding } from '../catalogue';
import { errored, judged, type ScanCheck } from './outcome';

export const dnsResolutionCheck: ScanCheck = {
  id: 'dns',
  findingIds: ['dns.unresolvable'],
  run(facts) {
    const addresses = facts.dns.addresses;
    // A timeout or SERVFAIL says nothing about the records: no finding on a failed lookup.
    if (!addresses.ok) return errored(`address lookup failed: ${addresses.error}`);
    if (addresses.value.length === 0) {
      const finding = makeFinding('dns.unresolvable', { evidence: `${facts.host}: no A or AAAA record` });
      return judged([finding], `${facts.host} has no address`);
    }
    return judged([], `${facts.host} resolves to ${addresses.value.join(', ')}`);
  },
};
