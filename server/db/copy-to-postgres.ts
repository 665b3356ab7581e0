import { createHash } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { getTableColumns, getTableName, sql } from 'drizzle-orm';
import { drizzle as drizzlePostgres, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { applyMigrations, openPostgres, redactUrl } from './client';
import * as pgSchema from './pg-schema';
import * as sqliteSchema from './sqlite-schema';

/**
 * `vigil migrate-to-postgres`: copies every table of a SQLite installation into an empty PostgreSQL
 * database, then proves the copy: equal row counts per table and an equal checksum of the scan history.
 * The SQLite side is read inside one read transaction, so a server still writing to it yields a consistent
 * copy as of the start (later writes are not in it: stop the SQLite server before switching over).
 */

type TableKey = keyof typeof sqliteSchema.tables;

export interface CopyReport {
  from: string;
  to: string;
  tables: { table: string; sqlite: number; postgres: number }[];
  history: { scans: number; sqlite: string; postgres: string };
  ok: boolean;
  ms: number;
}

/** PostgreSQL accepts at most 65535 bind parameters per statement. */
const MAX_PARAMETERS = 60_000;
const HISTORY_PAGE = 5_000;

export async function copyToPostgres(
  sqliteFile: string,
  postgresUrl: string,
  options: { log?: (line: string) => void } = {},
): Promise<CopyReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const source = new BetterSqlite3(sqliteFile, { readonly: true, fileMustExist: true });
  const target = openPostgres(postgresUrl);
  try {
    await applyMigrations(target);
    const pool = target.pool;
    if (!pool) throw new Error('not a PostgreSQL database');
    const pg = drizzlePostgres({ client: pool });
    await refuseUnlessEmpty(pool);
    // One snapshot of the SQLite file for the whole copy and its verification.
    source.exec('begin');
    const keys = Object.keys(sqliteSchema.tables) as TableKey[];
    const client = await pool.connect();
    try {
      await client.query('begin');
      const copyDb = drizzlePostgres({ client });
      for (const key of keys) {
        const copied = await copyTable(source, copyDb, key);
        log(`  ${getTableName(sqliteSchema.tables[key])}: ${copied} rows`);
      }
      // sites.last_scan_id points at scans, copied after sites: filled in now that both exist.
      for (const row of source
        .prepare('select id, last_scan_id from sites where last_scan_id is not null')
        .iterate() as Iterable<{ id: number; last_scan_id: number }>)
        await client.query('update sites set last_scan_id = $1 where id = $2', [row.last_scan_id, row.id]);
      await resetIdentities(client);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }

    const tables = [];
    for (const key of keys) {
      const name = getTableName(sqliteSchema.tables[key]);
      const sqliteCount = (source.prepare(`select count(*) as n from "${name}"`).get() as { n: number }).n;
      const result = await pg.execute<{ n: string }>(sql`select count(*) as n from ${sql.identifier(name)}`);
      tables.push({ table: name, sqlite: sqliteCount, postgres: Number(result.rows[0]?.n ?? -1) });
    }
    const history = {
      scans: tables.find((entry) => entry.table === 'scans')?.sqlite ?? 0,
      sqlite: sqliteHistoryChecksum(source),
      postgres: await postgresHistoryChecksum(pg),
    };
    source.exec('commit');
    const ok =
      tables.every((entry) => entry.sqlite === entry.postgres) && history.sqlite === history.postgres;
    return {
      from: sqliteFile,
      to: redactUrl(postgresUrl),
      tables,
      history,
      ok,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    source.close();
    await target.close();
  }
}

async function refuseUnlessEmpty(pool: NonNullable<ReturnType<typeof openPostgres>['pool']>): Promise<void> {
  const result = await pool.query<{ n: string }>(
    'select (select count(*) from sites) + (select count(*) from users) + (select count(*) from scans) as n',
  );
  if (Number(result.rows[0]?.n ?? 0) > 0)
    throw new Error('the PostgreSQL database already holds Vigil data; copy into an empty database');
}

/** Reads a SQLite table as stored, turns each value into its JavaScript form, and inserts it in batches. */
async function copyTable(
  source: BetterSqlite3.Database,
  target: NodePgDatabase,
  key: TableKey,
): Promise<number> {
  const sqliteTable = sqliteSchema.tables[key];
  const pgTable = pgSchema.tables[key];
  const columns = Object.entries(getTableColumns(sqliteTable));
  const batchSize = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
  const name = getTableName(sqliteTable);
  let batch: Record<string, unknown>[] = [];
  let copied = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    // biome-ignore lint/suspicious/noExplicitAny: rows are built column by column from the table's own definition.
    await target.insert(pgTable as any).values(batch as any);
    copied += batch.length;
    batch = [];
  };
  for (const stored of source.prepare(`select * from "${name}"`).iterate() as Iterable<
    Record<string, unknown>
  >) {
    const row: Record<string, unknown> = {};
    for (const [property, column] of columns) {
      const value = stored[column.name];
      // The cycle sites → scans → sites: last_scan_id is set after scans are copied.
      if (key === 'sites' && property === 'lastScanId') row[property] = null;
      else row[property] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    batch.push(row);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return copied;
}

/** Explicit ids do not move identity sequences: each one restarts after the largest id copied. */
async function resetIdentities(client: { query: (text: string) => Promise<unknown> }): Promise<void> {
  for (const table of Object.values(pgSchema.tables)) {
    const name = getTableName(table);
    for (const column of Object.values(getTableColumns(table))) {
      if (!('generatedIdentity' in column) || !column.generatedIdentity) continue;
      await client.query(
        `select setval(pg_get_serial_sequence('"${name}"', '${column.name}'), coalesce((select max("${column.name}") from "${name}"), 0) + 1, false)`,
      );
    }
  }
}

/** One line per scan, the same on both sides: what the history is. */
function historyLine(row: {
  id: number;
  siteId: number;
  state: string;
  outcome: string | null;
  grade: string | null;
  score: number | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  findings: string | null;
}): string {
  return [
    row.id,
    row.siteId,
    row.state,
    row.outcome ?? '',
    row.grade ?? '',
    row.score ?? '',
    row.queuedAt.getTime(),
    row.startedAt?.getTime() ?? '',
    row.finishedAt?.getTime() ?? '',
    row.findings ?? '',
  ].join('|');
}

/** sha256 over every scan in id order, with the hash of the findings it saw. */
function sqliteHistoryChecksum(source: BetterSqlite3.Database): string {
  const hash = createHash('sha256');
  const rows = source
    .prepare(
      `select s.id, s.site_id, s.state, s.outcome, s.grade, s.score, s.queued_at, s.started_at, s.finished_at, f.hash as findings
       from scans s left join finding_sets f on f.id = s.finding_set_id order by s.id`,
    )
    .iterate() as Iterable<Record<string, number | string | null>>;
  for (const row of rows)
    hash.update(
      `${historyLine({
        id: Number(row.id),
        siteId: Number(row.site_id),
        state: String(row.state),
        outcome: row.outcome === null ? null : String(row.outcome),
        grade: row.grade === null ? null : String(row.grade),
        score: row.score === null ? null : Number(row.score),
        queuedAt: new Date(Number(row.queued_at)),
        startedAt: row.started_at === null ? null : new Date(Number(row.started_at)),
        finishedAt: row.finished_at === null ? null : new Date(Number(row.finished_at)),
        findings: row.findings === null ? null : String(row.findings),
      })}\n`,
    );
  return hash.digest('hex');
}

async function postgresHistoryChecksum(pg: NodePgDatabase): Promise<string> {
  const hash = createHash('sha256');
  let afterId = 0;
  for (;;) {
    const result = await pg.execute<{
      id: number;
      site_id: number;
      state: string;
      outcome: string | null;
      grade: string | null;
      score: number | null;
      queued_at: Date;
      started_at: Date | null;
      finished_at: Date | null;
      findings: string | null;
    }>(
      sql`select s.id, s.site_id, s.state, s.outcome, s.grade, s.score, s.queued_at, s.started_at, s.finished_at, f.hash as findings
          from scans s left join finding_sets f on f.id = s.finding_set_id where s.id > ${afterId} order by s.id limit ${HISTORY_PAGE}`,
    );
    if (result.rows.length === 0) break;
    for (const row of result.rows)
      hash.update(
        `${historyLine({
          id: row.id,
          siteId: row.site_id,
          state: row.state,
          outcome: row.outcome,
          grade: row.grade,
          score: row.score,
          queuedAt: new Date(row.queued_at),
          startedAt: row.started_at === null ? null : new Date(row.started_at),
          finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
          findings: row.findings,
        })}\n`,
      );
    afterId = result.rows[result.rows.length - 1]?.id ?? afterId;
  }
  return hash.digest('hex');
}
