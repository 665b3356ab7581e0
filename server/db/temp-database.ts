import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase } from '../testing/postgres';
import { applyMigrations, type Database, openMigratedDatabase, openPostgres } from './client';

/**
 * Which database tests run on: SQLite unless VIGIL_TEST_DIALECT=pg, which needs a PostgreSQL server at
 * VIGIL_TEST_POSTGRES_URL (started by server/testing/postgres-global-setup.ts). The service and API suites
 * run once per dialect (vitest.config.ts).
 */
export function testDialect(): 'sqlite' | 'pg' {
  return process.env.VIGIL_TEST_DIALECT === 'pg' ? 'pg' : 'sqlite';
}

export type TempDatabase = Database & {
  /** The SQLite data directory, or a temporary directory for files beside a PostgreSQL database. */
  dataDir: string;
  /** The location to give `vigil` commands and servers: the data directory or the PostgreSQL URL. */
  url: string;
  remove(): Promise<void>;
};

/** A migrated database of the test dialect, empty, for tests and benchmarks; `remove()` deletes it all. */
export async function createTempDatabase(): Promise<TempDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-db-'));
  if (testDialect() === 'pg') {
    const created = await createDatabase(postgresServerUrl(), { template: await migratedTemplate() });
    const database = openPostgres(created.url);
    return {
      ...database,
      dataDir,
      url: created.url,
      async remove() {
        await database.close();
        await created.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const database = await openMigratedDatabase(dataDir);
  return {
    ...database,
    dataDir,
    url: dataDir,
    async remove() {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function postgresServerUrl(): string {
  const url = process.env.VIGIL_TEST_POSTGRES_URL;
  if (!url) throw new Error('VIGIL_TEST_DIALECT=pg needs VIGIL_TEST_POSTGRES_URL (postgres-global-setup.ts)');
  return url;
}

/** Named after the migrations it holds, so a server kept between runs never serves an outdated copy. */
const TEMPLATE = `vigil_template_${createHash('sha256')
  .update(readFileSync(new URL('../../migrations/pg/meta/_journal.json', import.meta.url)))
  .digest('hex')
  .slice(0, 12)}`;
const TEMPLATE_LOCK = 0x76746d70; // "vtmp"
let template: Promise<string> | undefined;

/**
 * A database with every migration applied, copied for each test database (a copy is much faster than
 * migrating). Test processes run in parallel, so the first one to get the advisory lock builds it.
 */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const admin = new pg.Client({ connectionString: postgresServerUrl() });
    await admin.connect();
    try {
      await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
      const found = await admin.query('select 1 from pg_database where datname = $1', [TEMPLATE]);
      if (found.rowCount === 0) {
        const built = await createDatabase(postgresServerUrl(), { name: `${TEMPLATE}_building` });
        const database = openPostgres(built.url);
        try {
          await applyMigrations(database);
        } finally {
          await database.close();
        }
        await admin.query(`alter database "${built.name}" rename to "${TEMPLATE}"`);
      }
      return TEMPLATE;
    } finally {
      await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]).catch(() => {});
      await admin.end();
    }
  })();
  return template;
}
