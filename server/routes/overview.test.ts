import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeFinding } from '../scan/catalogue';
import { createTestApp, jsonRequest, readJson } from './test-app';

const DAY = 86_400_000;

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const debug = makeFinding('django.debug', { evidence: 'technical 404 page' });
const hsts = makeFinding('hsts.missing', { evidence: 'no header' });
const nosniff = makeFinding('nosniff.missing', { evidence: 'no header' });

async function addSite(host: string, tags: string[] = [], label = ''): Promise<{ id: number }> {
  return readJson(await t.app.request('/api/sites', jsonRequest('POST', { host, tags, label })));
}

async function runQueue(): Promise<void> {
  await t.scheduler.tick();
  await t.scheduler.drain();
}

function hosts(body: { items: { site: { host: string } }[] }): string[] {
  return body.items.map((item) => item.site.host);
}

async function overview(query = ''): Promise<Awaited<ReturnType<typeof readJson>>> {
  const response = await t.app.request(`/api/overview${query}`);
  expect(response.status).toBe(200);
  return readJson(response);
}

describe('GET /api/overview', () => {
  beforeEach(async () => {
    t.scripted.setFindings('perfect.example.com', []);
    t.scripted.setFindings('debug.example.com', [debug]);
    t.scripted.setFindings('fair.example.com', [hsts, nosniff]);
    await addSite('perfect.example.com', ['eu']);
    await addSite('debug.example.com', ['eu', 'legacy'], 'Old intranet');
    await addSite('fair.example.com', ['us']);
    await runQueue();
    await addSite('new.example.com');
  });

  it('lists every site with its latest grade, counts and schedule, worst first', async () => {
    const body = await overview();
    expect(body.total).toBe(4);
    expect(hosts(body)).toEqual([
      'new.example.com',
      'debug.example.com',
      'fair.example.com',
      'perfect.example.com',
    ]);
    const debugItem = body.items[1];
    expect(debugItem).toMatchObject({
      site: { host: 'debug.example.com', label: 'Old intranet', tags: ['eu', 'legacy'], enabled: true },
      latest: {
        outcome: 'ok',
        grade: 'F',
        score: 40,
        counts: { critical: 1, high: 0, medium: 0, low: 0, info: 0 },
        finishedAt: t.clock.now().toISOString(),
      },
      trend: null,
      activeScan: null,
    });
    expect(body.items[0]).toMatchObject({ latest: null, nextScanAt: t.clock.now().toISOString() });
    expect(body.fleet).toMatchObject({
      sites: 4,
      byGrade: { 'A+': 1, B: 1, F: 1, none: 1, A: 0 },
      queued: 0,
      running: 0,
    });
  });

  it('sorts by grade, score, host and scan times in either direction', async () => {
    expect(hosts(await overview('?sort=grade&order=asc'))).toEqual([
      'perfect.example.com',
      'fair.example.com',
      'debug.example.com',
      'new.example.com',
    ]);
    expect(hosts(await overview('?sort=host'))).toEqual([
      'debug.example.com',
      'fair.example.com',
      'new.example.com',
      'perfect.example.com',
    ]);
    expect(hosts(await overview('?sort=score&order=desc')).slice(0, 3)).toEqual([
      'perfect.example.com',
      'fair.example.com',
      'debug.example.com',
    ]);
    expect(hosts(await overview('?sort=nextScan')).at(0)).toBe('new.example.com');
  });

  it('filters by grade (A+ even unencoded), tag and text, and pages', async () => {
    expect(hosts(await overview('?grade=A%2B'))).toEqual(['perfect.example.com']);
    expect(hosts(await overview('?grade=A+'))).toEqual(['perfect.example.com']);
    expect(hosts(await overview('?grade=F,none'))).toEqual(['new.example.com', 'debug.example.com']);
    expect(hosts(await overview('?tag=eu&sort=host'))).toEqual(['debug.example.com', 'perfect.example.com']);
    expect(hosts(await overview('?q=INTRANET'))).toEqual(['debug.example.com']);
    const page = await overview('?sort=host&limit=2&offset=2');
    expect(page.total).toBe(4);
    expect(hosts(page)).toEqual(['new.example.com', 'perfect.example.com']);
    const filtered = await overview('?tag=eu&limit=1');
    expect(filtered.total).toBe(2);
    expect(filtered.fleet.sites).toBe(4);
  });

  it('shows the trend against the score a week ago and the scan in progress', async () => {
    t.clock.advance(8 * DAY);
    t.scripted.setFindings('fair.example.com', [nosniff]);
    t.scripted.setFindings('debug.example.com', [debug, hsts]);
    await runQueue();
    const body = await overview('?sort=host');
    const byHost = Object.fromEntries(
      body.items.map((item: { site: { host: string } }) => [item.site.host, item]),
    );
    expect(byHost['fair.example.com'].trend).toEqual({
      since: new Date(t.clock.now().getTime() - 7 * DAY).toISOString(),
      score: 70,
      delta: 25,
      direction: 'up',
    });
    expect(byHost['debug.example.com'].trend).toMatchObject({ score: 40, delta: -25, direction: 'down' });
    expect(byHost['perfect.example.com'].trend).toMatchObject({ delta: 0, direction: 'flat' });

    const pending = await readJson(
      await t.app.request(`/api/sites/${byHost['fair.example.com'].site.id}/scan`, { method: 'POST' }),
    );
    const withActive = await overview('?q=fair');
    expect(withActive.items[0].activeScan).toEqual({ id: pending.id, state: 'queued' });
    expect(withActive.fleet.queued).toBe(1);
  });

  it('answers 400 for an unknown sort, grade or a bad limit', async () => {
    for (const query of ['?sort=colour', '?grade=E', '?limit=0', '?offset=-1', '?order=up']) {
      const response = await t.app.request(`/api/overview${query}`);
      expect(response.status, query).toBe(400);
      expect((await readJson(response)).error.code).toBe('invalid_request');
    }
  });
});
