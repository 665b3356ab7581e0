import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedAdminAuthorization } from './auth/testing';
import { createTempDatabase, type TempDatabase } from './db/temp-database';
import { type RunningServer, startServer } from './serve';
import { type Fleet, SITE_PRESETS, startFleet } from './testing/fleet';

/**
 * End to end over real HTTP: the server scans the loopback fixture fleet with the real scan engine,
 * keeps history, serves diffs, and survives a restart in the middle of a scan. On PostgreSQL its scans go
 * through pg-boss, as in production.
 */

let fleet: Fleet;
let storage: TempDatabase;
/** The API is for signed-in users: an admin's token, seeded before the first start. */
let authorization: string;
const logs: string[] = [];

beforeAll(async () => {
  // A scan handed back at shutdown is retried by pg-boss after this delay; idle workers look this often.
  vi.stubEnv('VIGIL_JOB_RETRY_DELAY_SECONDS', '1');
  vi.stubEnv('VIGIL_WORKER_POLL_MS', '200');
  fleet = await startFleet({
    shop: SITE_PRESETS.hardened,
    debug: SITE_PRESETS.debug,
    leaky: SITE_PRESETS['leaked-files'],
    offline: SITE_PRESETS.offline,
    slow: SITE_PRESETS['dns-timeout'],
  });
  storage = await createTempDatabase();
  authorization = await seedAdminAuthorization(storage.url);
});

afterAll(async () => {
  await fleet?.close();
  await storage?.remove();
  vi.unstubAllEnvs();
});

function start(): Promise<RunningServer> {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    storage: storage.url,
    extraCaPems: [fleet.caCertPem],
    dnsServers: [fleet.dnsServer],
    allowPrivate: true,
    tickCron: '* * * * * *',
    dashboardDir: null,
    shutdownGraceMs: 0,
    log: (line) => logs.push(line),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: each assertion states the shape it expects.
type Json = any;

async function api(
  server: RunningServer,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { authorization, ...(init?.headers as Record<string, string> | undefined) },
  });
  const body = response.status === 204 ? null : await response.json();
  return { status: response.status, body };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function scanDone(server: RunningServer, scanId: number): Promise<Json> {
  return until(`scan ${scanId}`, async () => {
    const { body } = await api(server, `/api/scans/${scanId}`);
    return body.state === 'done' ? body : undefined;
  });
}

describe('vigil serve against the fixture fleet', () => {
  it('scans registered sites, keeps history, diffs a regression and survives a restart mid-scan', async () => {
    let server = await start();
    expect(logs).toContain(
      `Vigil listening on ${server.url} (all: scheduling, scanning; data in ${storage.location})`,
    );
    expect((await api(server, '/healthz')).status).toBe(200);

    const ids: Record<string, number> = {};
    for (const name of ['shop', 'debug', 'leaky', 'offline']) {
      const { status, body } = await api(server, '/api/sites', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ host: fleet.host(name), label: name }),
      });
      expect(status).toBe(201);
      ids[name] = body.id;
    }

    const overview = await until('every site scanned', async () => {
      const { body } = await api(server, '/api/overview?sort=host');
      return body.items.every((item: { latest: unknown }) => item.latest) ? body : undefined;
    });
    const latest = Object.fromEntries(
      overview.items.map((item: { site: { label: string }; latest: unknown }) => [
        item.site.label,
        item.latest,
      ]),
    );
    expect(latest.shop).toMatchObject({ outcome: 'ok', grade: 'A+', counts: { critical: 0, high: 0 } });
    expect(latest.debug).toMatchObject({ outcome: 'ok', grade: 'F' });
    expect(latest.leaky).toMatchObject({ outcome: 'ok', grade: 'F' });
    expect(latest.offline).toMatchObject({ outcome: 'unreachable', grade: null });
    const debugScan = (await api(server, `/api/scans/${latest.debug.scanId}`)).body;
    expect(debugScan.findings.map((finding: { id: string }) => finding.id)).toContain('django.debug');

    // The shop regresses: HSTS disappears. Scan now, then diff against its previous scan.
    await fleet.reconfigure('shop', { behaviour: { hsts: null } });
    const requested = await api(server, `/api/sites/${ids.shop}/scan`, { method: 'POST' });
    expect(requested.status).toBe(202);
    const rescan = await scanDone(server, requested.body.id);
    expect(rescan.findings.map((finding: { id: string }) => finding.id)).toContain('hsts.missing');
    const diff = (await api(server, `/api/scans/${rescan.id}/diff`)).body;
    expect(diff.added.map((finding: { id: string }) => finding.id)).toEqual(['hsts.missing']);
    expect(diff.grade).toMatchObject({ from: 'A+', direction: 'worse' });
    const history = (await api(server, `/api/sites/${ids.shop}/history`)).body;
    expect(history.items.map((item: { scanId: number }) => item.scanId)).toEqual([
      latest.shop.scanId,
      rescan.id,
    ]);

    // A slow site (its DNS never answers) is mid-scan when the server stops: the scan is re-queued, then finished once.
    const slow = (
      await api(server, '/api/sites', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ host: fleet.host('slow') }),
      })
    ).body;
    const running = await until('the slow scan to start', async () => {
      const { body } = await api(server, `/api/sites/${slow.id}`);
      return body.activeScan?.state === 'running' ? body.activeScan : undefined;
    });
    await server.close();
    expect(logs).toContain('vigil: 1 unfinished scans handed back to the queue');

    server = await start();
    try {
      const finished = await scanDone(server, running.id);
      expect(finished).toMatchObject({ id: running.id, siteId: slow.id, outcome: 'error', attempts: 1 });
      expect(finished.error).toContain('DNS');
      const slowHistory = (await api(server, `/api/sites/${slow.id}/history`)).body;
      expect(slowHistory.items).toHaveLength(1);
      // Everything from before the restart is still there.
      expect((await api(server, `/api/sites/${ids.shop}/history`)).body.items).toHaveLength(2);
    } finally {
      await server.close();
    }
  }, 120_000);
});
