/**
 * The scheduler at fleet scale: 1000 emulated Django sites on loopback (the fixture fleet, in a child
 * process so its servers do not count against Vigil's memory) are imported into a real `vigil serve`
 * and scanned by the scheduler with the real scan engine. Prints wall time and peak RSS.
 *
 *   npx tsx bench/fleet.ts [--sites 1000] [--concurrency 8]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    'serve-fleet': { type: 'boolean', default: false },
  },
});
const SITES = Number(args.sites);

const fleetReadySchema = z.object({
  dnsServer: z.string(),
  caCertPem: z.string(),
  hosts: z.array(z.string()),
});
type FleetReady = z.infer<typeof fleetReadySchema>;

/** Child mode: start the fleet, print where it is as one JSON line, and live until stdin closes. */
async function serveFleet(): Promise<void> {
  const { SITE_PRESETS, startFleet } = await import('../server/testing/fleet');
  const presets = Object.values(SITE_PRESETS);
  const fleet = await startFleet(
    Object.fromEntries(
      Array.from({ length: SITES }, (_, index) => [`site-${index}`, presets[index % presets.length]!]),
    ),
  );
  const ready: FleetReady = {
    dnsServer: fleet.dnsServer,
    caCertPem: fleet.caCertPem,
    hosts: fleet.names().map((name) => fleet.host(name)),
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => {
    fleet.close().then(() => process.exit(0));
  });
}

function startFleetProcess(): Promise<{ child: ChildProcess; fleet: FleetReady }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve-fleet', '--sites', String(SITES)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fleet process exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      resolve({ child, fleet: fleetReadySchema.parse(JSON.parse(line)) });
    });
  });
}

async function main(): Promise<void> {
  const { startServer } = await import('../server/serve');
  const fleetStarted = performance.now();
  const { child, fleet } = await startFleetProcess();
  console.log(
    `Fleet of ${fleet.hosts.length} sites up in ${((performance.now() - fleetStarted) / 1000).toFixed(1)} s (child process)`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-fleet-'));
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    extraCaPems: [fleet.caCertPem],
    dnsServers: [fleet.dnsServer],
    allowPrivate: true,
    scanConcurrency: Number(args.concurrency),
    tickCron: '* * * * * *',
    dashboardDir: null,
    log: () => {},
  });
  try {
    const started = performance.now();
    const imported = await fetch(`${server.url}/api/sites/import`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: fleet.hosts.join('\n'),
    });
    const report = z.object({ created: z.number() }).parse(await imported.json());
    if (report.created !== fleet.hosts.length)
      throw new Error(`imported ${report.created} of ${fleet.hosts.length}`);

    const overviewSchema = z.object({
      fleet: z.object({ byGrade: z.record(z.string(), z.number()), queued: z.number(), running: z.number() }),
    });
    let last = '';
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const { fleet: summary } = overviewSchema.parse(
        await (await fetch(`${server.url}/api/overview?limit=1`)).json(),
      );
      const seconds = (performance.now() - started) / 1000;
      const scanned = fleet.hosts.length - (summary.byGrade.none ?? 0);
      const line = `  ${seconds.toFixed(0)} s: ${scanned} sites with a grade, ${summary.running} running, ${summary.queued} queued`;
      if (line.split(':')[0] !== last.split(':')[0] && Math.floor(seconds) % 5 === 0) console.log(line);
      last = line;
      if (summary.queued === 0 && summary.running === 0) break;
      if (seconds > 600) throw new Error('gave up after 10 minutes');
    }
    const wallSeconds = (performance.now() - started) / 1000;
    const outcomes = z
      .object({
        items: z.array(
          z.object({
            latest: z.object({ outcome: z.string() }).nullable(),
          }),
        ),
      })
      .parse(await (await fetch(`${server.url}/api/overview?limit=1000`)).json())
      .items.reduce<Record<string, number>>((counts, item) => {
        const outcome = item.latest?.outcome ?? 'none';
        counts[outcome] = (counts[outcome] ?? 0) + 1;
        return counts;
      }, {});
    const { fleet: summary } = overviewSchema.parse(
      await (await fetch(`${server.url}/api/overview?limit=1`)).json(),
    );
    clearInterval(sampler);
    console.log(
      `Scanned ${fleet.hosts.length} sites in ${wallSeconds.toFixed(1)} s with concurrency ${args.concurrency} (${(fleet.hosts.length / wallSeconds).toFixed(1)} scans/s)`,
    );
    console.log(`  outcomes: ${JSON.stringify(outcomes)}`);
    console.log(`  grades: ${JSON.stringify(summary.byGrade)}`);
    console.log(
      `Peak RSS of the Vigil process: ${(peakRss / 1024 / 1024).toFixed(0)} MB (sampled; ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB max resident per the OS; ${(rssBefore / 1024 / 1024).toFixed(0)} MB before the server started)`,
    );
    console.log('Targets: < 60 s and < 200 MB');
  } finally {
    clearInterval(sampler);
    await server.close();
    child.stdin?.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (args['serve-fleet']) await serveFleet();
else await main();
