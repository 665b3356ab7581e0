import { randomBytes, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

/** A certificate with its private key, both PEM. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export interface LeafOptions {
  dnsNames: string[];
  ipAddresses?: string[];
  /** Default: one day ago. */
  notBefore?: Date;
  /** Default: 90 days from now. */
  notAfter?: Date;
}

export interface CertificateAuthority {
  name: string;
  /** The self-signed root: give it to clients as an extra CA (or withhold it for an untrusted CA). */
  certPem: string;
  /** Issues a server certificate signed by this CA. Every leaf of the process shares one key pair. */
  issue(options: LeafOptions): Promise<IssuedCertificate>;
}

const DAY_MS = 86_400_000;
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

type X509Module = typeof X509;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

let x509Module: Promise<X509Module> | undefined;
let sharedLeafKeys: Promise<{ keys: CryptoKeyPair; keyPem: string }> | undefined;

/** @peculiar/x509 needs a Reflect metadata polyfill in place before it loads, hence the dynamic import. */
function loadX509(): Promise<X509Module> {
  x509Module ??= (async () => {
    await import('./reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return x509Module;
}

function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
}

async function exportKeyPem(x509: X509Module, key: webcrypto.CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

function leafKeys(x509: X509Module): Promise<{ keys: CryptoKeyPair; keyPem: string }> {
  sharedLeafKeys ??= (async () => {
    const keys = await generateKeyPair();
    return { keys, keyPem: await exportKeyPem(x509, keys.privateKey) };
  })();
  return sharedLeafKeys;
}

/** A positive 128-bit serial (top bit clear so DER does not need a sign byte). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/** Escapes a value for an RFC 4514 distinguished name. */
function dnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (character) => `\\${character}`);
}

/** Creates a fresh self-signed ECDSA P-256 root CA that can issue server certificates. */
export async function createCertificateAuthority(name: string): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const caKeys = await generateKeyPair();
  const caSubject = `CN=${dnValue(name)}, O=Vigil Test Fixtures`;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: caSubject,
    notBefore: new Date(Date.now() - 365 * DAY_MS),
    notAfter: new Date(Date.now() + 10 * 365 * DAY_MS),
    keys: caKeys,
    signingAlgorithm: ECDSA_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey);

  async function issue(options: LeafOptions): Promise<IssuedCertificate> {
    const leaf = await leafKeys(x509);
    const names = [
      ...options.dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    const commonName = options.dnsNames[0] ?? options.ipAddresses?.[0] ?? 'vigil-test-leaf';
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${dnValue(commonName)}`,
      issuer: caCert.subject,
      notBefore: options.notBefore ?? new Date(Date.now() - DAY_MS),
      notAfter: options.notAfter ?? new Date(Date.now() + 90 * DAY_MS),
      publicKey: leaf.keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names),
        authorityKeyId,
      ],
    });
    return { certPem: cert.toString('pem'), keyPem: leaf.keyPem };
  }

  return { name, certPem: caCert.toString('pem'), issue };
}
