import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { and, eq, gte, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SmtpSink, startSmtpSink } from '../alerts/testing/smtp-sink';
import { type Database, openMigratedDatabase } from '../db';
import { incidents, scans, sites } from '../db/schema';
import { TEST_DEFAULTS } from '../routes/test-app';
import { createRecipient } from '../services/alert-recipients';
import { importSites } from '../services/site-import';
import { type Fleet, SITE_PRESETS, startFleet } from '../testing/fleet';
import { createDatabase } from '../testing/postgres';

/**
 * Scale-out for real: one scheduler and three worker processes (`vigil serve --role=…`) on a real
 * PostgreSQL database scan a 200-site loopback fleet. Every site is scanned exactly once per round; a
 * worker killed with SIGKILL mid-round loses no scan (its leased jobs are retried by the others) and no
 * alert mail is sent twice.
 */

const SITES = 200;
const WORKERS = 3;
/** Short leases so the killed worker's scans come back within seconds. */
const LEASE_SECONDS = 8;
const REGRESSED = 12;
const VIGIL_BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

let fleet: Fleet;
let smtp: SmtpSink;
let database: Database;
let databaseUrl: string;
let dropDatabase: () => Promise<void>;
const children: { role: string; child: ChildProcess; lines: string[] }[] = [];

function spawnVigil(role: 'scheduler' | 'worker', name: string) {
  const child = spawn(process.execPath, [VIGIL_BIN, 'serve', `--role=${role}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      VIGIL_DATABASE_URL: databaseUrl,
      VIGIL_TICK_CRON: '* * * * * *',
      VIGIL_DNS_SERVERS: fleet.dnsServer,
      VIGIL_ALLOW_PRIVATE: '1',
      NODE_EXTRA_CA_CERTS: fleet.caCertFile,
      // Workers as docs/operations.md sizes them: 16 scans at once over 4 pooled connections.
      VIGIL_SCAN_CONCURRENCY: '16',
      VIGIL_DATABASE_POOL_SIZE: '4',
      VIGIL_WORKER_POLL_MS: '200',
      VIGIL_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      VIGIL_JOB_RETRY_DELAY_SECONDS: '1',
      VIGIL_SMTP_URL: smtp.url,
      VIGIL_MAIL_FROM: 'Vigil <vigil@vigil.test>',
    },
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  }
  const entry = { role: name, child, lines };
  children.push(entry);
  return entry;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const logs = children
        .map((entry) => `--- ${entry.role}\n${entry.lines.slice(-15).join('\n')}`)
        .join('\n');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Scans of one round (queued at or after `since`), per state, with the workers that recorded them. */
async function round(since: Date) {
  const rows = await database.db
    .select({
      siteId: scans.siteId,
      state: scans.state,
      trigger: scans.trigger,
      worker: scans.worker,
      attempts: scans.attempts,
    })
    .from(scans)
    .where(gte(scans.queuedAt, since));
  const scheduled = rows.filter((row) => row.trigger === 'schedule');
  return {
    rows,
    scheduled,
    done: scheduled.filter((row) => row.state === 'done').length,
    perSite: scheduled.reduce(
      (counts, row) => counts.set(row.siteId, (counts.get(row.siteId) ?? 0) + 1),
      new Map<number, number>(),
    ),
  };
}

beforeAll(async () => {
  const names = Array.from({ length: SITES }, (_, index) => `site-${index}`);
  fleet = await startFleet(Object.fromEntries(names.map((name) => [name, SITE_PRESETS.hardened])));
  smtp = await startSmtpSink();
  const serverUrl = process.env.VIGIL_TEST_POSTGRES_URL;
  if (!serverUrl) throw new Error('needs VIGIL_TEST_POSTGRES_URL (postgres-global-setup.ts)');
  const created = await createDatabase(serverUrl);
  databaseUrl = created.url;
  dropDatabase = created.drop;
  database = await openMigratedDatabase(databaseUrl);
  const ctx = { db: database.db, now: () => new Date(), defaults: TEST_DEFAULTS };
  const imported = await importSites({
    ...ctx,
    input: { text: names.map((name) => fleet.host(name)).join('\n'), atomic: true },
  });
  expect(imported.created).toBe(SITES);
  await createRecipient({ ...ctx, input: { email: 'team@vigil.test' } });
}, 120_000);

afterAll(async () => {
  for (const { child } of children) child.kill('SIGKILL');
  await database?.close();
  await dropDatabase?.();
  await smtp?.stop();
  await fleet?.close();
});

describe('three workers on PostgreSQL', () => {
  it('scan every site exactly once per round, and a SIGKILLed worker loses and duplicates nothing', async () => {
    const started = new Date(Date.now() - 1000);
    spawnVigil('scheduler', 'scheduler');
    for (let index = 0; index < WORKERS; index += 1) spawnVigil('worker', `worker-${index}`);

    // Round 1: every site is due at once.
    const first = await until(
      'round 1 to finish',
      async () => {
        const state = await round(started);
        return state.done === SITES ? state : undefined;
      },
      120_000,
    );
    expect([...first.perSite.values()].every((count) => count === 1)).toBe(true);
    expect(first.perSite.size).toBe(SITES);
    const firstRoundMs = Date.now() - started.getTime();
    const perWorker = first.scheduled.reduce(
      (counts, row) => counts.set(row.worker ?? '?', (counts.get(row.worker ?? '?') ?? 0) + 1),
      new Map<string, number>(),
    );
    expect(perWorker.size).toBe(WORKERS);

    // Round 2: some sites regress (DEBUG on) and every site is due again; one worker dies mid-round.
    for (let index = 0; index < REGRESSED; index += 1)
      await fleet.reconfigure(`site-${index}`, { behaviour: { debug: true } });
    const second = new Date();
    await database.db.update(sites).set({ nextScanAt: second });
    await until(
      'a third of round 2',
      async () => ((await round(second)).done >= SITES / 3 ? true : undefined),
      60_000,
    );
    const victim = children.find((entry) => entry.role === 'worker-0')!;
    const victimName = await until(
      'the victim to hold running scans',
      async () => {
        const running = await database.db
          .select({ worker: scans.worker })
          .from(scans)
          .where(and(eq(scans.state, 'running'), sql`${scans.worker} like ${`%:${victim.child.pid}`}`));
        return running.length > 0 ? running[0]!.worker : undefined;
      },
      30_000,
    );
    victim.child.kill('SIGKILL');

    const after = await until(
      'round 2 to finish after the kill',
      async () => {
        const state = await round(second);
        const active = state.rows.filter((row) => row.state !== 'done').length;
        return state.done === SITES && active === 0 ? state : undefined;
      },
      120_000,
    );
    expect(after.perSite.size).toBe(SITES);
    expect([...after.perSite.values()].every((count) => count === 1)).toBe(true);
    // What the victim held when it died was scanned again by a survivor, as a second attempt.
    const retaken = after.scheduled.filter((row) => row.attempts > 1);
    expect(retaken.length).toBeGreaterThan(0);
    expect(retaken.every((row) => row.worker !== victimName)).toBe(true);
    console.log(
      `workers: round 1 took ${(firstRoundMs / 1000).toFixed(1)} s, split ${[...perWorker.values()].join('/')}; ` +
        `round 2 took ${((Date.now() - second.getTime()) / 1000).toFixed(1)} s with a SIGKILL, ` +
        `${retaken.length} scans the victim held were retaken after its ${LEASE_SECONDS} s lease`,
    );

    // Each regression is confirmed by one confirmation scan and mailed exactly once.
    const opened = await until(
      'the DEBUG incidents',
      async () => {
        const rows = await database.db.select().from(incidents).where(eq(incidents.key, 'django.debug'));
        return rows.length === REGRESSED ? rows : undefined;
      },
      60_000,
    );
    const mails = await smtp.waitForCount(REGRESSED, 60_000);
    // Let any duplicate arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const perIncident = new Map<string, number>();
    for (const mail of smtp.messages) {
      const id = mail.headers.get('x-vigil-incident') ?? '';
      perIncident.set(id, (perIncident.get(id) ?? 0) + 1);
    }
    expect(mails.length).toBeGreaterThanOrEqual(REGRESSED);
    expect(smtp.messages).toHaveLength(REGRESSED);
    expect(perIncident.size).toBe(opened.length);
    expect([...perIncident.values()].every((count) => count === 1)).toBe(true);
  }, 400_000);
});
