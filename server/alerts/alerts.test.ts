import { afterEach, describe, expect, it } from 'vitest';
import { CATALOGUE, makeFinding } from '../scan/catalogue';
import { deleteRecipient, updateRecipient } from '../services/alert-recipients';
import { acknowledgeIncident, createMute, getIncident, listIncidents } from '../services/incidents';
import { requestScan } from '../services/scan-queue';
import { updateSite } from '../services/sites';
import { INCIDENT_HEADER } from './outbox';
import {
  type AlertWorld,
  createAlertWorld,
  DEBUG_FINDING,
  HSTS_FINDING,
  PUBLIC_URL,
} from './testing/alert-world';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const HOST = 'shop.example.test';

const worlds: AlertWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
});

async function world(options?: Parameters<typeof createAlertWorld>[0]): Promise<AlertWorld> {
  const created = await createAlertWorld(options);
  worlds.push(created);
  return created;
}

/** A hardened site with one recipient for every site, scanned once (its baseline). */
async function monitoredShop(options?: Parameters<typeof createAlertWorld>[0]) {
  const w = await world(options);
  await w.addRecipient({ email: 'ops@example.test' });
  const siteId = await w.addSite({ host: HOST, intervalMinutes: 60 });
  w.set(HOST, []);
  await w.scheduledScan(siteId);
  return { w, siteId };
}

describe('alert mail for a confirmed regression', () => {
  it('mails once after the confirmation rescan, never again across many scans, and once more on recovery', async () => {
    const { w, siteId } = await monitoredShop();
    expect(w.smtp.messages).toHaveLength(0);

    w.set(HOST, [DEBUG_FINDING]);
    await w.scheduledScan(siteId);
    // The scheduled scan saw DEBUG, the confirmation rescan it asked for saw it again: one mail.
    expect(await w.scanTriggers(siteId)).toEqual(['schedule', 'schedule', 'confirm']);
    expect(w.smtp.messages).toHaveLength(1);
    const [alert] = w.smtp.messages;
    expect(alert?.subject).toBe(`[Vigil] ${HOST}: Django DEBUG is on (A+ → F)`);
    expect(alert?.envelopeTo).toEqual(['ops@example.test']);
    expect(alert?.text).toContain('[django.debug]');
    expect(alert?.text).toContain(CATALOGUE['django.debug'].fix);
    expect(alert?.text).toContain('Django:  DEBUG (security.W018)');
    expect(alert?.text).toContain(`Open the site in Vigil: ${PUBLIC_URL}/sites/${siteId}`);
    const { items } = await listIncidents({ ...w.ctx, input: { status: 'open', limit: 10, offset: 0 } });
    expect(items).toMatchObject([{ siteId, key: 'django.debug', severity: 'critical', status: 'open' }]);
    const incidentId = items[0]!.id;
    expect(alert?.headers.get(INCIDENT_HEADER.toLowerCase())).toBe(String(incidentId));
    const [delivery] = await w.deliveries();
    expect(delivery).toMatchObject({ status: 'sent', attempts: 1, messageId: alert?.messageId });

    for (let scan = 0; scan < 20; scan++) await w.scheduledScan(siteId);
    expect(w.smtp.messages).toHaveLength(1);
    expect(await w.scanTriggers(siteId)).toHaveLength(23);

    w.set(HOST, []);
    await w.scheduledScan(siteId);
    expect((await w.scanTriggers(siteId)).slice(-2)).toEqual(['schedule', 'confirm']);
    expect(w.smtp.messages).toHaveLength(2);
    const recovery = w.smtp.messages[1];
    expect(recovery?.subject).toBe(`[Vigil] ${HOST}: resolved: Django DEBUG is on (F → A+)`);
    expect(recovery?.text).toContain('FIXED  critical  Django DEBUG is on  [django.debug]');
    expect(recovery?.headers.get('x-vigil-incident')).toBe(String(incidentId));
    expect(await getIncident({ ...w.ctx, input: { id: incidentId } })).toMatchObject({
      status: 'resolved',
      mails: [{ kind: 'change' }, { kind: 'change' }],
    });
  });

  it('sends nothing for a one-off blip that the confirmation rescan does not see', async () => {
    const { w, siteId } = await monitoredShop();
    w.sequence(HOST, [[DEBUG_FINDING], []]);
    await w.scheduledScan(siteId);
    expect(await w.scanTriggers(siteId)).toEqual(['schedule', 'schedule', 'confirm']);
    await w.scheduledScan(siteId);
    expect(await w.scanTriggers(siteId)).toEqual(['schedule', 'schedule', 'confirm', 'schedule']);
    expect(w.smtp.messages).toHaveLength(0);
    expect((await listIncidents({ ...w.ctx, input: { status: 'all', limit: 10, offset: 0 } })).total).toBe(0);
  });

  it('waits for the next scan to confirm what a manual scan showed (no rescan behind the user)', async () => {
    const { w, siteId } = await monitoredShop();
    w.set(HOST, [HSTS_FINDING]);
    await w.manualScan(siteId);
    expect(await w.scanTriggers(siteId)).toEqual(['schedule', 'manual']);
    expect(w.smtp.messages).toHaveLength(0);
    await w.manualScan(siteId);
    expect(w.smtp.messages.map((mail) => mail.subject)).toEqual([
      `[Vigil] ${HOST}: HSTS header missing (A+ → B)`,
    ]);
  });
});

describe('reminders, acknowledgement and mutes', () => {
  it('reminds once a day while open and unacknowledged; acknowledging stops it', async () => {
    const { w, siteId } = await monitoredShop();
    w.set(HOST, [DEBUG_FINDING]);
    await w.scheduledScan(siteId);
    expect(w.smtp.messages).toHaveLength(1);
    await w.wait(23 * HOUR);
    expect(w.smtp.messages).toHaveLength(1);
    await w.wait(HOUR);
    expect(w.smtp.messages).toHaveLength(2);
    expect(w.smtp.messages[1]?.subject).toBe(`[Vigil] ${HOST}: still open: Django DEBUG is on`);
    expect(w.smtp.messages[1]?.text).toContain('STILL OPEN  critical  Django DEBUG is on');
    await w.wait(HOUR);
    expect(w.smtp.messages).toHaveLength(2);

    const [incident] = (await listIncidents({ ...w.ctx, input: { status: 'open', limit: 10, offset: 0 } }))
      .items;
    await acknowledgeIncident({ ...w.ctx, input: { id: incident!.id, note: 'on it' } });
    for (let day = 0; day < 3; day++) await w.wait(24 * HOUR);
    expect(w.smtp.messages).toHaveLength(2);
  });

  it('opens a muted finding without telling anyone', async () => {
    const { w, siteId } = await monitoredShop();
    await createMute({
      ...w.ctx,
      input: {
        siteId,
        key: 'django.debug',
        reason: 'staging window',
        expiresAt: new Date(w.clock.now().getTime() + 48 * HOUR),
      },
    });
    w.set(HOST, [DEBUG_FINDING]);
    await w.scheduledScan(siteId);
    const { items } = await listIncidents({ ...w.ctx, input: { status: 'open', limit: 10, offset: 0 } });
    expect(items).toMatchObject([{ key: 'django.debug', muted: { reason: 'staging window' } }]);
    await w.wait(30 * HOUR);
    expect(w.smtp.messages).toHaveLength(0);
    // Once the mute has expired, the overdue reminder goes out.
    await w.wait(20 * HOUR);
    expect(w.smtp.messages.map((mail) => mail.subject)).toEqual([
      `[Vigil] ${HOST}: still open: Django DEBUG is on`,
    ]);
  });
});

describe('unreachable sites', () => {
  it('opens one incident on the third unreachable scan in a row and resolves it when the site answers again', async () => {
    const { w, siteId } = await monitoredShop();
    w.set(HOST, 'down');
    await w.scheduledScan(siteId);
    await w.scheduledScan(siteId);
    expect(w.smtp.messages).toHaveLength(0);
    await w.scheduledScan(siteId);
    expect(w.smtp.messages.map((mail) => mail.subject)).toEqual([`[Vigil] ${HOST}: Site unreachable`]);
    expect(w.smtp.messages[0]?.text).toContain('3 scans in a row got no answer');
    await w.scheduledScan(siteId);
    expect(w.smtp.messages).toHaveLength(1);
    w.set(HOST, []);
    await w.scheduledScan(siteId);
    expect(w.smtp.messages.map((mail) => mail.subject)).toEqual([
      `[Vigil] ${HOST}: Site unreachable`,
      `[Vigil] ${HOST}: resolved: Site unreachable`,
    ]);
  });
});

describe('recipients, subscriptions and digests', () => {
  it('mails each recipient only about the sites they subscribed to, by site or by tag', async () => {
    const w = await world();
    const shop = await w.addSite({ host: HOST, tags: ['shops'] });
    const blog = await w.addSite({ host: 'blog.example.test' });
    await w.addRecipient({ email: 'all@example.test' });
    await w.addRecipient({ email: 'blog@example.test', subscriptions: [{ scope: 'site', siteId: blog }] });
    await w.addRecipient({ email: 'shops@example.test', subscriptions: [{ scope: 'tag', tag: 'shops' }] });
    const off = await w.addRecipient({ email: 'off@example.test' });
    await updateRecipient({ ...w.ctx, input: { id: off, patch: { enabled: false } } });
    await w.scheduledScan(shop);
    await w.scheduledScan(blog);
    w.set(HOST, [DEBUG_FINDING]);
    await w.scheduledScan(shop);
    expect(w.smtp.messages.map((mail) => mail.envelopeTo[0]).sort()).toEqual([
      'all@example.test',
      'shops@example.test',
    ]);
    // Each address got its own copy with its own Message-ID.
    expect(new Set(w.smtp.messages.map((mail) => mail.messageId)).size).toBe(2);
  });

  it('sends digest recipients critical findings at once and everything else in one daily digest', async () => {
    const w = await world();
    await w.addRecipient({ email: 'now@example.test' });
    await w.addRecipient({ email: 'daily@example.test', mode: 'digest' });
    const siteId = await w.addSite({ host: HOST, intervalMinutes: 60 });
    w.clock.set(new Date('2026-03-01T09:00:00.000Z'));
    await w.scheduledScan(siteId);

    w.set(HOST, [HSTS_FINDING]);
    await w.scheduledScan(siteId);
    const to = (address: string) => w.smtp.messages.filter((mail) => mail.envelopeTo.includes(address));
    expect(to('now@example.test').map((mail) => mail.subject)).toEqual([
      `[Vigil] ${HOST}: HSTS header missing (A+ → B)`,
    ]);
    expect(to('daily@example.test')).toHaveLength(0);

    w.set(HOST, [HSTS_FINDING, DEBUG_FINDING]);
    await w.scheduledScan(siteId);
    expect(to('daily@example.test').map((mail) => mail.subject)).toEqual([
      `[Vigil] ${HOST}: Django DEBUG is on (B → F)`,
    ]);

    // Next morning at 08:00 UTC: the digest has the HSTS change it was not mailed, not DEBUG.
    w.clock.set(new Date('2026-03-02T07:59:00.000Z'));
    await w.alerts.runOnce();
    expect(to('daily@example.test')).toHaveLength(1);
    await w.wait(MINUTE);
    const digests = to('daily@example.test').slice(1);
    expect(digests.map((mail) => mail.subject)).toEqual(['[Vigil] Daily digest: 1 change on 1 site']);
    const digest = digests[0]!;
    expect(digest.text).toContain(`== ${HOST} ==\n${PUBLIC_URL}/sites/${siteId}`);
    expect(digest.text).toContain('NEW  high  HSTS header missing  [hsts.missing]');
    expect(digest.text).toContain(CATALOGUE['hsts.missing'].fix);
    expect(digest.text).not.toContain('django.debug');
    expect(to('now@example.test')).toHaveLength(2);
    // One digest a day, however often the worker runs.
    await w.wait(HOUR);
    expect(to('daily@example.test')).toHaveLength(2);
  });

  it('cancels the waiting mail of a deleted recipient', async () => {
    const { w, siteId } = await monitoredShop();
    const leaving = await w.addRecipient({ email: 'leaving@example.test' });
    await w.smtp.stop();
    w.set(HOST, [DEBUG_FINDING]);
    await w.scheduledScan(siteId);
    await deleteRecipient({ ...w.ctx, input: { id: leaving } });
    await w.smtp.start();
    await w.wait(HOUR);
    expect(w.smtp.messages.map((mail) => mail.envelopeTo[0])).toEqual(['ops@example.test']);
    expect((await w.deliveries()).map((delivery) => delivery.status).sort()).toEqual(['cancelled', 'sent']);
  });
});

describe('flapping', () => {
  it('folds a finding that opens and closes every few minutes into one notice, then one when it settles', async () => {
    const { w, siteId } = await monitoredShop();
    await updateSite({ ...w.ctx, input: { id: siteId, patch: { intervalMinutes: 5 } } });
    await w.scheduledScan(siteId);
    const scansBefore = (await w.scanTriggers(siteId)).length;
    for (let cycle = 0; cycle < 12; cycle++) {
      w.set(HOST, cycle % 2 === 0 ? [DEBUG_FINDING] : []);
      await w.scheduledScan(siteId);
    }
    const scans = (await w.scanTriggers(siteId)).length - scansBefore;
    expect(scans).toBe(24);
    expect(w.smtp.messages.map((mail) => mail.subject)).toEqual([
      `[Vigil] ${HOST}: Django DEBUG is on (A+ → F)`,
      `[Vigil] ${HOST}: resolved: Django DEBUG is on (F → A+)`,
      `[Vigil] ${HOST}: flapping: Django DEBUG is on (A+ → F)`,
    ]);
    expect(w.smtp.messages[2]?.text).toContain('Opened and resolved 3 times within the last hour, now open');
    expect(
      (await listIncidents({ ...w.ctx, input: { status: 'all', limit: 10, offset: 0 } })).items,
    ).toMatchObject([{ key: 'django.debug', status: 'resolved', flapping: true, reopenCount: 5 }]);

    // An hour without a change: one last mail says how it ended.
    await w.wait(HOUR);
    expect(w.smtp.messages.map((mail) => mail.subject).slice(3)).toEqual([
      `[Vigil] ${HOST}: settled: Django DEBUG is on`,
    ]);
    expect(w.smtp.messages[3]?.text).toContain('Stable for an hour after flapping, and resolved.');
    console.log(`flapping: ${scans} scans → ${w.smtp.messages.length} mails`);
  });
});

describe('the outbox', () => {
  it('keeps a mail through an SMTP outage, retries with backoff, and delivers it exactly once', async () => {
    const { w, siteId } = await monitoredShop({ retry: { baseMs: 30_000, maxMs: HOUR } });
    await w.smtp.stop();
    w.set(HOST, [DEBUG_FINDING]);
    await w.scheduledScan(siteId);
    const [waiting] = await w.deliveries();
    expect(waiting).toMatchObject({ status: 'pending', attempts: 1 });
    expect(waiting?.lastError).toMatch(/ECONNREFUSED/);
    // random 0.5: 22.5 s after the first failure, then 45 s.
    expect(waiting!.nextAttemptAt.getTime() - w.clock.now().getTime()).toBe(22_500);
    await w.wait(10_000);
    expect((await w.deliveries())[0]).toMatchObject({ attempts: 1 });
    await w.wait(15_000);
    expect((await w.deliveries())[0]).toMatchObject({ status: 'pending', attempts: 2 });

    await w.smtp.start();
    await w.wait(30_000);
    expect((await w.deliveries())[0]).toMatchObject({ status: 'pending', attempts: 2 });
    await w.wait(30_000);
    expect((await w.deliveries())[0]).toMatchObject({ status: 'sent', attempts: 3, lastError: null });
    for (let round = 0; round < 5; round++) await w.wait(HOUR);
    expect(w.smtp.messages).toHaveLength(1);
    expect(w.smtp.messages[0]?.messageId).toBe((await w.deliveries())[0]?.messageId);
  });

  it('gives up on an address the server refuses, and says why', async () => {
    const { w, siteId } = await monitoredShop({ smtp: { refuse: ['gone@example.test'] } });
    await w.addRecipient({ email: 'gone@example.test' });
    w.set(HOST, [DEBUG_FINDING]);
    await w.scheduledScan(siteId);
    const byAddress = Object.fromEntries(
      (await w.deliveries()).map((delivery) => [delivery.address, delivery]),
    );
    expect(byAddress['ops@example.test']).toMatchObject({ status: 'sent', attempts: 1 });
    expect(byAddress['gone@example.test']).toMatchObject({ status: 'failed', attempts: 1 });
    expect(byAddress['gone@example.test']?.lastError).toMatch(/550/);
    await w.wait(2 * HOUR);
    expect(w.smtp.messages).toHaveLength(1);
  });

  it('evaluates at start-up the scans recorded but not evaluated before a crash, in order', async () => {
    const { w, siteId } = await monitoredShop();
    w.evaluateScans = false;
    w.set(HOST, [DEBUG_FINDING]);
    // Recorded by the scheduler only: no outbox round runs before the restart.
    for (let scan = 0; scan < 2; scan++) {
      await requestScan({ ...w.ctx, input: { siteId } });
      await w.scheduler.drain();
    }
    expect(await w.scanTriggers(siteId)).toEqual(['schedule', 'manual', 'manual']);
    expect((await listIncidents({ ...w.ctx, input: { status: 'all', limit: 10, offset: 0 } })).total).toBe(0);
    w.evaluateScans = true;
    await w.restartAlerts();
    expect(w.smtp.messages.map((mail) => mail.subject)).toEqual([
      `[Vigil] ${HOST}: Django DEBUG is on (A+ → F)`,
    ]);
    await w.restartAlerts();
    expect(w.smtp.messages).toHaveLength(1);
  });

  it('evaluates in the next round what a worker recorded but died before evaluating', async () => {
    const { w, siteId } = await monitoredShop();
    w.evaluateScans = false;
    w.set(HOST, [DEBUG_FINDING]);
    await w.manualScan(siteId);
    expect(w.smtp.messages).toHaveLength(0);
    await w.manualScan(siteId);
    expect(w.smtp.messages.map((mail) => mail.subject)).toEqual([
      `[Vigil] ${HOST}: Django DEBUG is on (A+ → F)`,
    ]);
    for (let round = 0; round < 3; round++) await w.wait(60_000);
    expect(w.smtp.messages).toHaveLength(1);
  });
});

describe('certificate expiry', () => {
  it('warns when the certificate enters the 30-day window, then at 14, 7 and 1 days, once each', async () => {
    const { w, siteId } = await monitoredShop();
    await updateSite({ ...w.ctx, input: { id: siteId, patch: { intervalMinutes: 12 * 60 } } });
    const notAfter = new Date(w.clock.now().getTime() + 20 * 24 * HOUR + HOUR);
    const expiring = makeFinding('tls.cert.expiring', { evidence: `notAfter ${notAfter.toISOString()}` });
    w.set(HOST, [expiring], { notAfter });
    await w.scheduledScan(siteId);
    expect(w.smtp.messages.map((mail) => mail.subject)).toEqual([
      `[Vigil] ${HOST}: Certificate expires soon: 19 days left (A+ → A)`,
    ]);
    // Acknowledged: no daily reminders, but each threshold still warns once.
    const [incident] = (await listIncidents({ ...w.ctx, input: { status: 'open', limit: 10, offset: 0 } }))
      .items;
    await acknowledgeIncident({ ...w.ctx, input: { id: incident!.id } });
    for (let scan = 0; scan < 40; scan++) await w.scheduledScan(siteId);
    expect(w.smtp.messages.map((mail) => mail.subject).slice(1)).toEqual([
      `[Vigil] ${HOST}: Certificate expires soon: 14 days left`,
      `[Vigil] ${HOST}: Certificate expires soon: 7 days left`,
      `[Vigil] ${HOST}: Certificate expires soon: 1 day left`,
    ]);
    expect(w.smtp.messages[1]?.text).toContain('you are warned at 30, 14, 7 and 1 days');
  });
});
