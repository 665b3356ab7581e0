const KNOWN_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed by the server',
  HPE_HEADER_OVERFLOW: 'response headers larger than 64 KiB',
};

/** A one-line, human description of a socket, TLS or HTTP parser error. */
export function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code && code in KNOWN_CODES) return KNOWN_CODES[code]!;
  if (code?.startsWith('HPE_')) return `malformed HTTP response (${code})`;
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
