/**
 * Dashboard bench: the JS a browser loads before the fleet overview can render (gzipped), and the time to
 * first render of the overview with 1000 sites in Debian's Chromium. Run: `npx tsx bench/dashboard.ts`.
 * Everything stays on loopback: the sites live in a local DNS zone that answers NXDOMAIN, so their scans
 * end quickly (dns.unresolvable) and the overview is full of graded rows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';
import { z } from 'zod';
import { seedAdminAuthorization, seedAdminSessionCookies } from '../server/auth/testing';
import { startServer } from '../server/serve';
import { startDnsServer } from '../server/testing/dns-server';

/** The page's document, as far as the in-page predicate uses it (this file is type-checked without the DOM lib). */
declare const document: { querySelectorAll(selector: string): { length: number } };

const SITES = 1000;
const RUNS = 7;
const ROWS_ON_FIRST_PAGE = 25;
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const distDir = join(repoRoot, 'web', 'dist');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function buildDashboard(): void {
  const vite = join(repoRoot, 'node_modules', '.bin', 'vite');
  const result = spawnSync(vite, ['build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('vite build failed');
}

/** The entry script plus the overview route's chunk and every chunk they import statically. */
async function overviewInitialJs(): Promise<{ files: string[]; gzipBytes: number; rawBytes: number }> {
  const html = await readFile(join(distDir, 'index.html'), 'utf8');
  const entry = /<script type="module"[^>]*src="\/assets\/([^"]+\.js)"/.exec(html)?.[1];
  const overview = (await readdir(join(distDir, 'assets'))).find((file) =>
    /^OverviewPage-.*\.js$/.test(file),
  );
  if (!entry || !overview) throw new Error('web/dist has no entry or overview chunk');
  const seen = new Set<string>();
  const pending = [entry, overview];
  let gzipBytes = 0;
  let rawBytes = 0;
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = await readFile(join(distDir, 'assets', file));
    rawBytes += code.length;
    gzipBytes += gzipSync(code, { level: 9 }).length;
    for (const match of code.toString('utf8').matchAll(/(?:from|import)\s*"\.\/([\w.-]+\.js)"/g))
      pending.push(match[1]!);
  }
  return { files: [...seen], gzipBytes, rawBytes };
}

const overviewSchema = z.object({
  total: z.number(),
  fleet: z.object({ queued: z.number(), running: z.number(), byGrade: z.record(z.string(), z.number()) }),
});

async function waitForScans(url: string, authorization: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/api/overview?limit=1`, { headers: { authorization } });
    const overview = overviewSchema.parse(await response.json());
    if (overview.fleet.queued === 0 && overview.fleet.running === 0 && overview.fleet.byGrade.none === 0)
      return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('scans did not finish in time');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  if (process.env.VIGIL_BENCH_SKIP_BUILD !== '1') buildDashboard();
  const initial = await overviewInitialJs();

  const dns = await startDnsServer();
  const dataDir = await mkdtemp(join(tmpdir(), 'vigil-bench-dashboard-'));
  // Signed in as an admin: a token for the API calls here, a session for the browser.
  const authorization = await seedAdminAuthorization(dataDir);
  const cookies = await seedAdminSessionCookies(dataDir);
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    storage: dataDir,
    dnsServers: [dns.server],
    allowPrivate: true,
    tickCron: '*/2 * * * * *',
    shutdownGraceMs: 1_000,
    log: () => {},
  });
  // The default role serves HTTP, so the server has an address.
  const serverUrl = server.url!;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const csv = Array.from(
      { length: SITES },
      (_, index) => `site-${index}.bench.vigil.test,Site ${index},bench`,
    ).join('\n');
    const imported = await fetch(`${serverUrl}/api/sites/import`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization },
      body: csv,
    });
    if (!imported.ok) throw new Error(`import failed: ${await imported.text()}`);
    const scansStarted = Date.now();
    await waitForScans(serverUrl, authorization, 180_000);
    const scanSeconds = (Date.now() - scansStarted) / 1000;

    const firstRender: number[] = [];
    const apiAnswered: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies(cookies.map((cookie) => ({ ...cookie, url: serverUrl })));
      const page = await context.newPage();
      await page.goto(serverUrl);
      // Checked in the page on every animation frame: the time is the frame the rows first appeared in.
      // A function, not a string: the dashboard's CSP (no 'unsafe-eval') refuses a string predicate.
      const rendered = await page.waitForFunction(
        (rows) => document.querySelectorAll('tbody tr').length >= rows && performance.now(),
        ROWS_ON_FIRST_PAGE,
        { polling: 'raf', timeout: 30_000 },
      );
      firstRender.push(Number(await rendered.jsonValue()));
      apiAnswered.push(
        await page.evaluate<number>(
          "performance.getEntriesByType('resource').find((entry) => entry.name.includes('/api/overview'))?.responseEnd ?? NaN",
        ),
      );
      await context.close();
    }

    const list = (values: number[]) => values.map((ms) => ms.toFixed(0)).join(', ');
    console.log(`initial JS for the overview: ${(initial.gzipBytes / 1024).toFixed(1)} KiB gzipped`);
    console.log(`  (${(initial.rawBytes / 1024).toFixed(1)} KiB raw in ${initial.files.join(', ')})`);
    console.log(`${SITES} sites imported and scanned in ${scanSeconds.toFixed(1)} s`);
    console.log(
      `overview first render (${ROWS_ON_FIRST_PAGE} rows, from navigation start): median ${median(firstRender).toFixed(0)} ms over ${RUNS} runs [${list(firstRender)}]`,
    );
    console.log(
      `  the overview API response had arrived by: median ${median(apiAnswered).toFixed(0)} ms [${list(apiAnswered)}]`,
    );
  } finally {
    await browser.close();
    await server.close();
    await dns.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
