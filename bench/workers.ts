/**
 * Scale-out throughput: the same loopback fleet scanned by the SQLite single process (`vigil serve`), and
 * by 1, 2 and 4 PostgreSQL worker processes (`vigil serve --role=worker`, plus one `--role=scheduler`),
 * one run after the other on one machine. Each run starts its processes, waits until they are up, then
 * makes every site due at once and times until the last scan is stored.
 *
 *   npx tsx bench/workers.ts [--sites 400] [--workers 1,2,4] [--concurrency 8]
 *
 * Processes: this one runs the fleet and a private PostgreSQL server and prints the table; each run is a
 * child of this script (`--run sqlite|pg`), which seeds its database, spawns the Vigil processes and
 * measures. CPU is the Vigil processes' user+system time from /proc; the fleet and PostgreSQL share the
 * same cores, so numbers say how the parts compare on this machine, not what a cluster would do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { count, eq, inArray } from 'drizzle-orm';
import { type Database, openMigratedDatabase } from '../server/db';
import { scans, sites } from '../server/db/schema';
import { TEST_DEFAULTS } from '../server/routes/test-app';
import { importSites } from '../server/services/site-import';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '400' },
    workers: { type: 'string', default: '1,2,4' },
    concurrency: { type: 'string', default: '8' },
    run: { type: 'string' },
    'worker-count': { type: 'string' },
    storage: { type: 'string' },
    'dns-server': { type: 'string' },
    'ca-file': { type: 'string' },
    'hosts-file': { type: 'string' },
  },
});
const VIGIL_BIN = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));
const RUN_LIMIT_MS = 30 * 60_000;

interface RunResult {
  backend: 'sqlite' | 'pg';
  workers: number;
  sites: number;
  wallS: number;
  scansPerS: number;
  cpuS: number;
}

function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat; after the command they are at 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function spawnVigil(
  extraArgs: string[],
  env: Record<string, string>,
): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [VIGIL_BIN, 'serve', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  const lines: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      lines.push(...chunk.toString('utf8').split('\n'));
      if (lines.some((line) => line.startsWith('Vigil listening on') || line.startsWith('Vigil started')))
        resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`vigil exited with ${code}:\n${lines.join('\n')}`)));
    setTimeout(
      () => reject(new Error(`vigil ${extraArgs.join(' ')} did not start in 60 s:\n${lines.join('\n')}`)),
      60_000,
    ).unref();
  });
  return { child, ready };
}

/** One run: seed, start the processes, make every site due, time the scans. */
async function measureRun(): Promise<void> {
  const backend = args.run === 'pg' ? 'pg' : 'sqlite';
  const workers = Number(args['worker-count'] ?? 1);
  const storage = args.storage ?? '';
  const hosts = readFileSync(args['hosts-file'] ?? '', 'utf8')
    .trim()
    .split('\n');
  const database: Database = await openMigratedDatabase(storage);
  const ctx = { db: database.db, now: () => new Date(), defaults: TEST_DEFAULTS };
  await importSites({ ...ctx, input: { text: hosts.join('\n'), atomic: true } });
  // Not due until the processes are up.
  await database.db.update(sites).set({ enabled: false });
  const env = {
    VIGIL_TICK_CRON: '* * * * * *',
    VIGIL_DNS_SERVERS: args['dns-server'] ?? '',
    VIGIL_ALLOW_PRIVATE: '1',
    NODE_EXTRA_CA_CERTS: args['ca-file'] ?? '',
    VIGIL_SCAN_CONCURRENCY: args.concurrency ?? '8',
    VIGIL_PORT: '0',
    VIGIL_HOST: '127.0.0.1',
    VIGIL_WORKER_POLL_MS: '500',
    ...(backend === 'pg' ? { VIGIL_DATABASE_URL: storage } : { VIGIL_DATA_DIR: storage }),
  };
  const processes =
    backend === 'pg'
      ? [
          spawnVigil(['--role=scheduler'], env),
          ...Array.from({ length: workers }, () => spawnVigil(['--role=worker'], env)),
        ]
      : [spawnVigil([], env)];
  await Promise.all(processes.map((entry) => entry.ready));
  const pids = processes.map((entry) => entry.child.pid ?? 0);
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const started = performance.now();
  await database.db.update(sites).set({ enabled: true, nextScanAt: new Date() });
  for (;;) {
    const [row] = await database.db.select({ n: count() }).from(scans).where(eq(scans.state, 'done'));
    if ((row?.n ?? 0) >= hosts.length) break;
    if (performance.now() - started > RUN_LIMIT_MS) throw new Error('run took too long');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const wallS = (performance.now() - started) / 1000;
  const cpuS = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore;
  const outcomes = await database.db
    .select({ outcome: scans.outcome, n: count() })
    .from(scans)
    .where(inArray(scans.state, ['done']))
    .groupBy(scans.outcome);
  for (const entry of processes) entry.child.kill('SIGTERM');
  await Promise.all(processes.map((entry) => new Promise((resolve) => entry.child.once('exit', resolve))));
  await database.close();
  const result: RunResult = {
    backend,
    workers,
    sites: hosts.length,
    wallS: Math.round(wallS * 10) / 10,
    scansPerS: Math.round((hosts.length / wallS) * 10) / 10,
    cpuS: Math.round(cpuS * 10) / 10,
  };
  process.stdout.write(`${JSON.stringify({ result, outcomes })}\n`);
}

async function runChild(extra: string[]): Promise<RunResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = output.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`run ${extra.join(' ')} failed (${code}): ${output}`);
  const parsed = JSON.parse(line) as { result: RunResult; outcomes: unknown };
  console.error(`  ${JSON.stringify(parsed)}`);
  return parsed.result;
}

async function main(): Promise<void> {
  const { startFleet, SITE_PRESETS } = await import('../server/testing/fleet');
  const { startPostgres, createDatabase } = await import('../server/testing/postgres');
  const siteCount = Number(args.sites);
  const workerCounts = (args.workers ?? '1')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  const names = Array.from({ length: siteCount }, (_, index) => `site-${index}`);
  console.error(`fleet of ${siteCount} hardened sites, scan concurrency ${args.concurrency} per process …`);
  const fleet = await startFleet(Object.fromEntries(names.map((name) => [name, SITE_PRESETS.hardened])));
  const postgres = await startPostgres();
  const scratch = mkdtempSync(join(tmpdir(), 'vigil-bench-workers-'));
  const hostsFile = join(scratch, 'hosts.txt');
  writeFileSync(hostsFile, names.map((name) => fleet.host(name)).join('\n'));
  const common = [
    '--dns-server',
    fleet.dnsServer,
    '--ca-file',
    fleet.caCertFile,
    '--hosts-file',
    hostsFile,
    '--concurrency',
    args.concurrency ?? '8',
  ];
  const results: RunResult[] = [];
  try {
    results.push(await runChild(['--run', 'sqlite', '--storage', join(scratch, 'sqlite'), ...common]));
    for (const workers of workerCounts) {
      const database = await createDatabase(postgres.url);
      results.push(
        await runChild([
          '--run',
          'pg',
          '--worker-count',
          String(workers),
          '--storage',
          database.url,
          ...common,
        ]),
      );
      await database.drop();
    }
  } finally {
    await postgres.stop();
    await fleet.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  const baseline = results[0]?.scansPerS ?? 1;
  console.log(
    `\n${cpus().length} cores, load ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}; ${siteCount} sites`,
  );
  console.log('| storage | worker processes | wall | scans/s | vs SQLite | Vigil CPU |');
  console.log('|---|---|---|---|---|---|');
  for (const result of results)
    console.log(
      `| ${result.backend === 'pg' ? 'PostgreSQL + pg-boss' : 'SQLite (one process)'} | ${result.workers} | ${result.wallS} s | ${result.scansPerS} | ${(result.scansPerS / baseline).toFixed(2)}× | ${result.cpuS} s |`,
    );
}

if (args.run) await measureRun();
else await main();
