import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { seedTestAdmin } from '../auth/testing';
import { createTestApp, TEST_DEFAULTS } from '../routes/test-app';
import { makeFinding } from '../scan/catalogue';
import { scanResultFor } from '../scheduler/scripted-scan';
import { claimNextScan, completeScan, enqueueDueSites, failScan } from '../services/scan-queue';
import { createSite } from '../services/sites';
import { createDatabase } from '../testing/postgres';
import { databaseFile } from './client';

/**
 * `vigil migrate-to-postgres` end to end: a SQLite installation with history, accounts and settings is
 * copied by the real command into an empty PostgreSQL database; the command verifies counts and the
 * history checksum, and then a real `vigil serve` on PostgreSQL answers the API exactly as the SQLite
 * installation did, with the same API token. (This process stores in SQLite; PostgreSQL is reached only
 * through the child processes and a plain pg client.)
 */

const VIGIL_BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
const SITES = 12;
const ROUNDS = 6;

let t: Awaited<ReturnType<typeof createTestApp>>;
let target: { url: string; drop(): Promise<void> };
let token: string;
const siteIds: number[] = [];

function vigil(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [VIGIL_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => output };
}

beforeAll(async () => {
  t = await createTestApp();
  const ctx = { db: t.db, now: t.clock.now, defaults: TEST_DEFAULTS };
  for (let index = 0; index < SITES; index += 1) {
    const site = await createSite({
      ...ctx,
      input: {
        host: `site${index}.example.com`,
        label: `Site ${index}`,
        tags: index % 2 ? ['odd'] : ['even'],
      },
    });
    siteIds.push(site.id);
  }
  // Rounds of history: most unchanged, some regressing, some failing.
  for (let round = 0; round < ROUNDS; round += 1) {
    await enqueueDueSites(ctx);
    for (;;) {
      const job = await claimNextScan(ctx);
      if (!job) break;
      if ((job.siteId + round) % 7 === 0) {
        await failScan({
          ...ctx,
          random: () => 0.5,
          input: { scanId: job.scanId, error: 'connection reset' },
        });
        continue;
      }
      const findings =
        (job.siteId + round) % 3 === 0 ? [makeFinding('hsts.missing', { evidence: 'no header' })] : [];
      await completeScan({
        ...ctx,
        random: () => 0.5,
        input: { scanId: job.scanId, result: scanResultFor(job.host, findings) },
      });
    }
    t.clock.advance(7 * 60 * 60_000);
  }
  token = (await seedTestAdmin(t.db, t.clock.now())).token;
  const serverUrl = process.env.VIGIL_TEST_POSTGRES_URL;
  if (!serverUrl) throw new Error('needs VIGIL_TEST_POSTGRES_URL');
  target = await createDatabase(serverUrl);
}, 120_000);

afterAll(async () => {
  await t?.close();
  await target?.drop();
});

describe('vigil migrate-to-postgres', () => {
  it('copies an installation, verifies it, and the copy serves the same API', async () => {
    const copy = vigil(['migrate-to-postgres', databaseFile(t.dataDir), target.url]);
    expect(await copy.exited).toBe(0);
    expect(copy.output()).toMatch(/history checksum \(\d+ scans\): ([0-9a-f]{16}) → \1/);
    expect(copy.output()).toContain('Copied and verified');
    expect(copy.output()).not.toContain('MISMATCH');

    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    const counts = await client.query<{ sites: string; scans: string }>(
      'select (select count(*) from sites) as sites, (select count(*) from scans) as scans',
    );
    await client.end();
    expect(Number(counts.rows[0]?.sites)).toBe(SITES);
    expect(Number(counts.rows[0]?.scans)).toBe(SITES * ROUNDS);

    const served = vigil(['serve', '--role=web'], {
      VIGIL_DATABASE_URL: target.url,
      VIGIL_PORT: '0',
      VIGIL_HOST: '127.0.0.1',
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const found = /Vigil listening on (\S+)/.exec(served.output());
          if (found?.[1]) {
            clearInterval(timer);
            resolve(found[1]);
          }
        }, 100);
        void served.exited.then(() => {
          clearInterval(timer);
          reject(new Error(`vigil serve exited:\n${served.output()}`));
        });
      });
      const sqliteApp = createApp({
        database: t.database,
        scheduler: t.scheduler,
        defaults: TEST_DEFAULTS,
        now: t.clock.now,
        dashboardDir: null,
      });
      const headers = { authorization: `Bearer ${token}` };
      for (const path of [
        '/api/sites?limit=100',
        `/api/sites/${siteIds[3]}/history?limit=100`,
        '/api/sites/export.csv',
      ]) {
        const fromSqlite = await (await sqliteApp.request(`http://localhost${path}`, { headers })).text();
        const response = await fetch(`${url}${path}`, { headers });
        expect(response.status, path).toBe(200);
        expect(await response.text(), path).toBe(fromSqlite);
      }
    } finally {
      served.child.kill('SIGTERM');
      await served.exited;
    }

    // A second copy into the now populated database is refused, and changes nothing.
    const again = vigil(['migrate-to-postgres', databaseFile(t.dataDir), target.url]);
    expect(await again.exited).not.toBe(0);
    expect(again.output()).toContain('already holds Vigil data');
  }, 180_000);
});
