import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { AppError } from '../errors';

export interface Target {
  /** What the user typed, trimmed. */
  input: string;
  /** Lower-case ASCII (punycode) host name, or an IP literal when allowed. */
  host: string;
  httpsPort: number;
  httpPort: number;
}

export interface TargetOptions {
  /** IP literals are refused unless allowed (the CLI allows them with --allow-private). */
  allowIpLiteral?: boolean;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_INPUT = 2048;

function invalid(input: string, reason: string): AppError {
  return new AppError('invalid_target', `Invalid target "${input}": ${reason}`);
}

function parsePort(input: string, raw: string): number {
  if (!/^\d{1,5}$/.test(raw)) throw invalid(input, `port "${raw}" is not a number`);
  const port = Number(raw);
  if (port < 1 || port > 65535) throw invalid(input, `port ${port} is out of range 1-65535`);
  return port;
}

/** Splits `host`, `host:port`, `[v6]:port` or a URL into host and HTTPS port. */
function splitHostPort(input: string): { rawHost: string; port: number | null; scheme: string | null } {
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);
  if (schemeMatch) {
    const scheme = schemeMatch[1]!.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https')
      throw invalid(input, `scheme "${scheme}" is not http or https`);
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw invalid(input, 'not a valid URL');
    }
    if (url.username || url.password) throw invalid(input, 'credentials in the URL are not allowed');
    if (url.pathname.split('/').includes('..') || /\/\.\.(\/|$)/.test(input)) {
      throw invalid(input, 'path contains ".."');
    }
    // WHATWG URL already punycodes the host; an explicit :443/:80 is dropped by it.
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return { rawHost: host, port: url.port ? Number(url.port) : null, scheme };
  }
  if (/[/\\?#@]/.test(input)) {
    throw invalid(
      input,
      input.includes('..') ? 'path contains ".."' : 'expected a host name, host:port or URL',
    );
  }
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(input);
  if (bracketed) {
    return {
      rawHost: bracketed[1]!,
      port: bracketed[2] === undefined ? null : parsePort(input, bracketed[2]),
      scheme: null,
    };
  }
  const colons = input.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = input.split(':') as [string, string];
    return { rawHost: host, port: parsePort(input, port), scheme: null };
  }
  return { rawHost: input, port: null, scheme: null };
}

/** Parses and normalises a scan target (SPEC.md "Target and network rules"). */
export function parseTarget(raw: string, options: TargetOptions = {}): Target {
  const input = raw.trim();
  if (input === '') throw invalid(raw, 'empty');
  if (input.length > MAX_INPUT) throw invalid(`${input.slice(0, 40)}…`, 'longer than 2048 characters');
  if (/\s/.test(input)) throw invalid(input, 'contains white space');

  const { rawHost, port, scheme } = splitHostPort(input);
  // A port belongs to the scheme it was given with; a bare host:port is the HTTPS port.
  const httpsPort = scheme === 'http' ? 443 : (port ?? 443);
  const httpPort = scheme === 'http' ? (port ?? 80) : 80;

  if (isIP(rawHost)) {
    if (!options.allowIpLiteral)
      throw invalid(input, 'IP addresses are not allowed; use a host name (or --allow-private)');
    return { input, host: rawHost.toLowerCase(), httpsPort, httpPort };
  }

  const withoutDot = rawHost.endsWith('.') ? rawHost.slice(0, -1) : rawHost;
  if (withoutDot === '') throw invalid(input, 'no host name');
  if (/^[\d.]+$/.test(withoutDot)) throw invalid(input, 'not a valid IP address or host name');
  if (/(^|\.)\d+$/.test(withoutDot)) throw invalid(input, 'the top-level label cannot be all digits');
  const ascii = domainToASCII(withoutDot);
  if (ascii === '') throw invalid(input, 'not a valid host name (IDN conversion failed)');
  const host = ascii.toLowerCase();
  if (host.length > 253) throw invalid(input, 'host name is longer than 253 characters');
  const labels = host.split('.');
  if (labels.length < 2)
    throw invalid(input, 'expected a fully-qualified host name such as shop.example.com');
  for (const label of labels) {
    if (label.length > 63)
      throw invalid(input, `label "${label.slice(0, 20)}…" is longer than 63 characters`);
    if (!LABEL.test(label))
      throw invalid(input, `label "${label}" has characters other than a-z, 0-9 and inner "-"`);
  }
  return { input, host, httpsPort, httpPort };
}

/** How a target is shown and stored: the host, with the port only when it is not 443. */
export function formatTarget(target: Pick<Target, 'host' | 'httpsPort' | 'httpPort'>): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  if (target.httpPort !== 80) return `http://${host}:${target.httpPort}`;
  return target.httpsPort === 443 ? host : `${host}:${target.httpsPort}`;
}
