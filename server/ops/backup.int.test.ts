import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFile, openMigratedDatabase } from '../db';
import { insertNewSites } from '../services/sites';
import { type Fleet, SITE_PRESETS, startFleet } from '../testing/fleet';
import { readColumn, readRows, readValue } from './sqlite-file';
import { runVigil, startVigilProcess, VIGIL_BIN, type VigilProcess } from './testing/vigil-process';

/**
 * Backup and restore against a live database: `vigil serve` runs in a child process and keeps storing
 * scans (a fixture fleet plus many names that do not resolve, all due at once) while `vigil backup`, the
 * real binary, copies the file.
 */

const TOKEN = 'backup-test-metrics-token-0123456789';
const FLEET_SITES = [
  'hardened',
  'debug',
  'leaked-files',
  'hsts-missing',
  'csp-unsafe',
  'static-site',
] as const;
const MISSING_SITES = 1500;
const SITES = FLEET_SITES.length + MISSING_SITES;

let fleet: Fleet;
let dir: string;
let dataDir: string;
let backupFile: string;
let env: Record<string, string | undefined>;
let server: VigilProcess | null = null;
/** What the backup holds, for the restore tests. */
let backedUp: Counts;

interface Counts {
  sites: number;
  scans: number;
  doneScans: number;
}

/** Opens a database file read-only for a moment (a WAL reader never blocks the server). */
function inspect<T>(file: string, read: (client: BetterSqlite3.Database) => T): T {
  const client = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return read(client);
  } finally {
    client.close();
  }
}

function counts(file: string): Counts {
  return inspect(file, (client) => ({
    sites: Number(readValue(client, 'select count(*) from sites')),
    scans: Number(readValue(client, 'select count(*) from scans')),
    doneScans: Number(readValue(client, "select count(*) from scans where state = 'done'")),
  }));
}

/** Every cross-table fact that one transaction writes together holds in the file. */
function consistencyProblems(file: string): string[] {
  return inspect(file, (client) => {
    const problems: string[] = [];
    const integrity = readColumn(client, 'pragma integrity_check');
    if (integrity.join() !== 'ok') problems.push(`integrity: ${integrity.join('; ')}`);
    const foreignKeys = readRows(client, 'pragma foreign_key_check');
    if (foreignKeys.length > 0) problems.push(`foreign keys: ${JSON.stringify(foreignKeys.slice(0, 3))}`);
    const checks: [string, string][] = [
      [
        'a site points at a scan that is not done',
        "select count(*) from sites s left join scans c on c.id = s.last_scan_id where s.last_scan_id is not null and (c.id is null or c.state <> 'done')",
      ],
      [
        'a site has finished scans but no last scan',
        "select count(*) from sites s where s.last_scan_id is null and exists (select 1 from scans c where c.site_id = s.id and c.state = 'done')",
      ],
      [
        "a site's last scan is not its newest",
        "select count(*) from sites s join scans l on l.id = s.last_scan_id where exists (select 1 from scans c where c.site_id = s.id and c.state = 'done' and c.finished_at > l.finished_at)",
      ],
      [
        'a finished scan lacks its finding set',
        "select count(*) from scans c left join finding_sets f on f.id = c.finding_set_id where c.state = 'done' and c.outcome <> 'error' and f.id is null",
      ],
      [
        'a done scan has no end',
        "select count(*) from scans where state = 'done' and (finished_at is null or outcome is null)",
      ],
    ];
    for (const [problem, query] of checks) {
      const found = Number(readValue(client, query));
      if (found > 0) problems.push(`${problem} (${found})`);
    }
    return problems;
  });
}

async function metric(url: string, series: string): Promise<number> {
  const text = await (
    await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return Number(line?.slice(series.length + 1));
}

async function startServer(): Promise<VigilProcess> {
  return startVigilProcess({ args: [VIGIL_BIN, 'serve'], env, startTimeoutMs: 45_000 });
}

async function until(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  fleet = await startFleet(Object.fromEntries(FLEET_SITES.map((name) => [name, SITE_PRESETS[name]])));
  dir = mkdtempSync(join(tmpdir(), 'vigil-backup-'));
  dataDir = join(dir, 'data');
  backupFile = join(dir, 'vigil-backup.db');
  env = {
    ...process.env,
    VIGIL_DATA_DIR: dataDir,
    VIGIL_HOST: '127.0.0.1',
    VIGIL_PORT: '0',
    VIGIL_DNS_SERVERS: fleet.dnsServer,
    NODE_EXTRA_CA_CERTS: fleet.caCertFile,
    VIGIL_ALLOW_PRIVATE: '1',
    VIGIL_TICK_CRON: '* * * * * *',
    VIGIL_SCAN_CONCURRENCY: '4',
    VIGIL_METRICS_TOKEN: TOKEN,
  };
  // Every site is due at once: the server is busy storing scans for a good while after it starts.
  const database = await openMigratedDatabase(dataDir);
  const at = new Date();
  const hosts = [
    ...FLEET_SITES.map((name) => fleet.host(name)),
    ...Array.from({ length: MISSING_SITES }, (_, index) => `missing-${index}.${fleet.zone}`),
  ];
  await database.db.transaction((tx) =>
    insertNewSites(
      tx,
      hosts.map((host) => ({
        host,
        label: '',
        tags: [],
        intervalMinutes: 360,
        enabled: true,
        allowPrivate: true,
      })),
      at,
    ),
  );
  await database.close();
}, 90_000);

afterAll(async () => {
  await server?.stop('SIGKILL');
  await fleet?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vigil backup and restore on a live database', () => {
  it('backs up while the server keeps storing scans: the copy is whole and consistent', async () => {
    server = await startServer();
    const live = databaseFile(dataDir);
    await until('the first scans', () => counts(live).doneScans >= 50);
    // A reader on an old snapshot (a slow dashboard query) keeps newer commits in the WAL only, where a
    // copy of the file would miss them; the online backup reads them.
    const reader = new BetterSqlite3(live, { readonly: true });
    reader.exec('begin');
    const snapshot = Number(readValue(reader, "select count(*) from scans where state = 'done'"));
    await until('scans after the snapshot', () => counts(live).doneScans > snapshot + 20);

    const before = counts(live);
    const result = await runVigil(['backup', backupFile], env);
    const after = counts(live);
    reader.exec('commit');
    reader.close();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^Backed up to .*vigil-backup\.db: \d+ sites, \d+ scans, schema version \d+/,
    );
    // The server went on writing while the backup ran.
    expect(after.doneScans).toBeGreaterThan(before.doneScans);

    expect(consistencyProblems(backupFile)).toEqual([]);
    const copy = counts(backupFile);
    expect(copy.sites).toBe(SITES);
    expect(copy.doneScans).toBeGreaterThanOrEqual(before.doneScans);
    expect(copy.doneScans).toBeLessThanOrEqual(after.doneScans);
    expect(result.stdout).toContain(`${SITES} sites, ${copy.scans} scans`);
    // One self-contained file, nothing beside it.
    expect(readdirSync(dir).filter((name) => name.startsWith('vigil-backup'))).toEqual(['vigil-backup.db']);
    expect(inspect(backupFile, (client) => client.pragma('journal_mode', { simple: true }))).toBe('delete');
    backedUp = copy;

    const again = await runVigil(['backup', backupFile], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
    expect(counts(backupFile).scans).toBe(copy.scans);
  });

  it('refuses to restore while the server holds the database, and leaves it alone', async () => {
    const live = databaseFile(dataDir);
    const before = counts(live);
    const refused = await runVigil(['restore', backupFile], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('is in use by another process');
    expect(readdirSync(dataDir).filter((name) => name.includes('restor'))).toEqual([]);
    await until('more scans after the refusal', () => counts(live).doneScans > before.doneScans);
    expect((await fetch(`${server!.url}/healthz`)).status).toBe(200);
  });

  it('stops on SIGTERM, then restores the backup and keeps the replaced database aside', async () => {
    const exit = await server!.stop('SIGTERM');
    server = null;
    expect(exit).toMatchObject({ code: 0, signal: null });
    const live = databaseFile(dataDir);
    // Scans running at the stop finished or went back to the queue: none is left "running".
    expect(
      inspect(live, (client) => readValue(client, "select count(*) from scans where state = 'running'")),
    ).toBe(0);
    const replaced = counts(live);
    expect(replaced.doneScans).toBeGreaterThan(backedUp.doneScans);

    const restored = await runVigil(['restore', backupFile], env);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const aside = /kept as (\S+);/.exec(restored.stdout)?.[1];
    expect(aside).toMatch(/vigil\.db\.before-restore-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    expect(counts(aside!)).toEqual(replaced);
    expect(consistencyProblems(aside!)).toEqual([]);
    expect(counts(live)).toEqual(backedUp);
    expect(consistencyProblems(live)).toEqual([]);

    // The restored database is what the next server runs on.
    server = await startServer();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await metric(server.url, 'vigil_sites{enabled="true"}')).toBe(SITES);
    await until(
      'scanning to go on from the restored state',
      () => counts(live).doneScans > backedUp.doneScans,
    );
    const second = await server.stop('SIGTERM');
    server = null;
    expect(second.code).toBe(0);
  });

  it('refuses files that are not whole Vigil databases, and leaves the live one alone', async () => {
    const live = databaseFile(dataDir);
    const before = counts(live);
    const garbage = join(dir, 'garbage.db');
    copyFileSync(VIGIL_BIN, garbage);
    const foreign = join(dir, 'foreign.db');
    const other = new BetterSqlite3(foreign);
    other.exec('create table notes (body text); insert into notes values (1)');
    other.close();
    const truncated = join(dir, 'truncated.db');
    copyFileSync(backupFile, truncated);
    truncateSync(truncated, Math.floor(statSync(truncated).size / 2));

    const cases: [string, RegExp][] = [
      [garbage, /not an SQLite database/],
      [foreign, /no Vigil migrations table/],
      [truncated, /integrity check failed/],
      [join(dir, 'absent.db'), /no such file/],
    ];
    for (const [file, message] of cases) {
      const result = await runVigil(['restore', file], env);
      expect(result.code, file).toBe(2);
      expect(result.stderr, file).toMatch(message);
    }
    expect(counts(live)).toEqual(before);
    expect(readdirSync(dataDir).filter((name) => name.includes('restoring'))).toEqual([]);
  });
});

describe('vigil backup and restore on PostgreSQL', () => {
  it('refuse with exit code 2, naming pg_dump and pg_restore, and write nothing', async () => {
    const postgres = { ...env, VIGIL_DATABASE_URL: 'postgres://vigil:s3cret@127.0.0.1:1/vigil' };
    const file = join(dir, 'postgres-backup.db');
    const backup = await runVigil(['backup', file], postgres);
    expect(backup.code).toBe(2);
    expect(backup.stdout).toBe('');
    expect(backup.stderr).toMatch(/^vigil: vigil backup works on SQLite files; this database is PostgreSQL/);
    expect(backup.stderr).toContain('pg_dump');
    expect(backup.stderr).toContain('docs/operations.md#backup-and-restore');
    expect(existsSync(file)).toBe(false);

    const restore = await runVigil(['restore', file], postgres);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toMatch(
      /^vigil: vigil restore works on SQLite files; this database is PostgreSQL/,
    );
    expect(restore.stderr).toContain('pg_restore');
    for (const output of [backup.stderr, restore.stderr]) {
      expect(output).not.toContain('s3cret');
      // A refusal, not a crash: one line, no stack trace.
      expect(output.trim().split('\n')).toHaveLength(1);
    }
  });
});
