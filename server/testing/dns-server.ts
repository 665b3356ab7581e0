import dgram from 'node:dgram';
import net from 'node:net';
import type { Answer, DecodedPacket, Packet, RecordType } from 'dns-packet';
import * as dnsPacket from 'dns-packet';

/** A name's hostile behaviour: `timeout` never answers, `servfail` answers SERVFAIL. */
export type DnsFault = 'timeout' | 'servfail';

export interface ZoneRecords {
  A?: string[];
  AAAA?: string[];
  /** One entry per TXT record; a record given as several strings keeps them apart (long ones are split at 255 bytes). */
  TXT?: Array<string | string[]>;
  CAA?: { flags: number; tag: 'issue' | 'issuewild' | 'iodef'; value: string }[];
  MX?: { preference: number; exchange: string }[];
  NS?: string[];
  SOA?: { mname: string; rname: string; serial: number; minimum: number };
  /** Presence marks the apex of a signed zone. `key` is base64. */
  DNSKEY?: { flags: number; algorithm: number; key: string }[];
  /** Answers for this name and every name below it carry the AD (authenticated data) flag. */
  signed?: boolean;
  fault?: DnsFault;
}

export type DnsTransport = 'udp' | 'tcp';

export interface DnsQueryLogEntry {
  name: string;
  type: string;
  transport: DnsTransport;
}

export interface DnsServer {
  address: '127.0.0.1';
  port: number;
  /** `127.0.0.1:PORT`, the form `--dns` and VIGIL_DNS_SERVERS take. */
  server: string;
  setRecords(name: string, records: ZoneRecords): void;
  deleteRecords(name: string): void;
  /** The most recent queries received (at most 10 000), oldest first. */
  queries(): readonly DnsQueryLogEntry[];
  close(): Promise<void>;
}

const TTL = 300;
const CLASSIC_UDP_LIMIT = 512;
const OUR_EDNS_PAYLOAD = 1232;
const QUERY_LOG_LIMIT = 10_000;
const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4 } as const;

export type Zone = ReadonlyMap<string, ZoneRecords>;

export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function ancestorsAndSelf(name: string): string[] {
  const labels = name.split('.');
  return labels.map((_, index) => labels.slice(index).join('.'));
}

function splitTxt(value: string): Buffer[] {
  const bytes = Buffer.from(value);
  if (bytes.length === 0) return [bytes];
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += 255) chunks.push(bytes.subarray(start, start + 255));
  return chunks;
}

function recordsOfType(name: string, records: ZoneRecords, type: RecordType): Answer[] {
  const base = { name, ttl: TTL, class: 'IN' as const };
  switch (type) {
    case 'A':
      return (records.A ?? []).map((data) => ({ ...base, type: 'A', data }));
    case 'AAAA':
      return (records.AAAA ?? []).map((data) => ({ ...base, type: 'AAAA', data }));
    case 'NS':
      return (records.NS ?? []).map((data) => ({ ...base, type: 'NS', data }));
    case 'TXT':
      return (records.TXT ?? []).map((record) => ({
        ...base,
        type: 'TXT',
        data: (Array.isArray(record) ? record : [record]).flatMap(splitTxt),
      }));
    case 'CAA':
      return (records.CAA ?? []).map((caa) => ({ ...base, type: 'CAA', data: { ...caa } }));
    case 'MX':
      return (records.MX ?? []).map((mx) => ({ ...base, type: 'MX', data: { ...mx } }));
    case 'SOA':
      return records.SOA ? [{ ...base, type: 'SOA', data: { ...records.SOA } }] : [];
    case 'DNSKEY':
      return (records.DNSKEY ?? []).map((key) => ({
        ...base,
        type: 'DNSKEY',
        data: { flags: key.flags, algorithm: key.algorithm, key: Buffer.from(key.key, 'base64') },
      }));
    default:
      return [];
  }
}

function nameExists(zone: Zone, name: string): boolean {
  if (zone.has(name)) return true;
  // An empty non-terminal (a parent of a known name) exists too: NOERROR with no data.
  const suffix = `.${name}`;
  for (const known of zone.keys()) if (known.endsWith(suffix)) return true;
  return false;
}

function findUp(zone: Zone, name: string, test: (records: ZoneRecords) => boolean): string | null {
  for (const candidate of ancestorsAndSelf(name)) {
    const records = zone.get(candidate);
    if (records && test(records)) return candidate;
  }
  return null;
}

function requestedPayloadSize(query: DecodedPacket): number | null {
  const opt = (query.additionals ?? []).find((record) => record.type === 'OPT');
  return opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : null;
}

/**
 * The answer to one query, encoded for the given transport; null = stay silent (timeout fault).
 * UDP answers larger than 512 bytes (or the EDNS size the query offers) are cut to the header with TC set.
 */
export function answerQuery(zone: Zone, query: DecodedPacket, transport: DnsTransport): Buffer | null {
  const question = query.questions?.[0];
  const ednsSize = requestedPayloadSize(query);
  const response: Packet = {
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.RECURSION_AVAILABLE | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0),
    questions: question ? [question] : [],
    answers: [],
    authorities: [],
    additionals:
      ednsSize === null
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: OUR_EDNS_PAYLOAD,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ],
  };
  const withRcode = (rcode: number): void => {
    response.flags = ((response.flags ?? 0) & ~0xf) | rcode;
  };

  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  if (!question || opcode !== 0) {
    withRcode(question ? RCODE.notImp : RCODE.formErr);
  } else {
    const name = normaliseName(question.name);
    const faulty = zone.get(name)?.fault;
    if (faulty === 'timeout') return null;
    if (faulty === 'servfail') {
      withRcode(RCODE.servFail);
    } else {
      const records = zone.get(name);
      if (records) response.answers = recordsOfType(question.name, records, question.type);
      if (!nameExists(zone, name)) withRcode(RCODE.nxDomain);
      if (response.answers?.length === 0) {
        const apex = findUp(zone, name, (candidate) => candidate.SOA !== undefined);
        const soa = apex ? zone.get(apex) : undefined;
        if (apex && soa) response.authorities = recordsOfType(apex, soa, 'SOA');
      }
      if (findUp(zone, name, (candidate) => candidate.signed === true)) {
        response.flags = (response.flags ?? 0) | dnsPacket.AUTHENTIC_DATA;
      }
    }
  }

  const encoded = dnsPacket.encode(response);
  if (transport === 'tcp') return encoded;
  const limit = Math.max(CLASSIC_UDP_LIMIT, Math.min(ednsSize ?? 0, 65_535));
  if (encoded.length <= limit) return encoded;
  return dnsPacket.encode({
    ...response,
    flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
  });
}

function decodeQuery(message: Buffer): DecodedPacket | null {
  try {
    const packet = dnsPacket.decode(message);
    return packet.type === 'query' ? packet : null;
  } catch {
    return null;
  }
}

function listenUdp(socket: dgram.Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // Never bound: nothing to close.
  }
}

/** Starts a DNS server on 127.0.0.1, UDP and TCP on one random port, answering from a mutable zone map. */
export async function startDnsServer(initial: Record<string, ZoneRecords> = {}): Promise<DnsServer> {
  const zone = new Map<string, ZoneRecords>();
  for (const [name, records] of Object.entries(initial)) zone.set(normaliseName(name), records);
  const log: DnsQueryLogEntry[] = [];

  const respond = (message: Buffer, transport: DnsTransport): Buffer | null => {
    const query = decodeQuery(message);
    if (!query) return null;
    const question = query.questions?.[0];
    if (question) {
      log.push({ name: normaliseName(question.name), type: question.type, transport });
      if (log.length > QUERY_LOG_LIMIT) log.splice(0, log.length - QUERY_LOG_LIMIT);
    }
    return answerQuery(zone, query, transport);
  };

  const sockets = new Set<net.Socket>();
  const handleTcp = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(30_000, () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < length + 2) break;
        const message = pending.subarray(2, length + 2);
        pending = pending.subarray(length + 2);
        const answer = respond(message, 'tcp');
        if (!answer) continue;
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(answer.length);
        socket.write(Buffer.concat([prefix, answer]));
      }
    });
  };

  for (let attempt = 0; ; attempt++) {
    // A big receive buffer: a fleet-wide burst of queries must not be dropped by the kernel.
    const udp = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    const tcp = net.createServer(handleTcp);
    try {
      await listenUdp(udp, 0);
      const { port } = udp.address();
      await listenTcp(tcp, port);
      udp.on('message', (message, remote) => {
        const answer = respond(message, 'udp');
        if (answer) udp.send(answer, remote.port, remote.address);
      });
      udp.on('error', () => {});
      let closing: Promise<void> | undefined;
      return {
        address: '127.0.0.1',
        port,
        server: `127.0.0.1:${port}`,
        setRecords: (name, records) => zone.set(normaliseName(name), records),
        deleteRecords: (name) => zone.delete(normaliseName(name)),
        queries: () => log,
        close: () => {
          closing ??= (async () => {
            for (const socket of sockets) socket.destroy();
            await Promise.all([
              new Promise<void>((resolve) => udp.close(() => resolve())),
              new Promise<void>((resolve) => tcp.close(() => resolve())),
            ]);
          })();
          return closing;
        },
      };
    } catch (error) {
      closeQuietly(udp);
      tcp.close();
      // The UDP port was free but its TCP twin was taken: try another pair.
      if (attempt >= 20 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
}
