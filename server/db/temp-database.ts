import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, openMigratedDatabase } from './client';

/** A migrated database in a fresh temporary directory, for tests and benchmarks; `remove()` deletes it all. */
export function createTempDatabase(): Database & { dataDir: string; remove(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-db-'));
  const database = openMigratedDatabase(dataDir);
  return {
    ...database,
    dataDir,
    remove() {
      database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
