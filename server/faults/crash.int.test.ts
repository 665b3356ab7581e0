import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFile, openSqlite } from '../db';
import { scans, sites } from '../db/schema';
import { MAX_SCAN_ATTEMPTS } from '../services/scan-queue';
import { type Fleet, SITE_PRESETS, startFleet } from '../testing/fleet';
import { api, startVigilProcess, until, type VigilProcess } from './vigil-process';

/**
 * kill -9 of `vigil serve` during a burst of 100 scans, at a few random moments, then a restart: every
 * scan ends exactly once, none stays running, the file is intact and the scheduler carries on.
 */

const SITES = 100;
const KILLS = 3;

let fleet: Fleet;
let dataDir: string;
const processes: VigilProcess[] = [];

beforeAll(async () => {
  const presets = Object.values(SITE_PRESETS);
  fleet = await startFleet(
    Object.fromEntries(
      Array.from({ length: SITES }, (_, index) => [`site-${index}`, presets[index % presets.length]!]),
    ),
  );
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
});

afterAll(async () => {
  for (const vigil of processes) await vigil.kill();
  await fleet?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A small seeded generator, so a failing run can be repeated with its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function start(authorization?: string): Promise<VigilProcess> {
  const vigil = await startVigilProcess({ dataDir, fleet, ...(authorization ? { authorization } : {}) });
  processes.push(vigil);
  return vigil;
}

async function fleetState(vigil: VigilProcess): Promise<{ queued: number; running: number }> {
  return (await api(vigil, '/api/overview?limit=1')).body.fleet;
}

/** What the database holds, read with a connection of its own (the server stopped or killed). */
async function readScans() {
  const database = openSqlite(databaseFile(dataDir));
  const file = database.sqlite!;
  try {
    return {
      integrity: file.pragma('integrity_check', { simple: true }),
      foreignKeyProblems: file.pragma('foreign_key_check') as unknown[],
      scans: await database.db
        .select({
          id: scans.id,
          siteId: scans.siteId,
          trigger: scans.trigger,
          state: scans.state,
          attempts: scans.attempts,
          outcome: scans.outcome,
          error: scans.error,
        })
        .from(scans),
      sites: await database.db.select({ id: sites.id, lastScanId: sites.lastScanId }).from(sites),
    };
  } finally {
    await database.close();
  }
}

describe('kill -9 during a burst of scans', () => {
  // Four starts of a real process and two bursts of 100 scans: longer than one test's default; each wait
  // inside has its own bound.
  it('loses no scan, runs none twice, keeps the file intact, and scans every site again afterwards', async () => {
    const seed = Date.now() % 1_000_000;
    const random = seededRandom(seed);
    console.log(`crash test seed ${seed}`);

    let vigil = await start();
    const { authorization } = vigil;
    const imported = await api(vigil, '/api/sites/import', {
      text: fleet
        .names()
        .map((name) => fleet.host(name))
        .join('\n'),
    });
    expect(imported.body.created).toBe(SITES);

    const requeuedAfterKill: number[] = [];
    for (let kill = 0; kill < KILLS; kill += 1) {
      // Kill while scans are in flight, at a random moment of the burst.
      const current = vigil;
      await until('scans running', async () => ((await fleetState(current)).running > 0 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 1500)));
      await vigil.kill();
      expect(vigil.exit?.signal).toBe('SIGKILL');
      vigil = await start(authorization);
      const recovered = await until('the start-up recovery line', () => {
        const line = vigil.lines.find((text) => text.startsWith('vigil: re-queued '));
        return line ?? (vigil.lines.some((text) => text.startsWith('Vigil listening')) ? '' : undefined);
      });
      requeuedAfterKill.push(Number(/re-queued (\d+) interrupted/.exec(recovered)?.[1] ?? 0));
    }
    // The kills did land in the middle of scans (the server re-queued what they interrupted).
    console.log(`scans re-queued after each kill: ${requeuedAfterKill.join(', ')}`);
    expect(requeuedAfterKill.some((count) => count > 0)).toBe(true);

    const last = vigil;
    await until(
      'the burst to finish after the last restart',
      async () => {
        const state = await fleetState(last);
        return state.queued === 0 && state.running === 0 ? true : undefined;
      },
      60_000,
    );
    expect((await api(vigil, '/healthz')).status).toBe(200);
    expect(await vigil.stop()).toBe(0);

    const afterBurst = await readScans();
    expect(afterBurst.integrity).toBe('ok');
    expect(afterBurst.foreignKeyProblems).toEqual([]);
    expect(afterBurst.scans.filter((scan) => scan.state !== 'done')).toEqual([]);
    // One scheduled scan per site: none lost, none run twice into two rows.
    const scheduled = afterBurst.scans.filter((scan) => scan.trigger === 'schedule');
    expect(scheduled).toHaveLength(SITES);
    expect(new Set(scheduled.map((scan) => scan.siteId)).size).toBe(SITES);
    for (const scan of afterBurst.scans) {
      expect(scan.attempts).toBeGreaterThanOrEqual(1);
      expect(scan.attempts).toBeLessThanOrEqual(MAX_SCAN_ATTEMPTS);
      // Only a scan cut short by every kill is closed as interrupted, and it says so.
      if (scan.error?.includes('interrupted')) expect(scan.attempts).toBe(MAX_SCAN_ATTEMPTS);
    }
    const byId = new Map(afterBurst.scans.map((scan) => [scan.id, scan]));
    for (const site of afterBurst.sites) expect(byId.get(site.lastScanId ?? -1)?.siteId).toBe(site.id);

    // The scheduler goes on: every site can be scanned again, and is.
    vigil = await start(authorization);
    const requested = await Promise.all(
      afterBurst.sites.map(
        async (site) => (await api(vigil, `/api/sites/${site.id}/scan`, { method: 'POST' })).status,
      ),
    );
    expect(requested.every((status) => status === 202)).toBe(true);
    const restarted = vigil;
    await until(
      'every site scanned again',
      async () => {
        const state = await fleetState(restarted);
        return state.queued === 0 && state.running === 0 ? true : undefined;
      },
      60_000,
    );
    expect(await vigil.stop()).toBe(0);
    const final = await readScans();
    expect(final.integrity).toBe('ok');
    // Every site has a finished scan newer than the burst (a "scan now", or the alert engine's confirmation
    // scan that the request joined), and nothing is left waiting.
    const lastOfBurst = Math.max(...afterBurst.scans.map((scan) => scan.id));
    const again = final.scans.filter((scan) => scan.id > lastOfBurst && scan.state === 'done');
    expect(new Set(again.map((scan) => scan.siteId)).size).toBe(SITES);
    expect(final.scans.filter((scan) => scan.state !== 'done')).toEqual([]);
  }, 240_000);
});
