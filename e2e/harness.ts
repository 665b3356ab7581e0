/**
 * The world the e2e journeys run in, as one child process: a fixture fleet on loopback, the real Vigil
 * server over a fresh data dir, and a small control endpoint so tests (in Playwright workers) can
 * reconfigure fleet sites. Prints one JSON line `{ url, setupUrl, control, hosts }` when ready (setupUrl: the
 * first-run link the server printed); stops on SIGTERM.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { startServer } from '../server/serve';
import { SITE_PRESETS, startFleet } from '../server/testing/fleet';
import { E2E_SITES } from './sites';

const fleet = await startFleet(
  Object.fromEntries(Object.entries(E2E_SITES).map(([name, preset]) => [name, SITE_PRESETS[preset]])),
);

const dataDir = await mkdtemp(join(tmpdir(), 'vigil-e2e-'));
const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  storage: dataDir,
  dnsServers: [fleet.dnsServer],
  allowPrivate: true,
  extraCaPems: [fleet.caCertPem],
  // Quick ticks so scheduled first scans start within seconds, as "scan now" does.
  tickCron: '*/2 * * * * *',
  shutdownGraceMs: 1_000,
  // stdout carries the one ready line; the server's log goes to stderr.
  log: (line) => process.stderr.write(`${line}\n`),
});

const reconfigureSchema = z.object({
  name: z.enum(Object.keys(E2E_SITES) as [string, ...string[]]),
  preset: z.enum(Object.keys(SITE_PRESETS) as [keyof typeof SITE_PRESETS, ...(keyof typeof SITE_PRESETS)[]]),
});

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** POST /reconfigure { name, preset }: the fleet site now behaves like that preset. */
const control = http.createServer((request, response) => {
  void (async () => {
    try {
      if (request.method !== 'POST' || request.url !== '/reconfigure') {
        response.writeHead(404).end();
        return;
      }
      const { name, preset } = reconfigureSchema.parse(JSON.parse(await readBody(request)));
      const spec = SITE_PRESETS[preset];
      await fleet.reconfigure(name, {
        behaviour: spec.behaviour,
        tls: spec.tls,
        http: spec.http,
        dns: spec.dns,
      });
      response.writeHead(204).end();
    } catch (error) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
    }
  })();
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
const controlAddress = control.address();
if (controlAddress === null || typeof controlAddress === 'string')
  throw new Error('control server has no port');

const hosts = Object.fromEntries(Object.keys(E2E_SITES).map((name) => [name, fleet.host(name)]));
process.stdout.write(
  `${JSON.stringify({ url: server.url, setupUrl: server.setupUrl, control: `http://127.0.0.1:${controlAddress.port}`, hosts })}\n`,
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  control.close();
  await server.close().catch(() => undefined);
  await fleet.close().catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// The runner going away (crash, Ctrl-C) closes stdin: never outlive it.
process.stdin.on('end', () => void stop());
process.stdin.resume();
