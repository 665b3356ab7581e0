/**
 * The scheduler at fleet scale: emulated Django sites on loopback (the fixture fleet) are imported into a
 * real `vigil serve` and scanned by its scheduler with the real scan engine, all due at once. Three
 * processes: this one measures, one runs the fleet, one runs Vigil, so the numbers are Vigil's alone (peak
 * RSS from /proc, CPU time, wall time from import to the last scan, and the event-loop delay measured
 * inside the Vigil process by perf_hooks).
 *
 *   npx tsx bench/fleet.ts [--sites 1000] [--concurrency 8] [--ca env|option]
 *   npx tsx bench/fleet.ts --sizes 1000,5000 --naive      # the knee, and the same 1000 one at a time
 *
 * `--sizes` runs each fleet size in turn (one fleet process of the largest size, a fresh Vigil and data
 * directory per run); `--naive` then scans the first size again one scan at a time (concurrency 1) and
 * prints the ratios. `--ca env` trusts the fleet's CA through NODE_EXTRA_CA_CERTS (how a deployment
 * trusts a private CA); `--ca option` passes it as startServer's extraCaPems, as the tests do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { openDatabase } from '../server/db';
import { scans } from '../server/db/schema';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '1000' },
    sizes: { type: 'string' },
    naive: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '8' },
    ca: { type: 'string', default: 'env' },
    role: { type: 'string', default: 'bench' },
    'data-dir': { type: 'string' },
    'dns-server': { type: 'string' },
    'ca-file': { type: 'string' },
  },
});
const SIZES = (args.sizes ?? args.sites)
  .split(',')
  .map((size) => Number(size.trim()))
  .filter((size) => Number.isInteger(size) && size > 0);
const CONCURRENCY = Number(args.concurrency);
/** Sampling interval of the event-loop delay histogram. */
const EVENT_LOOP_RESOLUTION_MS = 10;
/** Gives up on a run that has not finished in this long. */
const RUN_LIMIT_SECONDS = 3600;

const fleetReadySchema = z.object({
  dnsServer: z.string(),
  caCertFile: z.string(),
  hosts: z.array(z.string()),
});
const vigilReadySchema = z.object({ url: z.string(), authorization: z.string() });
const eventLoopSchema = z.object({
  eventLoop: z.object({ p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number(), meanMs: z.number() }),
  liveHeapMb: z.number(),
});

/** Prints one JSON line for the parent, then lives until the parent closes stdin. */
function announce(
  value: unknown,
  onEnd: () => Promise<void>,
  onLine: (line: string) => void = () => {},
): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
  createInterface({ input: process.stdin }).on('line', onLine);
  process.stdin.once('end', () => {
    onEnd().then(() => process.exit(0));
  });
}

async function serveFleet(): Promise<void> {
  const { SITE_PRESETS, startFleet } = await import('../server/testing/fleet');
  const presets = Object.values(SITE_PRESETS);
  const fleet = await startFleet(
    Object.fromEntries(
      Array.from({ length: Math.max(...SIZES) }, (_, index) => [
        `site-${index}`,
        presets[index % presets.length]!,
      ]),
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

/** `vigil serve` in this process, with the event loop's delay sampled from `reset` (a stdin line, echoed once done) to the end. */
async function serveVigil(): Promise<void> {
  const { startServer } = await import('../server/serve');
  const { seedAdminAuthorization } = await import('../server/auth/testing');
  const dataDir = args['data-dir']!;
  const authorization = await seedAdminAuthorization(dataDir);
  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    storage: dataDir,
    dnsServers: [args['dns-server']!],
    allowPrivate: true,
    scanConcurrency: CONCURRENCY,
    tickCron: '* * * * * *',
    dashboardDir: null,
    ...(args['ca-file'] ? { extraCaPems: [readFileSync(args['ca-file'], 'utf8')] } : {}),
    log: () => {},
  });
  // The histogram holds the time between samples; the delay is what exceeds the sampling interval.
  const ms = (nanoseconds: number) =>
    Math.max(0, Math.round((nanoseconds / 1e6 - EVENT_LOOP_RESOLUTION_MS) * 10) / 10);
  announce(
    { url: server.url, authorization },
    async () => {
      delay.disable();
      const eventLoop = {
        p50Ms: ms(delay.percentile(50)),
        p99Ms: ms(delay.percentile(99)),
        maxMs: ms(delay.max),
        meanMs: ms(delay.mean),
      };
      // What the heap holds once garbage is collected: growth here is kept data, not a lazy collector.
      globalThis.gc?.();
      const liveHeapMb = Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
      process.stdout.write(`${JSON.stringify({ eventLoop, liveHeapMb })}\n`);
      await server.close();
    },
    (line) => {
      if (line !== 'reset') return;
      delay.reset();
      process.stdout.write('reset\n');
    },
  );
}

interface Child<T> {
  child: ChildProcess;
  ready: T;
  lines: Interface;
}

function startChild<T>(
  role: string,
  extraArgs: string[],
  schema: z.ZodType<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Child<T>> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--role', role, ...extraArgs],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env,
    },
  );
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} process exited with ${code}`)));
    lines.once('line', (line) => resolve({ child, ready: schema.parse(JSON.parse(line)), lines }));
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

interface RunResult {
  sites: number;
  concurrency: number;
  wallSeconds: number;
  scansPerSecond: number;
  peakRssMb: number;
  idleRssMb: number;
  cpuSeconds: number;
  eventLoop: z.infer<typeof eventLoopSchema>['eventLoop'];
  liveHeapMb: number;
  /** The import request: one transaction, on the event loop. */
  importMs: number;
  scanP50Ms: number;
  scanP95Ms: number;
  grades: Record<string, number>;
}

type Measured = Omit<RunResult, 'eventLoop' | 'liveHeapMb' | 'scanP50Ms' | 'scanP95Ms'>;

/** One fresh Vigil process and data directory scanning the first `sites` hosts of the fleet. */
async function runFleet(
  fleet: z.infer<typeof fleetReadySchema>,
  sites: number,
  concurrency: number,
): Promise<RunResult> {
  const hosts = fleet.hosts.slice(0, sites);
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-fleet-'));
  const vigilArgs = [
    '--data-dir',
    dataDir,
    '--dns-server',
    fleet.dnsServer,
    '--concurrency',
    String(concurrency),
  ];
  const vigil = await startChild(
    'vigil',
    args.ca === 'option' ? [...vigilArgs, '--ca-file', fleet.caCertFile] : vigilArgs,
    vigilReadySchema,
    args.ca === 'option' ? process.env : { ...process.env, NODE_EXTRA_CA_CERTS: fleet.caCertFile },
  );
  vigil.child.removeAllListeners('exit');
  // Closing stdin stops Vigil; its last line is the event-loop delay it measured.
  let stopped: Promise<string> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      const lastLine = new Promise<string>((resolve) => vigil.lines.once('line', resolve));
      const exited = new Promise((resolve) => vigil.child.once('exit', resolve));
      vigil.child.stdin?.end();
      const line = await Promise.race([lastLine, exited.then(() => '')]);
      await exited;
      return line;
    })();
    return stopped;
  };
  try {
    const measured = await measure(vigil.ready, vigil.child, vigil.lines, hosts, concurrency);
    const { eventLoop, liveHeapMb } = eventLoopSchema.parse(JSON.parse(await stop()));
    const durationsMs = await scanDurations(dataDir);
    return {
      ...measured,
      eventLoop,
      liveHeapMb,
      scanP50Ms: percentile(durationsMs, 50),
      scanP95Ms: percentile(durationsMs, 95),
    };
  } finally {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Imports the hosts and polls the overview until every scan is done. */
async function measure(
  vigil: z.infer<typeof vigilReadySchema>,
  child: ChildProcess,
  lines: Interface,
  hosts: readonly string[],
  concurrency: number,
): Promise<Measured> {
  const headers = { authorization: vigil.authorization };
  const pid = child.pid!;
  const idle = processStats(pid);
  // Only once Vigil confirms the reset: the import's own time on the event loop must count.
  const reset = new Promise((resolve) => lines.once('line', resolve));
  child.stdin!.write('reset\n');
  await reset;
  const started = performance.now();
  const imported = await fetch(`${vigil.url}/api/sites/import`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'text/csv' },
    body: hosts.join('\n'),
  });
  const report = z.object({ created: z.number() }).parse(await imported.json());
  const importMs = performance.now() - started;
  if (report.created !== hosts.length) throw new Error(`imported ${report.created} of ${hosts.length}`);

  const overviewSchema = z.object({
    items: z.array(z.object({ latest: z.unknown().nullable() })),
    fleet: z.object({ byGrade: z.record(z.string(), z.number()), queued: z.number(), running: z.number() }),
  });
  let nextReport = 10;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    // Sites never scanned sort first: the new sites are queued by the scheduler's next tick, not by the import.
    const overview = overviewSchema.parse(
      await (await fetch(`${vigil.url}/api/overview?limit=1&sort=lastScan&order=asc`, { headers })).json(),
    );
    const summary = overview.fleet;
    const everyScanned = overview.items[0]?.latest != null;
    const seconds = (performance.now() - started) / 1000;
    if (seconds >= nextReport) {
      const stats = processStats(pid);
      console.log(
        `  ${seconds.toFixed(0)} s: ${hosts.length - summary.queued - summary.running} done, ${summary.running} running, ${summary.queued} queued; RSS ${stats.rssMb.toFixed(0)} MB`,
      );
      nextReport += seconds < 60 ? 10 : 60;
    }
    if (everyScanned && summary.queued === 0 && summary.running === 0) {
      const wallSeconds = (performance.now() - started) / 1000;
      const stats = processStats(pid);
      return {
        sites: hosts.length,
        concurrency,
        wallSeconds,
        scansPerSecond: hosts.length / wallSeconds,
        peakRssMb: stats.peakMb,
        idleRssMb: idle.rssMb,
        cpuSeconds: stats.cpuSeconds - idle.cpuSeconds,
        importMs,
        grades: Object.fromEntries(Object.entries(summary.byGrade).filter(([, n]) => n > 0)),
      };
    }
    if (seconds > RUN_LIMIT_SECONDS) throw new Error(`gave up after ${RUN_LIMIT_SECONDS} s`);
  }
}

/** How long scans took, by outcome (printed), read back from the database Vigil wrote; all durations sorted. */
async function scanDurations(dataDir: string): Promise<number[]> {
  const database = openDatabase(dataDir);
  const rows = await database.db.select({ outcome: scans.outcome, durationMs: scans.durationMs }).from(scans);
  await database.close();
  const byOutcome = new Map<string, number[]>();
  for (const row of rows) {
    const outcome = row.outcome ?? 'none';
    byOutcome.set(outcome, [...(byOutcome.get(outcome) ?? []), row.durationMs ?? 0]);
  }
  for (const [outcome, values] of byOutcome) {
    const sorted = values.sort((a, b) => a - b);
    console.log(
      `  ${outcome.padEnd(11)} ${String(sorted.length).padStart(5)} scans, duration p50 ${percentile(sorted, 50)} ms, p95 ${percentile(sorted, 95)} ms, max ${sorted.at(-1)} ms`,
    );
  }
  return rows.map((row) => row.durationMs ?? 0).sort((a, b) => a - b);
}

function printRun(result: RunResult): void {
  console.log(
    `Scanned ${result.sites} sites in ${result.wallSeconds.toFixed(1)} s with concurrency ${result.concurrency} (${result.scansPerSecond.toFixed(1)} scans/s), CA via ${args.ca}`,
  );
  console.log(`  grades: ${JSON.stringify(result.grades)}`);
  console.log(
    `Vigil process: peak RSS ${result.peakRssMb.toFixed(0)} MB (${result.idleRssMb.toFixed(0)} MB idle before the import, live heap after GC at the end ${result.liveHeapMb} MB), import request ${result.importMs.toFixed(0)} ms, CPU ${result.cpuSeconds.toFixed(1)} s, event-loop delay p50 ${result.eventLoop.p50Ms} ms, p99 ${result.eventLoop.p99Ms} ms, max ${result.eventLoop.maxMs} ms`,
  );
  console.log(
    `Load average: ${loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs`,
  );
}

function printTable(results: readonly { label: string; result: RunResult }[]): void {
  console.log(
    '\n| run | sites | concurrency | wall | scans/s | peak RSS | live heap | CPU | event-loop p99 | max | import | scan p50 / p95 |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const { label, result } of results) {
    console.log(
      `| ${label} | ${result.sites} | ${result.concurrency} | ${result.wallSeconds.toFixed(1)} s | ${result.scansPerSecond.toFixed(1)} | ${result.peakRssMb.toFixed(0)} MB | ${result.liveHeapMb} MB | ${result.cpuSeconds.toFixed(1)} s | ${result.eventLoop.p99Ms} ms | ${result.eventLoop.maxMs} ms | ${result.importMs.toFixed(0)} ms | ${result.scanP50Ms} / ${result.scanP95Ms} ms |`,
    );
  }
}

async function bench(): Promise<void> {
  const fleetStarted = performance.now();
  const fleetProcess = await startChild('fleet', ['--sizes', SIZES.join(',')], fleetReadySchema);
  const fleet = fleetProcess.ready;
  console.log(
    `Fleet of ${fleet.hosts.length} sites up in ${((performance.now() - fleetStarted) / 1000).toFixed(1)} s (own process)`,
  );
  const results: { label: string; result: RunResult }[] = [];
  try {
    for (const size of SIZES) {
      console.log(`\n${size} sites, concurrency ${CONCURRENCY}:`);
      const result = await runFleet(fleet, size, CONCURRENCY);
      printRun(result);
      results.push({ label: `${size} due at once`, result });
    }
    if (args.naive) {
      const size = SIZES[0]!;
      console.log(`\n${size} sites, naively one scan at a time (concurrency 1):`);
      const result = await runFleet(fleet, size, 1);
      printRun(result);
      results.push({ label: `${size} one at a time`, result });
    }
  } finally {
    fleetProcess.child.removeAllListeners('exit');
    fleetProcess.child.stdin?.end();
  }
  printTable(results);
  const naive = args.naive ? results.at(-1)?.result : undefined;
  const same = results.find(
    ({ result }) => naive && result.sites === naive.sites && result !== naive,
  )?.result;
  if (naive && same) {
    console.log(
      `\nConcurrency ${same.concurrency} vs one at a time, ${same.sites} sites: ${(naive.wallSeconds / same.wallSeconds).toFixed(1)}× faster, peak RSS ×${(same.peakRssMb / naive.peakRssMb).toFixed(2)}, CPU ×${(same.cpuSeconds / naive.cpuSeconds).toFixed(2)}`,
    );
  }
  const [first, ...rest] = results.filter(({ result }) => result !== naive).map(({ result }) => result);
  for (const larger of rest) {
    if (!first) break;
    console.log(
      `${larger.sites} vs ${first.sites} sites: ×${(larger.sites / first.sites).toFixed(1)} sites took ×${(larger.wallSeconds / first.wallSeconds).toFixed(2)} the time (scans/s ${first.scansPerSecond.toFixed(1)} → ${larger.scansPerSecond.toFixed(1)}), peak RSS ×${(larger.peakRssMb / first.peakRssMb).toFixed(2)}`,
    );
  }
  console.log('Targets (1000 sites): < 60 s and < 200 MB');
}

if (args.role === 'fleet') await serveFleet();
else if (args.role === 'vigil') await serveVigil();
else await bench();
