import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { abandonScan, requestScan } from '../services/scan-queue';
import { createTestApp, readJson } from './test-app';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

async function addSite(host: string): Promise<number> {
  const response = await t.app.request('/api/sites', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ host }),
  });
  expect(response.status).toBe(201);
  return (await readJson(response)).id;
}

describe('GET /api/queue', () => {
  it('shows the depth and the scans the queue gave up on, newest first', async () => {
    const ctx = { db: t.db, now: t.clock.now };
    const first = await addSite('first.example.com');
    const second = await addSite('second.example.com');
    await addSite('waiting.example.com');
    const given = [];
    for (const siteId of [first, second]) {
      const { scan } = await requestScan({ ...ctx, input: { siteId } });
      await abandonScan({
        ...ctx,
        random: () => 0.5,
        input: { scanId: scan.id, reason: 'no worker could finish it' },
      });
      given.push(scan.id);
    }
    await t.scheduler.queue.enqueueDue();

    const response = await t.app.request('/api/queue?limit=10');
    expect(response.status).toBe(200);
    const body = await readJson(response);
    expect(body).toMatchObject({ backend: t.scheduler.queue.backend, queued: 1, running: 0, retrying: 0 });
    expect(body.deadLetters).toEqual([
      expect.objectContaining({
        scanId: given[1],
        siteId: second,
        host: 'second.example.com',
        reason: 'no worker could finish it',
      }),
      expect.objectContaining({ scanId: given[0], siteId: first, host: 'first.example.com' }),
    ]);
    expect((await readJson(await t.app.request('/api/queue?limit=1'))).deadLetters).toHaveLength(1);
  });

  it('refuses a bad limit and anonymous callers', async () => {
    expect((await t.app.request('/api/queue?limit=0')).status).toBe(400);
    expect((await t.app.request('/api/queue?limit=abc')).status).toBe(400);
    expect((await t.anonymous.request('/api/queue')).status).toBe(401);
  });
});
