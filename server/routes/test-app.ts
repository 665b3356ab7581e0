import { createApp } from '../app';
import { createTempDatabase } from '../db/temp-database';
import { createScheduler, type RunScan } from '../scheduler/scheduler';
import { createScriptedScan } from '../scheduler/scripted-scan';
import { DEFAULT_INTERVAL_MINUTES, type Settings } from '../services/context';

export const TEST_DEFAULTS: Settings = {
  allowPrivate: false,
  retentionDays: 400,
  scanConcurrency: 8,
  defaultIntervalMinutes: DEFAULT_INTERVAL_MINUTES,
};

/** A clock tests move by hand. */
export function createClock(start = new Date('2026-03-01T12:00:00.000Z')) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
    set(at: Date) {
      current = at.getTime();
    },
  };
}

/** The real app over a real temporary SQLite file, with a scheduler that only ticks when the test says so. */
export function createTestApp(options: { runScan?: RunScan; defaults?: Partial<Settings> } = {}) {
  const database = createTempDatabase();
  const clock = createClock();
  const scripted = createScriptedScan();
  const defaults = { ...TEST_DEFAULTS, ...options.defaults };
  const scheduler = createScheduler({
    db: database.db,
    runScan: options.runScan ?? scripted.runScan,
    defaults,
    now: clock.now,
    random: () => 0.5,
    tickCron: null,
  });
  const app = createApp({ db: database.db, scheduler, defaults, now: clock.now, dashboardDir: null });
  return {
    app,
    db: database.db,
    dataDir: database.dataDir,
    scheduler,
    clock,
    scripted,
    /** Closes the SQLite handle under the app, as if the file went away. */
    closeDatabase: database.close,
    async close() {
      await scheduler.stop({ graceMs: 1000 });
      database.remove();
    },
  };
}

export function jsonRequest(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Test assertions read arbitrary response JSON; `toMatchObject` does the checking. */
// biome-ignore lint/suspicious/noExplicitAny: the shape is what each test asserts.
export async function readJson(response: Response): Promise<any> {
  return response.json();
}
