import type { Db } from '../db';

/** Admin settings: environment values are the defaults, the settings table overrides them. */
export interface Settings {
  /** Scan loopback/private addresses for every site (SPEC.md: VIGIL_ALLOW_PRIVATE, an admin setting). */
  allowPrivate: boolean;
  retentionDays: number;
  scanConcurrency: number;
  defaultIntervalMinutes: number;
}

/** What services may use besides their input; each service picks the parts it needs. */
export interface ServiceContext {
  db: Db;
  now: () => Date;
  defaults: Settings;
}

export const MIN_INTERVAL_MINUTES = 5;
export const MAX_INTERVAL_MINUTES = 30 * 24 * 60;
export const DEFAULT_INTERVAL_MINUTES = 6 * 60;
