/**
 * The scheduler at fleet scale: 1000 emulated Django sites on loopback (the fixture fleet) are imported
 * into a real `vigil serve` and scanned by its scheduler with the real scan engine. Three processes: this
 * one measures, one runs the fleet, one runs Vigil, so the numbers are Vigil's alone (peak RSS from
 * /proc, CPU time, wall time from import to the last scan).
 *
 *   npx tsx bench/fleet.ts [--sites 1000] [--concurrency 8] [--ca env|option]
 *
 * `--ca env` trusts the fleet's CA through NODE_EXTRA_CA_CERTS (how a deployment trusts a private CA);
 * `--ca option` passes it as startServer's extraCaPems, as the tests do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    ca: { type: 'string', default: 'env' },
    role: { type: 'string', default: 'bench' },
    'data-dir': { type: 'string' },
    'dns-server': { type: 'string' },
    'ca-file': { type: 'string' },
  },
});
const SITES = Number(args.sites);

const fleetReadySchema = z.object({
  dnsServer: z.string(),
  caCertFile: z.string(),
  hosts: z.array(z.string()),
});
const vigilReadySchema = z.object({ url: z.string() });

/** Prints one JSON line for the parent, then lives until the parent closes stdin. */
function announce(value: unknown, onEnd: () => Promise<void>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => {
    onEnd().then(() => process.exit(0));
  });
}

async function serveFleet(): Promise<void> {
  const { SITE_PRESETS, startFleet } = await import('../server/testing/fleet');
  const presets = Object.values(SITE_PRESETS);
  const fleet = await startFleet(
    Object.fromEntries(
      Array.from({ length: SITES }, (_, index) => [`site-${index}`, presets[index % presets.length]!]),
    ),
  );
  announce(
    {
      dnsServer: fleet.dnsServer,
      caCertFile: fleet.caCertFile,
      hosts: fleet.names().map((name) => fleet.host(name)),
    },
    () => fleet.close(),
  );
}

async function serveVigil(): Promise<void> {
  const { startServer } = await import('../server/serve');
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: args['data-dir']!,
    dnsServers: [args['dns-server']!],
    allowPrivate: true,
    scanConcurrency: Number(args.concurrency),
    tickCron: '* * * * * *',
    dashboardDir: null,
    ...(args['ca-file'] ? { extraCaPems: [readFileSync(args['ca-file'], 'utf8')] } : {}),
    log: () => {},
  });
  announce({ url: server.url }, () => server.close());
}

function startChild<T>(
  role: string,
  extraArgs: string[],
  schema: z.ZodType<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; ready: T }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--role', role, ...extraArgs],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env,
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} process exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) =>
      resolve({ child, ready: schema.parse(JSON.parse(line)) }),
    );
  });
}

/** Resident set now and at its peak (VmHWM), and CPU seconds used, of another process. */
function processStats(pid: number): { rssMb: number; peakMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024, cpuSeconds: ticks / 100 };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function bench(): Promise<void> {
  const fleetStarted = performance.now();
  const fleetProcess = await startChild('fleet', ['--sites', String(SITES)], fleetReadySchema);
  const fleet = fleetProcess.ready;
  console.log(
    `Fleet of ${fleet.hosts.length} sites up in ${((performance.now() - fleetStarted) / 1000).toFixed(1)} s (own process)`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-fleet-'));
  const vigilArgs = [
    '--data-dir',
    dataDir,
    '--dns-server',
    fleet.dnsServer,
    '--concurrency',
    String(args.concurrency),
  ];
  const vigilProcess = await startChild(
    'vigil',
    args.ca === 'option' ? [...vigilArgs, '--ca-file', fleet.caCertFile] : vigilArgs,
    vigilReadySchema,
    args.ca === 'option' ? process.env : { ...process.env, NODE_EXTRA_CA_CERTS: fleet.caCertFile },
  );
  const { url } = vigilProcess.ready;
  const pid = vigilProcess.child.pid!;
  const idle = processStats(pid);
  try {
    const started = performance.now();
    const imported = await fetch(`${url}/api/sites/import`, {
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
    let nextReport = 10;
    let summary: z.infer<typeof overviewSchema>['fleet'];
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      summary = overviewSchema.parse(await (await fetch(`${url}/api/overview?limit=1`)).json()).fleet;
      const seconds = (performance.now() - started) / 1000;
      if (seconds >= nextReport) {
        const stats = processStats(pid);
        console.log(
          `  ${seconds.toFixed(0)} s: ${fleet.hosts.length - summary.queued - summary.running} done, ${summary.running} running, ${summary.queued} queued; RSS ${stats.rssMb.toFixed(0)} MB`,
        );
        nextReport += 10;
      }
      if (summary.queued === 0 && summary.running === 0) break;
      if (seconds > 900) throw new Error('gave up after 15 minutes');
    }
    const wallSeconds = (performance.now() - started) / 1000;
    const stats = processStats(pid);
    console.log(
      `Scanned ${fleet.hosts.length} sites in ${wallSeconds.toFixed(1)} s with concurrency ${args.concurrency} (${(fleet.hosts.length / wallSeconds).toFixed(1)} scans/s), CA via ${args.ca}`,
    );
    console.log(
      `  grades: ${JSON.stringify(Object.fromEntries(Object.entries(summary.byGrade).filter(([, n]) => n > 0)))}`,
    );
    console.log(
      `Vigil process: peak RSS ${stats.peakMb.toFixed(0)} MB (${idle.rssMb.toFixed(0)} MB idle before the import), CPU ${(stats.cpuSeconds - idle.cpuSeconds).toFixed(1)} s`,
    );
    console.log(
      `Load average: ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')} on ${cpus().length} CPUs`,
    );
  } finally {
    vigilProcess.child.removeAllListeners('exit');
    fleetProcess.child.removeAllListeners('exit');
    const vigilExited = new Promise((resolve) => vigilProcess.child.once('exit', resolve));
    vigilProcess.child.stdin?.end();
    await vigilExited;
    await durations(dataDir);
    fleetProcess.child.stdin?.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log('Targets: < 60 s and < 200 MB');
}

/** How long scans took, by outcome, read back from the database Vigil wrote. */
async function durations(dataDir: string): Promise<void> {
  const { databaseFile, openDatabase } = await import('../server/db');
  const { scans } = await import('../server/db/schema');
  const database = openDatabase(databaseFile(dataDir));
  const rows = database.db.select({ outcome: scans.outcome, durationMs: scans.durationMs }).from(scans).all();
  database.close();
  const byOutcome = new Map<string, number[]>();
  for (const row of rows)
    byOutcome.set(row.outcome ?? 'none', [
      ...(byOutcome.get(row.outcome ?? 'none') ?? []),
      row.durationMs ?? 0,
    ]);
  for (const [outcome, values] of byOutcome) {
    const sorted = values.sort((a, b) => a - b);
    console.log(
      `  ${outcome.padEnd(11)} ${String(sorted.length).padStart(4)} scans, duration p50 ${percentile(sorted, 50)} ms, p95 ${percentile(sorted, 95)} ms, max ${sorted.at(-1)} ms`,
    );
  }
}

if (args.role === 'fleet') await serveFleet();
else if (args.role === 'vigil') await serveVigil();
else await bench();
