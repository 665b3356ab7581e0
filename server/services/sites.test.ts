import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findingSets, sites, siteTags } from '../db/schema';
import { createTempDatabase, type TempDatabase } from '../db/temp-database';
import { AppError } from '../errors';
import { makeFinding } from '../scan/catalogue';
import { DEFAULT_INTERVAL_MINUTES, type Settings } from './context';
import { saveFindingSet } from './scan-sets';
import { importSites } from './site-import';
import { createSite, getSite, updateSite } from './sites';

/**
 * Writes that race: the same request twice at the same moment, as two processes serving one PostgreSQL
 * database would run them. The database's unique keys decide who wins; the loser gets the answer it would
 * get one after the other, never a storage error.
 */

const defaults: Settings = {
  allowPrivate: false,
  retentionDays: 400,
  scanConcurrency: 8,
  defaultIntervalMinutes: DEFAULT_INTERVAL_MINUTES,
};
const now = () => new Date('2026-03-01T12:00:00.000Z');

let database: TempDatabase;
let ctx: { db: TempDatabase['db']; now: () => Date; defaults: Settings };
beforeEach(async () => {
  database = await createTempDatabase();
  ctx = { db: database.db, now, defaults };
  // Connections open before the race (PostgreSQL opens them lazily), so the racing calls do run at once.
  await Promise.all(Array.from({ length: 4 }, () => database.db.select().from(sites)));
});
afterEach(async () => {
  await database.remove();
});

describe('sites written at the same moment', () => {
  it('creates one site when the same host is added twice at once; the other answers a conflict naming it', async () => {
    const results = await Promise.allSettled([
      createSite({ ...ctx, input: { host: 'shop.example.com', tags: ['eu'] } }),
      createSite({ ...ctx, input: { host: 'https://SHOP.example.com/', tags: ['us'] } }),
    ]);
    const created = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(AppError);
    expect(refused[0]).toMatchObject({ code: 'conflict', details: { siteId: created[0]?.id } });
    expect(await database.db.select({ host: sites.host }).from(sites)).toEqual([
      { host: 'shop.example.com' },
    ]);
    // The winner's tags only: the loser wrote nothing.
    expect(await database.db.select({ tag: siteTags.tag }).from(siteTags)).toEqual([
      { tag: created[0]?.tags[0] },
    ]);
  });

  it('imports overlapping lists at once: each host once, created by one import and a duplicate in the other', async () => {
    const host = (index: number) => `site-${String(index).padStart(3, '0')}.example.com`;
    // Overlapping in opposite orders: inserted line by line, each would wait for a host the other holds.
    const first = Array.from({ length: 300 }, (_, index) => host(index));
    const second = Array.from({ length: 300 }, (_, index) => host(449 - index));
    const [one, two] = await Promise.all([
      importSites({ ...ctx, input: { text: first.join('\n'), atomic: false } }),
      importSites({ ...ctx, input: { text: second.join('\n'), atomic: false } }),
    ]);
    const stored = await database.db.select({ id: sites.id, host: sites.host }).from(sites);
    expect(stored).toHaveLength(450);
    const idOf = new Map(stored.map((site) => [site.host, site.id]));
    for (const index of [150, 200, 299]) {
      const lines = [...one.lines, ...two.lines].filter(
        (line) => 'host' in line && line.host === host(index),
      );
      expect(lines.map((line) => line.status).sort(), host(index)).toEqual(['created', 'duplicate']);
      for (const line of lines) expect(line, host(index)).toMatchObject({ siteId: idOf.get(host(index)) });
    }
    expect(one.created + two.created).toBe(450);
    expect(one.duplicates + two.duplicates).toBe(150);
  });

  it('renames one of two sites onto a host when both are renamed to it at once; the other answers a conflict', async () => {
    const shop = await createSite({ ...ctx, input: { host: 'shop.example.com' } });
    const blog = await createSite({ ...ctx, input: { host: 'blog.example.com' } });
    const results = await Promise.allSettled(
      [shop, blog].map((site) =>
        updateSite({ ...ctx, input: { id: site.id, patch: { host: 'www.example.com' } } }),
      ),
    );
    const renamed = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(renamed).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(AppError);
    expect(refused[0]).toMatchObject({ code: 'conflict', details: { siteId: renamed[0]?.id } });
    const hosts = await database.db.select({ host: sites.host }).from(sites);
    expect(hosts.map((site) => site.host).sort()).toEqual(
      renamed[0]?.id === shop.id
        ? ['blog.example.com', 'www.example.com']
        : ['shop.example.com', 'www.example.com'],
    );
  });

  it('applies two changes to one site at once one after the other: neither undoes the other', async () => {
    const shop = await createSite({
      ...ctx,
      input: { host: 'shop.example.com', label: 'Shop', tags: ['old'] },
    });
    await Promise.all([
      updateSite({ ...ctx, input: { id: shop.id, patch: { label: 'Webshop' } } }),
      updateSite({ ...ctx, input: { id: shop.id, patch: { intervalMinutes: 60, tags: ['eu', 'prod'] } } }),
    ]);
    expect(await getSite({ db: database.db, input: { id: shop.id } })).toMatchObject({
      label: 'Webshop',
      intervalMinutes: 60,
      tags: ['eu', 'prod'],
    });
  });

  it('reports a host repeated within one import as a duplicate of the line that created it', async () => {
    const report = await importSites({
      ...ctx,
      input: { text: 'shop.example.com\nhttps://shop.example.com/\nblog.example.com', atomic: false },
    });
    const [shop, again, blog] = report.lines;
    expect(shop).toMatchObject({ status: 'created', host: 'shop.example.com' });
    expect(again).toMatchObject({
      status: 'duplicate',
      host: 'shop.example.com',
      siteId: (shop as { siteId: number }).siteId,
    });
    expect(blog).toMatchObject({ status: 'created', host: 'blog.example.com' });
  });
});

describe('finding sets saved at the same moment', () => {
  it('stores equal findings once and gives both writers its id', async () => {
    const findings = [makeFinding('django.debug', { evidence: 'technical 404 page' })];
    const ids = await Promise.all([
      database.db.transaction((tx) => saveFindingSet(tx, findings)),
      database.db.transaction((tx) => saveFindingSet(tx, [...findings])),
    ]);
    expect(ids[0]).toBe(ids[1]);
    const stored = await database.db
      .select({ id: findingSets.id })
      .from(findingSets)
      .where(eq(findingSets.id, ids[0]));
    expect(stored).toHaveLength(1);
    expect(await database.db.select({ id: findingSets.id }).from(findingSets)).toHaveLength(1);
  });
});
