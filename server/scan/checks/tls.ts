import { makeFinding } from '../catalogue';
import type { CertificateFacts, CheckOutcome, Finding, ScanFacts, TlsVersion } from '../types';
import { clip, errored, judged, type ScanCheck, skipped } from './outcome';

const DAY_MS = 86_400_000;
const EXPIRING_DAYS = 30;
const EXPIRING_SOON_DAYS = 7;

/** Node/OpenSSL verification errors that only say "outside the validity period" (tls.cert.expired covers them). */
const VALIDITY_ONLY_ERROR =
  /^(?:CERT_HAS_EXPIRED|CERT_NOT_YET_VALID)$|certificate has expired|certificate is not yet valid/i;

type CertificateOrOutcome = { certificate: CertificateFacts } | { outcome: CheckOutcome };

/** The leaf certificate of a completed handshake; a failed handshake is tls.unreachable's business. */
function leafCertificate(facts: ScanFacts): CertificateOrOutcome {
  if (!facts.tls) return { outcome: skipped('nothing to connect to') };
  if (!facts.tls.handshake.ok) return { outcome: skipped(`no certificate: ${facts.tls.handshake.error}`) };
  if (!facts.tls.certificate) return { outcome: errored('the handshake completed without a certificate') };
  return { certificate: facts.tls.certificate };
}

export const tlsReachableCheck: ScanCheck = {
  id: 'tls',
  findingIds: ['tls.unreachable'],
  run(facts) {
    const tls = facts.tls;
    if (!tls) return skipped('nothing to connect to');
    if (tls.handshake.ok) return judged([], `handshake completed (${tls.handshake.protocol})`);
    const plain = facts.httpHome.responses[0];
    if (!plain)
      return errored(`TLS handshake failed (${tls.handshake.error}) and HTTP did not answer either`);
    const finding = makeFinding('tls.unreachable', {
      evidence: `TLS handshake with port ${facts.httpsPort} failed: ${tls.handshake.error}; http://${facts.host}/ answers ${plain.status}`,
    });
    return judged([finding], 'HTTP answers but HTTPS does not');
  },
};

export const tlsValidityCheck: ScanCheck = {
  id: 'tls-validity',
  findingIds: ['tls.cert.expired', 'tls.cert.expiring'],
  run(facts) {
    const leaf = leafCertificate(facts);
    if ('outcome' in leaf) return leaf.outcome;
    const { validFrom, validTo } = leaf.certificate;
    const now = Date.parse(facts.scannedAt);
    const notBefore = Date.parse(validFrom);
    const notAfter = Date.parse(validTo);
    if ([now, notBefore, notAfter].some(Number.isNaN)) {
      return errored(`unreadable validity dates: ${validFrom} – ${validTo}`);
    }
    if (now < notBefore) {
      const evidence = `notBefore ${validFrom} is after the scan time ${facts.scannedAt}`;
      return judged([makeFinding('tls.cert.expired', { evidence })], 'certificate not yet valid');
    }
    // RFC 5280: notAfter itself is still inside the validity period.
    if (now > notAfter) {
      const evidence = `notAfter ${validTo} passed ${Math.ceil((now - notAfter) / DAY_MS)} day(s) before the scan`;
      return judged([makeFinding('tls.cert.expired', { evidence })], 'certificate expired');
    }
    const daysLeft = Math.floor((notAfter - now) / DAY_MS);
    const detail = `valid until ${validTo} (${daysLeft} days left)`;
    if (daysLeft > EXPIRING_DAYS) return judged([], detail);
    const finding = makeFinding('tls.cert.expiring', {
      evidence: `notAfter ${validTo}: ${daysLeft} days left`,
      severity: daysLeft <= EXPIRING_SOON_DAYS ? 'high' : 'medium',
    });
    return judged([finding], detail);
  },
};

export const tlsTrustCheck: ScanCheck = {
  id: 'tls-trust',
  findingIds: ['tls.cert.untrusted'],
  run(facts) {
    const leaf = leafCertificate(facts);
    if ('outcome' in leaf) return leaf.outcome;
    const tls = facts.tls!;
    const issuer = `issuer ${clip(leaf.certificate.issuer, 120)}`;
    if (tls.chainTrusted) return judged([], `chain verifies (${issuer})`);
    if (tls.chainError && VALIDITY_ONLY_ERROR.test(tls.chainError)) {
      return judged([], `chain verifies apart from the validity period (${issuer})`);
    }
    const finding = makeFinding('tls.cert.untrusted', {
      evidence: `${tls.chainError ?? 'chain not verified'}; ${issuer}`,
    });
    return judged([finding], 'chain does not verify');
  },
};

export const tlsHostnameCheck: ScanCheck = {
  id: 'tls-hostname',
  findingIds: ['tls.cert.hostname'],
  run(facts) {
    const leaf = leafCertificate(facts);
    if ('outcome' in leaf) return leaf.outcome;
    const tls = facts.tls!;
    if (tls.hostnameMatches) return judged([], `certificate covers ${facts.host}`);
    const names = leaf.certificate.subjectAltNames;
    const shown = names.length > 5 ? [...names.slice(0, 5), `… ${names.length - 5} more`] : names;
    const finding = makeFinding('tls.cert.hostname', {
      evidence: `${clip(tls.hostnameError ?? `not valid for ${facts.host}`)}; names: ${shown.join(', ') || 'none'}`,
    });
    return judged([finding], `certificate does not cover ${facts.host}`);
  },
};

const LEGACY_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1'];

export const tlsProtocolsCheck: ScanCheck = {
  id: 'tls-protocols',
  findingIds: ['tls.protocol.legacy', 'tls.protocol.no-tls13'],
  run(facts) {
    const tls = facts.tls;
    if (!tls) return skipped('nothing to connect to');
    const versions = Object.entries(tls.protocols) as [TlsVersion, boolean | null][];
    const accepted = versions.filter(([, ok]) => ok === true).map(([version]) => version);
    // A server that completes no handshake at all is reported once, by tls.unreachable.
    if (!tls.handshake.ok && accepted.length === 0) return skipped('no TLS version accepted');
    const findings: Finding[] = [];
    const legacy = accepted.filter((version) => LEGACY_VERSIONS.includes(version));
    if (legacy.length > 0) {
      findings.push(makeFinding('tls.protocol.legacy', { evidence: `accepted: ${legacy.join(', ')}` }));
    }
    if (tls.protocols['TLSv1.3'] === false) {
      findings.push(
        makeFinding('tls.protocol.no-tls13', {
          evidence: `TLSv1.3 refused; accepted: ${accepted.join(', ') || 'none'}`,
        }),
      );
    }
    const untested = versions.filter(([, ok]) => ok === null).map(([version]) => version);
    const detail = `accepted: ${accepted.join(', ') || 'none'}${untested.length > 0 ? `; not tested: ${untested.join(', ')}` : ''}`;
    return judged(findings, detail);
  },
};
