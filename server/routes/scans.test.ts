import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeFinding } from '../scan/catalogue';
import { createTestApp, jsonRequest, readJson } from './test-app';

const HOUR = 3_600_000;

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

async function addSite(host: string): Promise<{ id: number }> {
  return readJson(await t.app.request('/api/sites', jsonRequest('POST', { host })));
}

async function runQueue(): Promise<void> {
  await t.scheduler.tick();
  await t.scheduler.drain();
}

async function scanNow(siteId: number): Promise<number> {
  const response = await t.app.request(`/api/sites/${siteId}/scan`, { method: 'POST' });
  const { id } = await readJson(response);
  await runQueue();
  return id;
}

const hsts = makeFinding('hsts.missing', { evidence: 'no Strict-Transport-Security header' });
const csp = makeFinding('csp.missing', { evidence: 'no Content-Security-Policy header' });
const xfo = makeFinding('xfo.missing', { evidence: 'no X-Frame-Options header' });
const expiring = makeFinding('tls.cert.expiring', { evidence: 'expires in 20 days', severity: 'medium' });
const expiringSoon = makeFinding('tls.cert.expiring', { evidence: 'expires in 5 days', severity: 'high' });

describe('scan now and progress', () => {
  it('returns the scan id at once and reports queued → running → done', async () => {
    const site = await addSite('shop.example.com');
    const response = await t.app.request(`/api/sites/${site.id}/scan`, { method: 'POST' });
    expect(response.status).toBe(202);
    const queued = await readJson(response);
    expect(response.headers.get('location')).toBe(`/api/scans/${queued.id}`);
    expect(queued).toMatchObject({
      siteId: site.id,
      state: 'queued',
      trigger: 'manual',
      alreadyActive: false,
    });

    const again = await readJson(await t.app.request(`/api/sites/${site.id}/scan`, { method: 'POST' }));
    expect(again).toMatchObject({ id: queued.id, alreadyActive: true });
    expect(await readJson(await t.app.request(`/api/scans/${queued.id}`))).toMatchObject({
      state: 'queued',
      queuePosition: 0,
      startedAt: null,
      findings: null,
    });

    t.scripted.setFindings('shop.example.com', [csp, expiring, hsts]);
    t.scripted.hold();
    await t.scheduler.tick();
    const running = await readJson(await t.app.request(`/api/scans/${queued.id}`));
    expect(running).toMatchObject({ state: 'running', queuePosition: null, attempts: 1 });
    expect(running.startedAt).toBe(t.clock.now().toISOString());

    t.scripted.release();
    await t.scheduler.drain();
    const done = await readJson(await t.app.request(`/api/scans/${queued.id}`));
    expect(done).toMatchObject({
      state: 'done',
      outcome: 'ok',
      host: 'shop.example.com',
      grade: 'C',
      score: 55,
      counts: { critical: 0, high: 1, medium: 2, low: 0, info: 0 },
      addresses: ['203.0.113.7'],
      django: { detected: true },
      tls: { protocols: ['TLSv1.2', 'TLSv1.3'], notAfter: '2030-01-01T00:00:00.000Z' },
      checks: [{ id: 'hsts', status: 'fail' }],
    });
    // Worst first, the findings exactly as the scan engine reported them.
    expect(done.findings).toEqual([hsts, csp, expiring]);
    expect(done.tls.daysLeft).toBe(
      Math.floor((Date.parse('2030-01-01') - t.clock.now().getTime()) / (24 * HOUR)),
    );

    const site2 = await readJson(await t.app.request(`/api/sites/${site.id}`));
    expect(site2).toMatchObject({
      lastScanId: queued.id,
      lastScan: { id: queued.id, grade: 'C' },
      activeScan: null,
    });
  });

  it('answers 404 for an unknown site or scan and 400 for a bad id', async () => {
    expect((await t.app.request('/api/sites/42/scan', { method: 'POST' })).status).toBe(404);
    const missing = await t.app.request('/api/scans/42');
    expect(missing.status).toBe(404);
    expect((await readJson(missing)).error.code).toBe('not_found');
    expect((await t.app.request('/api/scans/4x2')).status).toBe(400);
  });
});

describe('GET /api/scans/:id/diff', () => {
  it('reports added, removed and re-graded findings and the grade change', async () => {
    const site = await addSite('shop.example.com');
    t.scripted.setFindings('shop.example.com', [hsts, csp, expiring]);
    const first = await scanNow(site.id);
    t.clock.advance(HOUR);
    t.scripted.setFindings('shop.example.com', [csp, expiringSoon, xfo]);
    const second = await scanNow(site.id);

    const response = await t.app.request(`/api/scans/${second}/diff`);
    expect(response.status).toBe(200);
    const diff = await readJson(response);
    expect(diff).toMatchObject({
      from: { scanId: first, grade: 'C', score: 55 },
      to: { scanId: second, grade: 'C', score: 55 },
      grade: { from: 'C', to: 'C', direction: 'same' },
      score: { from: 55, to: 55, delta: 0 },
      added: [xfo],
      removed: [hsts],
      changed: [{ id: 'tls.cert.expiring', from: 'medium', to: 'high', direction: 'worse' }],
      unchanged: 1,
    });
    expect(await readJson(await t.app.request(`/api/scans/${first}/diff/${second}`))).toEqual(diff);
    expect(await readJson(await t.app.request(`/api/scans/${second}/diff?against=${first}`))).toEqual(diff);

    const reverse = await readJson(await t.app.request(`/api/scans/${second}/diff/${first}`));
    expect(reverse).toMatchObject({ added: [hsts], removed: [xfo], changed: [{ direction: 'better' }] });
  });

  it('shows a grade change', async () => {
    const site = await addSite('shop.example.com');
    t.scripted.setFindings('shop.example.com', []);
    await scanNow(site.id);
    t.scripted.setFindings('shop.example.com', [
      makeFinding('django.debug', { evidence: 'technical 404 page' }),
    ]);
    const second = await scanNow(site.id);
    expect(await readJson(await t.app.request(`/api/scans/${second}/diff`))).toMatchObject({
      grade: { from: 'A+', to: 'F', direction: 'worse' },
      score: { from: 100, to: 40, delta: -60 },
      added: [{ id: 'django.debug', severity: 'critical' }],
    });
  });

  it('answers 404 for a first scan, 409 for an unfinished one and 400 for a bad against', async () => {
    const site = await addSite('shop.example.com');
    const first = await scanNow(site.id);
    const firstDiff = await t.app.request(`/api/scans/${first}/diff`);
    expect(firstDiff.status).toBe(404);
    expect((await readJson(firstDiff)).error.message).toContain('first kept scan');

    const pending = await readJson(await t.app.request(`/api/sites/${site.id}/scan`, { method: 'POST' }));
    const conflict = await t.app.request(`/api/scans/${first}/diff/${pending.id}`);
    expect(conflict.status).toBe(409);
    expect(await readJson(conflict)).toMatchObject({
      error: { code: 'conflict', details: { scanId: pending.id, state: 'queued' } },
    });
    expect((await t.app.request(`/api/scans/${first}/diff?against=latest`)).status).toBe(400);
    expect((await t.app.request(`/api/scans/${first}/diff/999`)).status).toBe(404);
  });
});

describe('GET /api/sites/:id/history', () => {
  it('pages through a site history oldest first with a cursor, and filters by time', async () => {
    const site = await addSite('shop.example.com');
    const ids: number[] = [];
    const times: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      t.scripted.setFindings('shop.example.com', index % 2 ? [hsts] : []);
      times.push(t.clock.now().toISOString());
      ids.push(await scanNow(site.id));
      t.clock.advance(6 * HOUR);
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const response = await t.app.request(`/api/sites/${site.id}/history?limit=2${query}`);
      expect(response.status).toBe(200);
      const page = await readJson(response);
      seen.push(...page.items.map((item: { scanId: number }) => item.scanId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);

    const all = await readJson(await t.app.request(`/api/sites/${site.id}/history`));
    expect(all.items[1]).toEqual({
      kind: 'scan',
      scanId: ids[1],
      at: times[1],
      outcome: 'ok',
      grade: 'B',
      score: 75,
      counts: { critical: 0, high: 1, medium: 0, low: 0, info: 0 },
    });
    const window = await readJson(
      await t.app.request(
        `/api/sites/${site.id}/history?from=${times[1]}&to=${encodeURIComponent(times[3]!)}`,
      ),
    );
    expect(window.items.map((item: { scanId: number }) => item.scanId)).toEqual(ids.slice(1, 4));
  });

  it('answers 400 for a bad cursor, a reversed window or a bad date, and 404 for an unknown site', async () => {
    const site = await addSite('shop.example.com');
    const bad = await t.app.request(`/api/sites/${site.id}/history?cursor=nonsense`);
    expect(bad.status).toBe(400);
    expect((await readJson(bad)).error.message).toContain('Invalid cursor');
    const reversed = await t.app.request(`/api/sites/${site.id}/history?from=2026-03-02&to=2026-03-01`);
    expect(reversed.status).toBe(400);
    expect((await readJson(reversed)).error.message).toContain('"from" must not be after "to"');
    expect((await t.app.request(`/api/sites/${site.id}/history?from=yesterday`)).status).toBe(400);
    expect((await t.app.request(`/api/sites/${site.id}/history?limit=100000`)).status).toBe(400);
    expect((await t.app.request('/api/sites/999/history')).status).toBe(404);
  });
});
