import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAdminAuthorization } from '../auth/testing';
import { createClock } from '../routes/test-app';
import { CATALOGUE } from '../scan/catalogue';
import { type RunningServer, startServer } from '../serve';
import { type Fleet, SITE_PRESETS, startFleet } from '../testing/fleet';
import { type SmtpSink, startSmtpSink } from './testing/smtp-sink';

/**
 * The whole path over real networks on loopback: `vigil serve` scans a fixture site with the real engine,
 * the site switches from hardened to DEBUG = True and back, and the mails arrive at a real SMTP server.
 * The server's clock is moved by the test so scheduled scans come due at once.
 */

const PUBLIC_URL = 'https://vigil.example.test';
let fleet: Fleet;
let smtp: SmtpSink;
let server: RunningServer;
let dataDir: string;
/** The API is for signed-in users: an admin's token, seeded before the server starts. */
let authorization: string;
const clock = createClock(new Date());
const logs: string[] = [];

// biome-ignore lint/suspicious/noExplicitAny: each assertion states the shape it expects.
type Json = any;

async function api(path: string, init?: RequestInit): Promise<Json> {
  const response = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { authorization, ...(init?.headers as Record<string, string> | undefined) },
  });
  if (!response.ok)
    throw new Error(`${init?.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

function post(path: string, body: unknown): Promise<Json> {
  return api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Makes the site's next scheduled scan due now and waits until it is done. A confirmation rescan it asks
 * for is queued just after (when the worker evaluates it), so assertions about it wait for its mail.
 */
async function scheduledScan(siteId: number): Promise<void> {
  const before: Json = await api(`/api/sites/${siteId}`);
  clock.set(new Date(Math.max(clock.now().getTime(), Date.parse(before.nextScanAt)) + 1000));
  await until('the scheduled scan', async () => {
    const site = await api(`/api/sites/${siteId}`);
    return site.lastScanId !== before.lastScanId && !site.activeScan ? site : undefined;
  });
}

async function scanTriggers(siteId: number): Promise<string[]> {
  const history = await api(`/api/sites/${siteId}/history?limit=5000`);
  const scans = await Promise.all(history.items.map((item: Json) => api(`/api/scans/${item.scanId}`)));
  return scans.map((scan: Json) => scan.trigger);
}

beforeAll(async () => {
  [fleet, smtp] = await Promise.all([startFleet({ shop: SITE_PRESETS.hardened }), startSmtpSink()]);
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-alerts-'));
  authorization = await seedAdminAuthorization(dataDir);
  server = await startServer({
    port: 0,
    host: '127.0.0.1',
    storage: dataDir,
    extraCaPems: [fleet.caCertPem],
    dnsServers: [fleet.dnsServer],
    allowPrivate: true,
    tickCron: '* * * * * *',
    dashboardDir: null,
    shutdownGraceMs: 0,
    now: clock.now,
    smtpUrl: smtp.url,
    mailFrom: 'Vigil <alerts@vigil.example.test>',
    publicUrl: PUBLIC_URL,
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await server?.close();
  await Promise.all([fleet?.close(), smtp?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('alerts against the fixture fleet', () => {
  it('mails exactly once when the site turns DEBUG on (after a confirmation rescan), and once when it is reverted', async () => {
    await post('/api/alerts/recipients', { email: 'ops@example.test' });
    const site = await post('/api/sites', { host: fleet.host('shop'), intervalMinutes: 5 });
    const baseline = await until('the first scan', async () => {
      const current = await api(`/api/sites/${site.id}`);
      return current.lastScan?.state === 'done' && !current.activeScan ? current.lastScan : undefined;
    });
    expect(baseline).toMatchObject({ outcome: 'ok', grade: 'A+' });

    await fleet.reconfigure('shop', { behaviour: { debug: true } });
    await scheduledScan(site.id);
    const [alert] = await smtp.waitForCount(1);
    expect(await scanTriggers(site.id)).toEqual(['schedule', 'schedule', 'confirm']);
    expect(alert?.subject).toBe(`[Vigil] ${fleet.host('shop')}: Django DEBUG is on (A+ → F)`);
    expect(alert?.text).toContain('[django.debug]');
    expect(alert?.text).toContain(CATALOGUE['django.debug'].fix);
    expect(alert?.text).toContain('Django:  DEBUG (security.W018)');
    expect(alert?.text).toContain(`${PUBLIC_URL}/sites/${site.id}`);
    const incidents = await api('/api/incidents');
    expect(incidents.items).toMatchObject([{ siteId: site.id, key: 'django.debug', status: 'open' }]);
    expect(alert?.headers.get('x-vigil-incident')).toBe(String(incidents.items[0].id));
    console.log(`--- received alert mail ---\nSubject: ${alert?.subject}\n\n${alert?.text}`);

    // Many more scans of the same broken site: nothing new to say.
    for (let scan = 0; scan < 8; scan++) await scheduledScan(site.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.messages).toHaveLength(1);

    await fleet.reconfigure('shop', { behaviour: { debug: false } });
    await scheduledScan(site.id);
    const [, recovery] = await smtp.waitForCount(2);
    expect(recovery?.subject).toBe(`[Vigil] ${fleet.host('shop')}: resolved: Django DEBUG is on (F → A+)`);
    expect(recovery?.headers.get('x-vigil-incident')).toBe(String(incidents.items[0].id));
    const triggers = await scanTriggers(site.id);
    expect(triggers).toHaveLength(13);
    expect(triggers.slice(-2)).toEqual(['schedule', 'confirm']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.messages).toHaveLength(2);
    console.log(`--- received recovery mail ---\nSubject: ${recovery?.subject}\n\n${recovery?.text}`);
    console.log(`dedupe: ${triggers.length} scans → ${smtp.messages.length} mails`);
  }, 120_000);
});
