/**
 * History at fleet scale: seeds 1000 sites × 4 scans a day × 1 year (≈1.46 M scans) with realistic churn,
 * then prints the database size, the bytes an unchanged scan costs on the real write path, and the
 * latency of the overview and of one site's 1-year history through the real app.
 *
 *   npx tsx bench/history.ts [--storage sqlite|pg] [--sites 1000] [--days 365] [--per-day 4]
 *
 * `--storage pg` starts a private PostgreSQL server (server/testing/postgres.ts), seeds and measures the
 * same history there, and stops it at the end. One process opens one dialect, so each storage is a run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { createApp } from '../server/app';
import { seedTestAdmin } from '../server/auth/testing';
import {
  type Database,
  databaseFile,
  databaseSize,
  openMigratedDatabase,
  storageByObject,
} from '../server/db';
import { type FinishedScanRow, insertFinishedScans } from '../server/db/bulk';
import {
  contextSets as contextSetsTable,
  findingSets as findingSetsTable,
  sites as sitesTable,
} from '../server/db/schema';
import { CATALOGUE, makeFinding, type ScanFindingId } from '../server/scan/catalogue';
import { gradeFor, scoreFindings } from '../server/scan/grade';
import type { CheckResult, Finding, ScanResult } from '../server/scan/types';
import { createScheduler } from '../server/scheduler/scheduler';
import { DEFAULT_INTERVAL_MINUTES, type Settings } from '../server/services/context';
import { claimNextScan, completeScan, contextOf, enqueueDueSites } from '../server/services/scan-queue';
import { saveContextSet, saveFindingSet } from '../server/services/scan-sets';
import { insertNewSites, type SiteToInsert } from '../server/services/sites';
import { createDatabase, startPostgres } from '../server/testing/postgres';

const { values: args } = parseArgs({
  options: {
    storage: { type: 'string', default: 'sqlite' },
    sites: { type: 'string', default: '1000' },
    days: { type: 'string', default: '365' },
    'per-day': { type: 'string', default: '4' },
  },
});
if (args.storage !== 'sqlite' && args.storage !== 'pg') throw new Error('--storage is sqlite or pg');
const STORAGE: 'sqlite' | 'pg' = args.storage;
const SITES = Number(args.sites);
const DAYS = Number(args.days);
const PER_DAY = Number(args['per-day']);

const DAY = 86_400_000;
const STEP = DAY / PER_DAY;
/** Chance per scan that a site's findings change (a deploy, a config fix): ~22 times a year at 4/day. */
const CHANGE_CHANCE = 0.015;
/** Chance per scan of a transient outage (unreachable), back to normal on the next scan. */
const OUTAGE_CHANCE = 0.003;
/** Share of sites that renew their certificate late, so the expiring finding changes daily for a while. */
const LATE_RENEWERS = 0.1;
const CERT_DAYS = 90;

/** Deterministic PRNG (mulberry32), so every run seeds the same history. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20261125);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Findings a real fleet shows often; the critical ones are rarer. */
const POOL: ScanFindingId[] = [
  'hsts.missing',
  'hsts.max-age.short',
  'hsts.subdomains.missing',
  'hsts.preload.missing',
  'xfo.missing',
  'nosniff.missing',
  'referrer-policy.missing',
  'csp.missing',
  'csp.unsafe-inline',
  'csp.unsafe-eval',
  'coop.missing',
  'server.version-leak',
  'cookie.csrf.insecure',
  'cookie.session.httponly',
  'django.admin.default-path',
  'dns.caa.missing',
  'dns.dnssec.missing',
  'email.dmarc.none',
  'email.spf.missing',
  'security-txt.missing',
  'tls.protocol.no-tls13',
  'https.redirect.missing',
  'django.debug',
  'exposure.file',
];

function findingFor(id: ScanFindingId, host: string): Finding {
  return makeFinding(id, { evidence: `${CATALOGUE[id].title} on https://${host}/` });
}

const CHECK_IDS = [
  'tls',
  'https-redirect',
  'hsts',
  'xfo',
  'nosniff',
  'referrer',
  'csp',
  'coop',
  'server',
  'cookies',
  'django',
  'exposure',
  'dns',
  'email',
  'security-txt',
];

function checksFor(findings: readonly Finding[]): CheckResult[] {
  return CHECK_IDS.map((id) => {
    const failed = findings.filter((finding) => finding.id.split('.')[0]!.startsWith(id.split('-')[0]!));
    return failed.length
      ? { id, status: 'fail', detail: failed.map((finding) => finding.title).join('; ') }
      : { id, status: 'pass', detail: `${id} looks right` };
  });
}

interface SeededScan {
  findingSetId: number;
  contextSetId: number;
  result: ScanResult;
}

interface SiteState {
  id: number;
  host: string;
  findings: Map<ScanFindingId, Finding>;
  /** Bumped whenever the findings change; with the certificate's days left it keys the cached sets. */
  version: number;
  lateRenewer: boolean;
  /** Day (from the start) the current certificate was issued. */
  issuedDay: number;
  /** Days left at which a late renewer renews this cycle. */
  renewAt: number;
  offsetMs: number;
  lastScanId: number;
  lastKey: string;
  last: SeededScan | null;
  /** Results of the current findings version (by outage / days left), so seeding builds each only once. */
  cache: Map<string, SeededScan>;
}

/** Days the certificate has left at `at`, renewing it when due (late renewers wait until 3–25 days). */
function certificateDaysLeft(site: SiteState, at: number): { daysLeft: number; notAfter: number } {
  const day = Math.floor(at / DAY);
  if (day - site.issuedDay >= CERT_DAYS - (site.lateRenewer ? site.renewAt : 31)) {
    site.issuedDay = day;
    site.renewAt = 3 + Math.floor(random() * 23);
  }
  const notAfter = (site.issuedDay + CERT_DAYS) * DAY;
  return { daysLeft: Math.floor((notAfter - at) / DAY), notAfter };
}

function resultFor(
  site: SiteState,
  at: number,
  outage: boolean,
  cert: { daysLeft: number; notAfter: number },
): ScanResult {
  const { daysLeft, notAfter } = cert;
  const findings = outage ? [] : [...site.findings.values()];
  if (!outage && daysLeft <= 30) {
    findings.push(
      makeFinding('tls.cert.expiring', {
        evidence: `certificate expires in ${daysLeft} days`,
        severity: daysLeft <= 7 ? 'high' : 'medium',
      }),
    );
  }
  const score = outage ? null : scoreFindings(findings, []);
  return {
    target: site.host,
    host: site.host,
    addresses: ['203.0.113.7'],
    scannedAt: new Date(at).toISOString(),
    durationMs: 600 + Math.floor(random() * 2400),
    status: outage ? 'unreachable' : 'ok',
    ...(outage ? { error: 'connect ETIMEDOUT' } : {}),
    grade: score === null ? null : gradeFor(score, findings),
    score,
    django: { detected: true, signals: ['cookie:csrftoken', 'admin-login'] },
    tls: outage
      ? null
      : {
          protocols: ['TLSv1.2', 'TLSv1.3'],
          notAfter: new Date(notAfter).toISOString(),
          issuer: "CN=R11, O=Let's Encrypt",
          daysLeft,
        },
    findings,
    checks: outage ? [] : checksFor(findings),
  };
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ms = (value: number) => `${value.toFixed(2)} ms`;

/**
 * Wall-clock and CPU percentiles of a request; CPU time is the steadier number on a shared, busy machine.
 * It is this process's CPU only: on PostgreSQL the server's share is left out.
 */
async function time(
  samples: number,
  request: () => Response | Promise<Response>,
): Promise<{ p50: number; p95: number; cpuP50: number; cpuP95: number; bytes: number }> {
  let bytes = 0;
  for (let index = 0; index < 10; index += 1) await (await request()).text();
  const timings: number[] = [];
  const cpu: number[] = [];
  for (let index = 0; index < samples; index += 1) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const response = await request();
    const body = await response.text();
    const used = process.cpuUsage(cpuStarted);
    timings.push(performance.now() - started);
    cpu.push((used.user + used.system) / 1000);
    if (response.status !== 200) throw new Error(`status ${response.status}: ${body.slice(0, 200)}`);
    bytes = body.length;
  }
  return {
    p50: percentile(timings, 50),
    p95: percentile(timings, 95),
    cpuP50: percentile(cpu, 50),
    cpuP95: percentile(cpu, 95),
    bytes,
  };
}

function report(label: string, result: Awaited<ReturnType<typeof time>>): void {
  console.log(
    `${label.padEnd(40)} p50 ${ms(result.p50)}  p95 ${ms(result.p95)}   (this process's CPU p50 ${ms(result.cpuP50)}  p95 ${ms(result.cpuP95)})  ${result.bytes} bytes`,
  );
}

interface BenchDatabase {
  database: Database;
  /** Where the data lives, for the report. */
  where: string;
  remove(): Promise<void>;
}

/**
 * An empty migrated database in a temporary place: a SQLite data directory, or a database on a PostgreSQL
 * server of its own (data on the same disk as the SQLite run's, not tmpfs, so the two compare).
 */
async function openBenchDatabase(storage: 'sqlite' | 'pg'): Promise<BenchDatabase> {
  if (storage === 'sqlite') {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-bench-history-'));
    const database = await openMigratedDatabase(dataDir);
    return {
      database,
      where: `SQLite ${databaseFile(dataDir)}`,
      async remove() {
        await database.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const server = await startPostgres({ parentDir: tmpdir() });
  try {
    const created = await createDatabase(server.url, { name: 'vigil_bench_history' });
    const database = await openMigratedDatabase(created.url);
    const [version] = (await database.pool!.query<{ server_version: string }>('show server_version')).rows;
    return {
      database,
      where: `PostgreSQL ${version?.server_version} on 127.0.0.1:${server.port} (${server.dataDir}; fsync off)`,
      async remove() {
        await database.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * What autovacuum does on a running PostgreSQL installation shortly after a bulk load: planner statistics
 * and the visibility map (index-only scans). Run here so the measurements do not depend on whether the
 * autovacuum daemon happened to reach the tables yet. SQLite keeps no such statistics unless asked.
 */
async function settleAfterBulkLoad(database: Database): Promise<string | null> {
  if (!database.pool) return null;
  const started = performance.now();
  await database.pool.query('vacuum (analyze)');
  return `vacuum (analyze) after seeding, as autovacuum would: ${((performance.now() - started) / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const bench = await openBenchDatabase(STORAGE);
  const { database } = bench;
  const { db } = database;
  const start = Date.UTC(2025, 10, 25);
  const end = start + DAYS * DAY;
  const defaults: Settings = {
    allowPrivate: false,
    retentionDays: 400,
    scanConcurrency: 8,
    defaultIntervalMinutes: DEFAULT_INTERVAL_MINUTES,
  };
  const empty = await databaseSize(database);

  // Sites, each with a few findings of its own and a staggered scan time.
  const toInsert: SiteToInsert[] = [];
  const states: SiteState[] = Array.from({ length: SITES }, (_, index) => {
    const host = `site-${index}.fleet.example`;
    toInsert.push({
      host,
      label: `Site ${index}`,
      tags: [pick(['eu', 'us', 'apac']), pick(['prod', 'staging'])],
      intervalMinutes: DEFAULT_INTERVAL_MINUTES,
      enabled: true,
      allowPrivate: false,
    });
    const findings = new Map<ScanFindingId, Finding>();
    const count = 2 + Math.floor(random() * 8);
    while (findings.size < count) {
      const id = pick(POOL.slice(0, -2));
      findings.set(id, findingFor(id, host));
    }
    return {
      id: 0,
      host,
      findings,
      lateRenewer: random() < LATE_RENEWERS,
      issuedDay: -Math.floor(random() * 60),
      renewAt: 3 + Math.floor(random() * 23),
      offsetMs: Math.floor((index / SITES) * STEP),
      version: 0,
      lastScanId: 0,
      lastKey: '',
      last: null,
      cache: new Map(),
    };
  });
  const created = await db.transaction((tx) => insertNewSites(tx, toInsert, new Date(start)));
  for (const site of states) site.id = created.get(site.host)!.id;

  const seedStarted = performance.now();
  let scanCount = 0;
  let unchanged = 0;
  const steps = DAYS * PER_DAY;
  // 25 steps of 1000 sites: 25,000 scans per transaction, inserted 1000 rows a statement (server/db/bulk.ts).
  const STEPS_PER_TRANSACTION = 25;
  for (let step = 0; step < steps; step += STEPS_PER_TRANSACTION) {
    await db.transaction(async (tx) => {
      const rows: FinishedScanRow[] = [];
      const rowSites: SiteState[] = [];
      for (let inner = step; inner < Math.min(steps, step + STEPS_PER_TRANSACTION); inner += 1) {
        for (const site of states) {
          if (random() < CHANGE_CHANCE) {
            const id = pick(POOL);
            if (site.findings.has(id)) site.findings.delete(id);
            else site.findings.set(id, findingFor(id, site.host));
            site.version += 1;
            site.cache.clear();
          }
          const startedAt = start + inner * STEP + site.offsetMs + Math.floor(random() * 450_000);
          const cert = certificateDaysLeft(site, startedAt);
          const outage = random() < OUTAGE_CHANCE;
          const key = outage ? 'outage' : `${site.version}|${cert.daysLeft <= 30 ? cert.daysLeft : ''}`;
          let seeded = site.cache.get(key);
          if (!seeded) {
            const result = resultFor(site, startedAt, outage, cert);
            seeded = {
              findingSetId: await saveFindingSet(tx, result.findings),
              contextSetId: await saveContextSet(tx, contextOf(result)),
              result,
            };
            site.cache.set(key, seeded);
          }
          if (key === site.lastKey) unchanged += 1;
          const { result } = seeded;
          const durationMs = 600 + Math.floor(random() * 2400);
          rows.push({
            siteId: site.id,
            queuedAt: new Date(startedAt - 1000),
            startedAt: new Date(startedAt),
            finishedAt: new Date(startedAt + durationMs),
            outcome: result.status,
            grade: result.grade,
            score: result.score,
            durationMs,
            error: result.error ?? null,
            findingSetId: seeded.findingSetId,
            contextSetId: seeded.contextSetId,
          });
          rowSites.push(site);
          site.lastKey = key;
          site.last = seeded;
          scanCount += 1;
        }
      }
      const ids = await insertFinishedScans(tx, rows);
      ids.forEach((id, index) => {
        rowSites[index]!.lastScanId = id;
      });
    });
  }
  await db.transaction(async (tx) => {
    for (const site of states) {
      await tx
        .update(sitesTable)
        .set({ lastScanId: site.lastScanId, nextScanAt: new Date(end) })
        .where(eq(sitesTable.id, site.id));
    }
  });
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const settled = await settleAfterBulkLoad(database);
  const seededSize = await databaseSize(database);
  const objects = await storageByObject(database);

  // An unchanged scan on the real write path: queue → claim → complete with the same result as last time.
  // (On PostgreSQL, `vigil serve` hands scans to workers through pg-boss and claims them with claimScan; the
  // scan rows written are the same, pg-boss's own job rows are not counted here.)
  const rounds = 10;
  let clock = end;
  const now = () => new Date(clock);
  const byId = new Map(states.map((site) => [site.id, site]));
  const writeStarted = performance.now();
  for (let round = 0; round < rounds; round += 1) {
    await enqueueDueSites({ db, now });
    for (let job = await claimNextScan({ db, now }); job; job = await claimNextScan({ db, now })) {
      const site = byId.get(job.siteId)!;
      await completeScan({
        db,
        now,
        random: () => 0,
        input: { scanId: job.scanId, result: site.last!.result },
      });
    }
    clock += STEP + 16 * 60_000;
  }
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  const grown = await databaseSize(database);
  const perUnchanged = (grown.bytes - seededSize.bytes) / (rounds * SITES);

  const scheduler = createScheduler({
    db,
    runScan: () => Promise.reject(new Error('not scanning in the benchmark')),
    defaults,
    now,
    tickCron: null,
  });
  const app = createApp({ database, scheduler, defaults, now, dashboardDir: null });
  // Signed in as an admin with an API token, as the dashboard's API calls are.
  const headers = { authorization: `Bearer ${(await seedTestAdmin(db, now())).token}` };
  const get = (path: string) => app.request(path, { headers });
  const overviewPage = await time(300, () => get('/api/overview'));
  const overviewDashboard = await time(300, () => get('/api/overview?limit=25&offset=50'));
  const overviewAll = await time(100, () => get('/api/overview?limit=1000'));
  const overviewFiltered = await time(300, () => get('/api/overview?grade=F,D,D-&tag=eu&sort=score'));
  const history = await time(200, () =>
    get(`/api/sites/${pick(states).id}/history?limit=5000&from=${new Date(end - 365 * DAY).toISOString()}`),
  );
  const historyPage = await time(300, () => get(`/api/sites/${pick(states).id}/history?limit=500`));

  const findingSets = objects.find((object) => object.name === 'finding_sets')?.bytes ?? 0;
  console.log(`Storage: ${bench.where}`);
  console.log(
    `Seeded ${scanCount.toLocaleString('en')} scans for ${SITES} sites over ${DAYS} days in ${seedSeconds.toFixed(1)} s (${Math.round(scanCount / seedSeconds).toLocaleString('en')} scans/s)`,
  );
  console.log(`  unchanged from the previous scan: ${((unchanged / scanCount) * 100).toFixed(1)} %`);
  console.log(
    `  distinct finding sets: ${await db.$count(findingSetsTable)}, context sets: ${await db.$count(contextSetsTable)}`,
  );
  if (settled) console.log(`  ${settled}`);
  console.log(
    `Database: ${mb(seededSize.bytes)} (${(seededSize.bytes / scanCount).toFixed(0)} bytes per scan on average; ${mb(empty.bytes)} when empty)`,
  );
  for (const object of objects.slice(0, 8)) console.log(`  ${object.name.padEnd(28)} ${mb(object.bytes)}`);
  console.log(`  finding sets per scan: ${(findingSets / scanCount).toFixed(0)} bytes`);
  console.log(
    `Unchanged scan on the write path: ${perUnchanged.toFixed(0)} bytes each (${rounds * SITES} scans, ${((rounds * SITES) / writeSeconds).toFixed(0)} scans/s queued+claimed+stored)`,
  );
  report('GET /api/overview (first 100 sites)', overviewPage);
  report('GET /api/overview?limit=25 (dashboard)', overviewDashboard);
  report('GET /api/overview?limit=1000 (all)', overviewAll);
  report('GET /api/overview filtered, by score', overviewFiltered);
  report('GET /api/sites/:id/history (1 year)', history);
  report('GET /api/sites/:id/history?limit=500', historyPage);
  console.log(
    `Load average during the run: ${loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs`,
  );
  console.log(`Targets: overview p95 < 50 ms, history p95 < 30 ms, < 1024 bytes per unchanged scan`);
  await bench.remove();
}

await main();
