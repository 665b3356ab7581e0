import { type SQL, sql } from 'drizzle-orm';
import {
  type AnySQLiteColumn,
  blob,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';
import type { Grade } from '../scan/types';

/** The single source of truth for Vigil's storage; drizzle-kit generates migrations/sqlite/ from it. */

export const SCAN_STATES = ['queued', 'running', 'done'] as const;
export type ScanState = (typeof SCAN_STATES)[number];

export const SCAN_OUTCOMES = ['ok', 'unreachable', 'error'] as const;
export type ScanOutcome = (typeof SCAN_OUTCOMES)[number];

export const SCAN_TRIGGERS = ['schedule', 'manual'] as const;
export type ScanTrigger = (typeof SCAN_TRIGGERS)[number];

/** A scan waiting for or holding a worker; written as a literal so SQLite can use the partial index. */
export function isActiveScan(state: AnySQLiteColumn): SQL {
  return sql`${state} in ('queued', 'running')`;
}

export const sites = sqliteTable(
  'sites',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The normalised target (formatTarget): host, with a port only when it is not 443. */
    host: text('host').notNull(),
    label: text('label').notNull().default(''),
    intervalMinutes: integer('interval_minutes').notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    allowPrivate: integer('allow_private', { mode: 'boolean' }).notNull().default(false),
    nextScanAt: integer('next_scan_at', { mode: 'timestamp_ms' }).notNull(),
    /** The newest finished scan, kept here so the overview is one join rather than a search per site. */
    lastScanId: integer('last_scan_id').references((): AnySQLiteColumn => scans.id, { onDelete: 'set null' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [
    uniqueIndex('sites_host_unique').on(table.host),
    index('sites_due_idx').on(table.enabled, table.nextScanAt),
    // Lets retention delete scans without scanning every site for the set-null foreign key.
    index('sites_last_scan_idx').on(table.lastScanId),
  ],
);

export const siteTags = sqliteTable(
  'site_tags',
  {
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    tag: text('tag').notNull(),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.tag] }), index('site_tags_tag_idx').on(table.tag)],
);

/** Findings of a scan, stored once per distinct content and referenced by every scan that saw them. */
export const findingSets = sqliteTable(
  'finding_sets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** sha256 of the canonical JSON of the findings. */
    hash: text('hash').notNull(),
    /** Canonical JSON, deflated. */
    body: blob('body', { mode: 'buffer' }).notNull(),
    critical: integer('critical').notNull(),
    high: integer('high').notNull(),
    medium: integer('medium').notNull(),
    low: integer('low').notNull(),
    info: integer('info').notNull(),
  },
  (table) => [uniqueIndex('finding_sets_hash_unique').on(table.hash)],
);

/** What a scan saw besides findings (addresses, Django detection, TLS summary, check results), deduplicated the same way. */
export const contextSets = sqliteTable(
  'context_sets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    hash: text('hash').notNull(),
    body: blob('body', { mode: 'buffer' }).notNull(),
  },
  (table) => [uniqueIndex('context_sets_hash_unique').on(table.hash)],
);

export const scans = sqliteTable(
  'scans',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    trigger: text('trigger', { enum: SCAN_TRIGGERS }).notNull(),
    state: text('state', { enum: SCAN_STATES }).notNull(),
    /** Times the scan was started; above 1 it was interrupted by a restart and re-queued. */
    attempts: integer('attempts').notNull().default(0),
    queuedAt: integer('queued_at', { mode: 'timestamp_ms' }).notNull(),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }),
    finishedAt: integer('finished_at', { mode: 'timestamp_ms' }),
    outcome: text('outcome', { enum: SCAN_OUTCOMES }),
    grade: text('grade').$type<Grade>(),
    score: integer('score'),
    durationMs: integer('duration_ms'),
    error: text('error'),
    // No foreign keys on the set ids: a check per deleted set would scan every scan; retention keeps them whole.
    findingSetId: integer('finding_set_id'),
    contextSetId: integer('context_set_id'),
  },
  (table) => [
    // A site's history in time order, covering what the history and trend read: one site's year is one
    // contiguous index range instead of a row lookup per scan scattered over the table.
    index('scans_site_history_idx').on(
      table.siteId,
      table.startedAt,
      table.state,
      table.outcome,
      table.grade,
      table.score,
      table.findingSetId,
    ),
    // At most one queued or running scan per site: the database itself refuses a second one.
    uniqueIndex('scans_active_site_unique').on(table.siteId).where(isActiveScan(table.state)),
  ],
);

/** Scans older than the retention period, folded into one row per site per UTC day. */
export const dailySummaries = sqliteTable(
  'daily_summaries',
  {
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    /** UTC day, YYYY-MM-DD. */
    day: text('day').notNull(),
    scans: integer('scans').notNull(),
    minScore: integer('min_score'),
    maxScore: integer('max_score'),
    lastScore: integer('last_score'),
    lastGrade: text('last_grade').$type<Grade>(),
    worstGrade: text('worst_grade').$type<Grade>(),
    lastOutcome: text('last_outcome', { enum: SCAN_OUTCOMES }).notNull(),
    lastScanAt: integer('last_scan_at', { mode: 'timestamp_ms' }).notNull(),
    lastFindingSetId: integer('last_finding_set_id'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.day] })],
);

/** Admin settings that override the environment defaults; value is JSON. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
});
