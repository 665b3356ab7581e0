import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { getServers } from 'node:dns';
import { isIPv6, Socket } from 'node:net';
import dnsPacket, { type Answer, type Packet, type RecordType } from 'dns-packet';

export interface DnsServer {
  host: string;
  port: number;
}

export interface DnsResponse {
  rcode: string;
  /** The resolver's AD flag: it validated the answer with DNSSEC. */
  authenticated: boolean;
  answers: Answer[];
}

export interface DnsClient {
  query(name: string, type: RecordType, options?: { signal?: AbortSignal }): Promise<DnsResponse>;
}

export interface DnsClientOptions {
  /** `host:port`, `[v6]:port` or a bare address; empty means the system's resolvers. */
  servers?: readonly string[];
  /** Per attempt. */
  timeoutMs?: number;
  attempts?: number;
}

const MAX_TCP_MESSAGE = 65_535;
const UDP_PAYLOAD_SIZE = 1232;

export function parseDnsServer(spec: string): DnsServer {
  const trimmed = spec.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) };
  if (isIPv6(trimmed)) return { host: trimmed, port: 53 };
  const [host, port] = trimmed.split(':');
  const portNumber = Number(port ?? 53);
  if (!host || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
    throw new Error(`Invalid DNS server "${spec}": expected host:port`);
  }
  return { host, port: portNumber };
}

function encodeQuery(id: number, name: string, type: RecordType): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ type, name, class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: UDP_PAYLOAD_SIZE,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: dnsPacket.DNSSEC_OK,
        flag_do: true,
        options: [],
      },
    ],
  });
}

function matches(packet: Packet, id: number, name: string): boolean {
  const question = packet.questions?.[0];
  return packet.id === id && question !== undefined && question.name.toLowerCase() === name.toLowerCase();
}

function toResponse(packet: Packet): DnsResponse {
  const decoded = packet as Packet & { rcode?: string; flag_ad?: boolean };
  return {
    rcode: decoded.rcode ?? 'NOERROR',
    authenticated: decoded.flag_ad === true,
    answers: packet.answers ?? [],
  };
}

function withTimeout<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  start: (settle: (error: Error | null, value?: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const settle = (error: Error | null, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup();
      if (error) reject(error);
      else resolve(value as T);
    };
    const onAbort = () => settle(new Error('DNS query aborted'));
    const timer = setTimeout(() => settle(new Error(`DNS query timed out after ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = start(settle);
    if (signal?.aborted) onAbort();
  });
}

function queryUdp(
  server: DnsServer,
  name: string,
  type: RecordType,
  timeoutMs: number,
  signal?: AbortSignal,
) {
  const id = randomInt(0, 65_536);
  return withTimeout<Packet>(timeoutMs, signal, (settle) => {
    const socket = dgram.createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    socket.on('error', (error) => settle(error));
    socket.on('message', (message, remote) => {
      // Only the server we asked, with our id and question, may answer (spoofing guard).
      if (remote.port !== server.port) return;
      let packet: Packet;
      try {
        packet = dnsPacket.decode(message);
      } catch {
        return;
      }
      if (matches(packet, id, name)) settle(null, packet);
    });
    socket.send(encodeQuery(id, name, type), server.port, server.host, (error) => {
      if (error) settle(error);
    });
    return () => socket.close();
  });
}

function queryTcp(
  server: DnsServer,
  name: string,
  type: RecordType,
  timeoutMs: number,
  signal?: AbortSignal,
) {
  const id = randomInt(0, 65_536);
  return withTimeout<Packet>(timeoutMs, signal, (settle) => {
    const socket = new Socket();
    let buffered = Buffer.alloc(0);
    socket.on('error', (error) => settle(error));
    socket.on('close', () => settle(new Error('DNS server closed the TCP connection')));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_TCP_MESSAGE + 2) return settle(new Error('DNS TCP answer too large'));
      if (buffered.length < 2) return;
      const length = buffered.readUInt16BE(0);
      if (buffered.length < length + 2) return;
      try {
        const packet = dnsPacket.decode(buffered.subarray(2, length + 2));
        settle(
          matches(packet, id, name) ? null : new Error('DNS answer does not match the question'),
          packet,
        );
      } catch {
        settle(new Error('malformed DNS answer'));
      }
    });
    socket.connect(server.port, server.host, () => {
      const query = encodeQuery(id, name, type);
      const framed = Buffer.alloc(query.length + 2);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      socket.write(framed);
    });
    return () => socket.destroy();
  });
}

/** A small stub resolver over UDP with TCP fallback, bounded by a timeout per attempt. */
export function createDnsClient(options: DnsClientOptions = {}): DnsClient {
  const specs = options.servers?.length ? options.servers : getServers();
  const servers = specs.map(parseDnsServer);
  if (servers.length === 0)
    throw new Error('No DNS servers configured and none found in the system configuration');
  const timeoutMs = options.timeoutMs ?? 2_000;
  const attempts = options.attempts ?? 3;

  return {
    /** UDP first; a retry after a short random pause; the last attempt over TCP, which a UDP burst cannot drop. */
    async query(name, type, { signal } = {}) {
      let lastError: Error = new Error('no DNS server answered');
      for (let attempt = 0; attempt < attempts; attempt++) {
        const overTcp = attempt === attempts - 1 && attempts > 1;
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, randomInt(50, 250)));
        for (const server of servers) {
          if (signal?.aborted) throw new Error('DNS query aborted');
          try {
            let packet = overTcp
              ? await queryTcp(server, name, type, timeoutMs, signal)
              : await queryUdp(server, name, type, timeoutMs, signal);
            const truncated = ((packet.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0;
            if (truncated && !overTcp) packet = await queryTcp(server, name, type, timeoutMs, signal);
            return toResponse(packet);
          } catch (error) {
            lastError = error instanceof Error ? error : new Error(String(error));
          }
        }
      }
      throw lastError;
    },
  };
}
