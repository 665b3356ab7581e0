import dgram from 'node:dgram';
import net from 'node:net';
import type { DecodedPacket, RecordType } from 'dns-packet';
import * as dnsPacket from 'dns-packet';
import type { DnsTransport } from './dns-server';

export interface RawDnsQuery {
  /** `127.0.0.1:PORT`. */
  server: string;
  name: string;
  type: RecordType;
  transport?: DnsTransport;
  /** Advertise this EDNS UDP payload size (adds an OPT record). */
  ednsSize?: number;
  timeoutMs?: number;
}

function splitServer(server: string): { host: string; port: number } {
  const separator = server.lastIndexOf(':');
  return { host: server.slice(0, separator), port: Number(server.slice(separator + 1)) };
}

function encodeQuery(query: RawDnsQuery): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: Math.floor(Math.random() * 65_535),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: query.type, name: query.name, class: 'IN' }],
    additionals:
      query.ednsSize === undefined
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: query.ednsSize,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ],
  });
}

function udpExchange(message: Buffer, host: string, port: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`DNS query timed out after ${timeoutMs} ms (udp)`));
    }, timeoutMs);
    socket.once('message', (answer) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.send(message, port, host);
  });
}

function tcpExchange(message: Buffer, host: string, port: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`DNS query timed out after ${timeoutMs} ms (tcp)`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= received.readUInt16BE(0) + 2) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received.subarray(2, received.readUInt16BE(0) + 2));
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(message.length);
    socket.write(Buffer.concat([prefix, message]));
  });
}

/**
 * One raw DNS exchange (no retries, no TCP fallback), for tests that check what the fixture
 * DNS server puts on the wire. Rejects on timeout.
 */
export async function queryDns(query: RawDnsQuery): Promise<DecodedPacket & { rcode?: string }> {
  const { host, port } = splitServer(query.server);
  const message = encodeQuery(query);
  const timeoutMs = query.timeoutMs ?? 2_000;
  const answer =
    query.transport === 'tcp'
      ? await tcpExchange(message, host, port, timeoutMs)
      : await udpExchange(message, host, port, timeoutMs);
  return dnsPacket.decode(answer);
}

/** The TXT records of an answer, each record's strings joined as SPF and DMARC readers do. */
export function txtStrings(packet: DecodedPacket): string[] {
  return (packet.answers ?? []).flatMap((answer) => {
    if (answer.type !== 'TXT') return [];
    const parts = Array.isArray(answer.data) ? answer.data : [answer.data];
    return [parts.map((part) => part.toString()).join('')];
  });
}

/** The A and AAAA addresses of an answer. */
export function answerAddresses(packet: DecodedPacket): string[] {
  return (packet.answers ?? []).flatMap((answer) =>
    answer.type === 'A' || answer.type === 'AAAA' ? [answer.data] : [],
  );
}
