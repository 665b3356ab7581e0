import { asc, inArray } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertSite } from '../services/sites';
import { type FinishedScanRow, insertFinishedScans } from './bulk';
import { scans } from './schema';
import { createTempDatabase, type TempDatabase } from './temp-database';

let database: TempDatabase;
beforeEach(async () => {
  database = await createTempDatabase();
});
afterEach(async () => {
  await database.remove();
});

const START = Date.parse('2025-01-01T00:00:00.000Z');

async function addSites(count: number): Promise<number[]> {
  return database.db.transaction(async (tx) => {
    const ids: number[] = [];
    for (let index = 0; index < count; index += 1) {
      const site = await insertSite(
        tx,
        {
          host: `site-${index}.example.com`,
          label: '',
          tags: [],
          intervalMinutes: 360,
          enabled: true,
          allowPrivate: false,
        },
        new Date(START),
      );
      ids.push(site.id);
    }
    return ids;
  });
}

function scanRow(siteId: number, index: number): FinishedScanRow {
  const startedAt = START + index * 60_000;
  return {
    siteId,
    queuedAt: new Date(startedAt - 1000),
    startedAt: new Date(startedAt),
    finishedAt: new Date(startedAt + 1500),
    outcome: index % 7 === 0 ? 'unreachable' : 'ok',
    grade: index % 7 === 0 ? null : 'B',
    score: index % 7 === 0 ? null : index % 100,
    durationMs: 1500,
    error: index % 7 === 0 ? 'connection refused' : null,
    findingSetId: 1 + (index % 3),
    contextSetId: 1,
  };
}

describe('insertFinishedScans', () => {
  it('stores every row over several statements and returns each id in the order of the rows', async () => {
    const siteIds = await addSites(3);
    // More rows than one statement takes, so the ids of later statements must line up too.
    const rows = Array.from({ length: 10_050 }, (_, index) => scanRow(siteIds[index % 3]!, index));
    const ids = await database.db.transaction((tx) => insertFinishedScans(tx, rows));

    expect(ids).toHaveLength(rows.length);
    expect(new Set(ids).size).toBe(rows.length);
    const stored = await database.db
      .select()
      .from(scans)
      .where(inArray(scans.id, ids.slice(0, 5).concat(ids.slice(-5))))
      .orderBy(asc(scans.id));
    const byId = new Map(stored.map((scan) => [scan.id, scan]));
    for (const index of [0, 1, 2, 3, 4, 10_045, 10_046, 10_047, 10_048, 10_049]) {
      const row = rows[index]!;
      expect(byId.get(ids[index]!), `row ${index}`).toEqual({
        ...row,
        id: ids[index],
        trigger: 'schedule',
        state: 'done',
        attempts: 1,
        worker: null,
        region: null,
      });
    }
    expect(await database.db.select({ id: scans.id }).from(scans)).toHaveLength(rows.length);
  });

  it('inserts nothing for no rows', async () => {
    expect(await insertFinishedScans(database.db, [])).toEqual([]);
    expect(await database.db.select().from(scans)).toEqual([]);
  });
});
