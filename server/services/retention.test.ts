import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertFinishedScans } from '../db/bulk';
import { contextSets, dailySummaries, findingSets, scans, sites } from '../db/schema';
import { createTempDatabase, type TempDatabase } from '../db/temp-database';
import { makeFinding } from '../scan/catalogue';
import type { Grade } from '../scan/types';
import { foldOldScans } from './retention';
import { saveContextSet, saveFindingSet } from './scan-sets';
import { insertSite } from './sites';

let database: TempDatabase;
beforeEach(async () => {
  database = await createTempDatabase();
});
afterEach(async () => {
  await database.remove();
});

const at = (iso: string) => new Date(iso);
const context = (target: string) => ({
  target,
  addresses: ['192.0.2.1'],
  django: { detected: false, signals: [] },
  tls: null,
  checks: [],
});

async function addSite(host: string): Promise<number> {
  const site = await database.db.transaction((tx) =>
    insertSite(
      tx,
      { host, label: '', tags: [], intervalMinutes: 360, enabled: true, allowPrivate: false },
      at('2025-01-01T00:00:00.000Z'),
    ),
  );
  return site.id;
}

interface Seen {
  startedAt: string;
  score: number | null;
  grade: Grade | null;
  findingSetId: number;
  contextSetId: number;
}

async function addScans(siteId: number, seen: Seen[]): Promise<number[]> {
  const ids = await insertFinishedScans(
    database.db,
    seen.map((scan) => ({
      siteId,
      queuedAt: at(scan.startedAt),
      startedAt: at(scan.startedAt),
      finishedAt: at(scan.startedAt),
      outcome: scan.score === null ? 'unreachable' : 'ok',
      grade: scan.grade,
      score: scan.score,
      durationMs: 1000,
      error: null,
      findingSetId: scan.findingSetId,
      contextSetId: scan.contextSetId,
    })),
  );
  await database.db
    .update(sites)
    .set({ lastScanId: ids.at(-1) })
    .where(eq(sites.id, siteId));
  return ids;
}

function summaries() {
  return database.db
    .select()
    .from(dailySummaries)
    .orderBy(asc(dailySummaries.siteId), asc(dailySummaries.day));
}

describe('foldOldScans', () => {
  it('folds old scans into one summary per site and day, keeps recent ones and each site’s latest, and drops sets nobody uses', async () => {
    const clean = await saveFindingSet(database.db, []);
    const debug = await saveFindingSet(database.db, [
      makeFinding('django.debug', { evidence: 'technical 404' }),
    ]);
    const onlyFolded = await saveFindingSet(database.db, [
      makeFinding('hsts.missing', { evidence: 'no header' }),
    ]);
    const shopContext = await saveContextSet(database.db, context('shop.example.com'));
    const oldContext = await saveContextSet(database.db, context('old.example.com'));

    const shop = await addSite('shop.example.com');
    const [, , , , recent] = await addScans(shop, [
      {
        startedAt: '2025-01-10T08:00:00.000Z',
        score: 80,
        grade: 'B',
        findingSetId: onlyFolded,
        contextSetId: oldContext,
      },
      {
        startedAt: '2025-01-10T12:00:00.000Z',
        score: 55,
        grade: 'D',
        findingSetId: debug,
        contextSetId: oldContext,
      },
      {
        startedAt: '2025-01-10T16:00:00.000Z',
        score: null,
        grade: null,
        findingSetId: clean,
        contextSetId: oldContext,
      },
      {
        startedAt: '2025-01-11T09:00:00.000Z',
        score: 95,
        grade: 'A',
        findingSetId: clean,
        contextSetId: oldContext,
      },
      {
        startedAt: '2025-03-01T09:00:00.000Z',
        score: 95,
        grade: 'A',
        findingSetId: clean,
        contextSetId: shopContext,
      },
    ]);
    // A disabled site scanned long ago keeps its one scan: the overview still shows its grade.
    const idle = await addSite('idle.example.com');
    const [idleLast] = await addScans(idle, [
      {
        startedAt: '2025-01-05T10:00:00.000Z',
        score: 70,
        grade: 'C',
        findingSetId: debug,
        contextSetId: oldContext,
      },
    ]);

    const report = await foldOldScans({
      db: database.db,
      now: () => at('2025-03-02T12:00:00.000Z'),
      input: { retentionDays: 30 },
    });

    expect(report).toEqual({ foldedScans: 4, removedSets: 1 });
    expect(await summaries()).toEqual([
      {
        siteId: shop,
        day: '2025-01-10',
        scans: 3,
        minScore: 55,
        maxScore: 80,
        lastScore: null,
        lastGrade: null,
        worstGrade: 'D',
        lastOutcome: 'unreachable',
        lastScanAt: at('2025-01-10T16:00:00.000Z'),
        lastFindingSetId: clean,
      },
      {
        siteId: shop,
        day: '2025-01-11',
        scans: 1,
        minScore: 95,
        maxScore: 95,
        lastScore: 95,
        lastGrade: 'A',
        worstGrade: 'A',
        lastOutcome: 'ok',
        lastScanAt: at('2025-01-11T09:00:00.000Z'),
        lastFindingSetId: clean,
      },
    ]);
    const kept = await database.db.select({ id: scans.id }).from(scans).orderBy(asc(scans.id));
    expect(new Set(kept.map((scan) => scan.id))).toEqual(new Set([idleLast, recent]));
    // The set only the folded 08:00 scan had is gone; the rest are still referred to.
    const findingSetIds = (await database.db.select({ id: findingSets.id }).from(findingSets)).map(
      (set) => set.id,
    );
    expect(new Set(findingSetIds)).toEqual(new Set([clean, debug]));
    const contextSetIds = (await database.db.select({ id: contextSets.id }).from(contextSets)).map(
      (set) => set.id,
    );
    expect(new Set(contextSetIds)).toEqual(new Set([shopContext, oldContext]));
  });

  it('folds a late scan onto a day already summarised, merging rather than replacing it', async () => {
    const clean = await saveFindingSet(database.db, []);
    const debug = await saveFindingSet(database.db, [
      makeFinding('django.debug', { evidence: 'technical 404' }),
    ]);
    const contextSetId = await saveContextSet(database.db, context('shop.example.com'));
    const shop = await addSite('shop.example.com');
    await addScans(shop, [
      { startedAt: '2025-01-10T08:00:00.000Z', score: 80, grade: 'B', findingSetId: clean, contextSetId },
      { startedAt: '2025-01-10T12:00:00.000Z', score: 90, grade: 'A-', findingSetId: clean, contextSetId },
      { startedAt: '2025-03-01T09:00:00.000Z', score: 95, grade: 'A', findingSetId: clean, contextSetId },
    ]);
    const fold = () =>
      foldOldScans({
        db: database.db,
        now: () => at('2025-03-02T12:00:00.000Z'),
        input: { retentionDays: 30 },
      });
    expect((await fold()).foldedScans).toBe(2);

    // Scans imported afterwards for the same day: one later than the summary's last, one earlier.
    await insertFinishedScans(
      database.db,
      [
        { startedAt: '2025-01-10T20:00:00.000Z', score: 40, grade: 'F' as const, findingSetId: debug },
        { startedAt: '2025-01-10T06:00:00.000Z', score: 99, grade: 'A+' as const, findingSetId: clean },
      ].map((scan) => ({
        ...scan,
        siteId: shop,
        queuedAt: at(scan.startedAt),
        startedAt: at(scan.startedAt),
        finishedAt: at(scan.startedAt),
        outcome: 'ok' as const,
        durationMs: 1000,
        error: null,
        contextSetId,
      })),
    );
    expect((await fold()).foldedScans).toBe(2);

    expect(await summaries()).toEqual([
      {
        siteId: shop,
        day: '2025-01-10',
        scans: 4,
        minScore: 40,
        maxScore: 99,
        lastScore: 40,
        lastGrade: 'F',
        worstGrade: 'F',
        lastOutcome: 'ok',
        lastScanAt: at('2025-01-10T20:00:00.000Z'),
        lastFindingSetId: debug,
      },
    ]);
  });

  it('folds nothing and removes nothing when every scan is recent', async () => {
    const clean = await saveFindingSet(database.db, []);
    const contextSetId = await saveContextSet(database.db, context('shop.example.com'));
    const shop = await addSite('shop.example.com');
    await addScans(shop, [
      { startedAt: '2025-02-20T08:00:00.000Z', score: 80, grade: 'B', findingSetId: clean, contextSetId },
      { startedAt: '2025-03-01T08:00:00.000Z', score: 80, grade: 'B', findingSetId: clean, contextSetId },
    ]);
    expect(
      await foldOldScans({
        db: database.db,
        now: () => at('2025-03-02T12:00:00.000Z'),
        input: { retentionDays: 30 },
      }),
    ).toEqual({ foldedScans: 0, removedSets: 0 });
    expect(await summaries()).toEqual([]);
  });
});
