import { readFileSync } from 'node:fs';
import tls, { type DetailedPeerCertificate, type SecureVersion } from 'node:tls';
import type { CertificateFacts, TlsFacts, TlsVersion } from '../types';
import { describeNetworkError } from './network-error';

export interface TlsProbeOptions {
  host: string;
  address: string;
  port: number;
  /** Extra trusted CA certificates (PEM), on top of the system store and NODE_EXTRA_CA_CERTS. */
  extraCaPems?: readonly string[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** OpenSSL errors that mean "this client cannot even offer that version", not "the server refused it". */
const LOCAL_INCAPABLE =
  /no protocols available|unsupported protocol.*client|NO_SUITABLE|no ciphers available/i;

function extraCertificatesFromFile(path: string | undefined): string[] {
  if (!path) return [];
  try {
    return [readFileSync(path, 'utf8')];
  } catch {
    return [];
  }
}

const trustContexts = new Map<string, tls.SecureContext>();

/**
 * A TLS context trusting Node's roots, NODE_EXTRA_CA_CERTS and the scan's own extra CAs; built once per
 * set of extra CAs (parsing ~140 root certificates on every scan costs more CPU than the scan itself).
 */
export function trustContext(
  extraCaPems: readonly string[] | undefined,
  extraCaFile?: string,
): tls.SecureContext | undefined {
  if (!extraCaPems?.length) return undefined;
  const key = `${extraCaFile ?? ''}\n${extraCaPems.join('\n')}`;
  let context = trustContexts.get(key);
  if (!context) {
    context = tls.createSecureContext({
      ca: [...tls.rootCertificates, ...extraCertificatesFromFile(extraCaFile), ...extraCaPems],
    });
    trustContexts.set(key, context);
  }
  return context;
}

function certificateFacts(certificate: DetailedPeerCertificate): CertificateFacts | null {
  if (!certificate || Object.keys(certificate).length === 0) return null;
  const name = (fields: Record<string, string | string[]> | undefined) =>
    fields
      ? Object.entries(fields)
          .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
          .join(', ')
      : '';
  return {
    subject: name(certificate.subject as unknown as Record<string, string>),
    issuer: name(certificate.issuer as unknown as Record<string, string>),
    validFrom: new Date(certificate.valid_from).toISOString(),
    validTo: new Date(certificate.valid_to).toISOString(),
    subjectAltNames: (certificate.subjectaltname ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
    fingerprint256: certificate.fingerprint256,
  };
}

interface Handshake {
  socket: tls.TLSSocket;
}

function handshake(
  options: TlsProbeOptions,
  extra: {
    minVersion?: SecureVersion;
    maxVersion?: SecureVersion;
    ciphers?: string;
    secureContext?: tls.SecureContext;
  },
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const socket = tls.connect({
      host: options.address,
      port: options.port,
      servername: options.host,
      rejectUnauthorized: false,
      ...extra,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS handshake did not complete within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onAbort = () => socket.destroy(new Error('scan aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ socket });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    });
  });
}

async function acceptsVersion(options: TlsProbeOptions, version: TlsVersion): Promise<boolean | null> {
  const legacy = version === 'TLSv1' || version === 'TLSv1.1';
  try {
    const { socket } = await handshake(options, {
      minVersion: version,
      maxVersion: version,
      ...(legacy ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    });
    const negotiated = socket.getProtocol();
    socket.destroy();
    return negotiated === version;
  } catch (error) {
    const text =
      error instanceof Error ? `${error.message} ${(error as NodeJS.ErrnoException).code ?? ''}` : '';
    if (LOCAL_INCAPABLE.test(text) && !/alert|wrong version|protocol version/i.test(text)) return null;
    return false;
  }
}

/** Handshake once with default settings (certificate, chain, hostname), then once per protocol version. */
export async function probeTls(options: TlsProbeOptions, extraCaFile?: string): Promise<TlsFacts> {
  const secureContext = trustContext(options.extraCaPems, extraCaFile);
  const protocols = Object.fromEntries(VERSIONS.map((version) => [version, null])) as Record<
    TlsVersion,
    boolean | null
  >;
  let main: Handshake;
  try {
    main = await handshake(options, secureContext ? { secureContext } : {});
  } catch (error) {
    return {
      handshake: { ok: false, error: describeNetworkError(error) },
      certificate: null,
      chainTrusted: false,
      chainError: null,
      hostnameMatches: false,
      hostnameError: null,
      protocols,
    };
  }
  const { socket } = main;
  const peer = socket.getPeerCertificate(true);
  const protocol = socket.getProtocol() ?? 'unknown';
  const certificate = certificateFacts(peer);
  // Node folds the name check into authorization; the chain itself verified when only the name is wrong.
  const authorizationError = socket.authorizationError ? String(socket.authorizationError) : null;
  const chainError = authorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID' ? null : authorizationError;
  const hostnameProblem =
    peer && Object.keys(peer).length > 0 ? tls.checkServerIdentity(options.host, peer) : undefined;
  socket.destroy();

  const accepted = await Promise.all(VERSIONS.map((version) => acceptsVersion(options, version)));
  VERSIONS.forEach((version, index) => {
    protocols[version] = accepted[index] ?? null;
  });
  if (protocols[protocol as TlsVersion] === false) protocols[protocol as TlsVersion] = true;

  return {
    handshake: { ok: true, protocol },
    certificate,
    chainTrusted: chainError === null,
    chainError,
    hostnameMatches: certificate !== null && hostnameProblem === undefined,
    hostnameError: hostnameProblem ? hostnameProblem.message : null,
    protocols,
  };
}
