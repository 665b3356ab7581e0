import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority } from './ca';

describe('test certificate authority', () => {
  it('issues ECDSA P-256 server certificates for the names and dates asked for', async () => {
    const ca = await createCertificateAuthority('Vigil Test CA');
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const notAfter = new Date('2026-03-01T00:00:00Z');
    const leaf = await ca.issue({
      dnsNames: ['shop.example.test', '*.shop.example.test'],
      notBefore,
      notAfter,
    });

    const certificate = new X509Certificate(leaf.certPem);
    const root = new X509Certificate(ca.certPem);
    expect(certificate.subjectAltName).toBe('DNS:shop.example.test, DNS:*.shop.example.test');
    expect(new Date(certificate.validFrom)).toEqual(notBefore);
    expect(new Date(certificate.validTo)).toEqual(notAfter);
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(certificate.checkIssued(root)).toBe(true);
    expect(certificate.verify(root.publicKey)).toBe(true);
    expect(certificate.ca).toBe(false);
    expect(root.ca).toBe(true);
    expect(root.subject).toContain('CN=Vigil Test CA');
    expect(leaf.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(certificate.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
  });

  it('makes a second CA whose certificates the first one does not vouch for', async () => {
    const trusted = await createCertificateAuthority('Vigil Test CA');
    const untrusted = await createCertificateAuthority('Untrusted Test CA');
    const leaf = new X509Certificate((await untrusted.issue({ dnsNames: ['shop.example.test'] })).certPem);
    const trustedRoot = new X509Certificate(trusted.certPem);
    expect(leaf.checkIssued(trustedRoot)).toBe(false);
    expect(leaf.verify(trustedRoot.publicKey)).toBe(false);
    expect(leaf.verify(new X509Certificate(untrusted.certPem).publicKey)).toBe(true);
  });
});
